import { type BatchStatus, type JobSchedulerClient, JobSchedulerError, type JobStatus, type Status } from '@job-scheduler/client';
import { EXIT } from './exit-codes.js';
import { batchesTable, batchText, jobsTable, jobText, type Output } from './output.js';

/** A name is a job's or a batch's: a job is asked for first (a batch's name is no job's). */
export async function jobOrBatch(client: JobSchedulerClient, name: string): Promise<{ job: JobStatus } | { batch: string }> {
  try {
    return { job: await client.getJob(name) };
  } catch (error) {
    if (error instanceof JobSchedulerError && error.code === 404) return { batch: name };
    throw error;
  }
}

/** The flags of `ls`. */
export interface ListFlags {
  status?: string;
  label: string[];
  limit?: number;
}

/** `ls batches`, `ls jobs` (single jobs) or `ls <batch>` (its jobs), at most `limit` of them. */
export async function list(client: JobSchedulerClient, what: string, flags: ListFlags, output: Output): Promise<number> {
  const filters = {
    ...(flags.status !== undefined && { status: flags.status.split(',') as never }),
    ...(flags.label.length > 0 && { labelSelector: flags.label.join(',') }),
    ...(flags.limit !== undefined && { limit: Math.min(flags.limit, 1000) }),
  };
  const take = async <T>(items: AsyncGenerator<T>): Promise<T[]> => {
    const taken: T[] = [];
    for await (const item of items) {
      taken.push(item);
      if (flags.limit !== undefined && taken.length >= flags.limit) break;
    }
    return taken;
  };
  if (what === 'batches') {
    const batches = await take(client.listBatches(filters));
    output.print(batches, () => batchesTable(batches));
  } else {
    const jobs = await take(what === 'jobs' ? client.listJobs(filters) : client.listBatchJobs(what, filters));
    output.print(jobs, () => jobsTable(jobs));
  }
  return EXIT.ok;
}

/** `get <name>`: a job's state, or a batch's with its counts. */
export async function get(client: JobSchedulerClient, name: string, output: Output): Promise<number> {
  const found = await jobOrBatch(client, name);
  if ('job' in found) output.print(found.job, () => jobText(found.job));
  else {
    const batch = await client.getBatchCounts(found.batch).catch((error: unknown) => {
      throw error instanceof JobSchedulerError && error.code === 404 ? new JobSchedulerError({ message: `no job or batch is named ${name}`, code: 404, reason: 'NotFound' }) : error;
    });
    output.print(batch, () => batchText(batch));
  }
  return EXIT.ok;
}

/** `stop`, `rm` and `restart` of a job (single or in a batch) or of a whole batch. */
export async function act(client: JobSchedulerClient, action: 'stop' | 'rm' | 'restart', name: string, output: Output): Promise<number> {
  const found = await jobOrBatch(client, name);
  let answer: Status | JobStatus | BatchStatus;
  if ('job' in found) {
    const batch = found.job.batchName;
    if (action === 'stop') answer = batch ? await client.stopBatchJob(batch, name) : await client.stopJob(name);
    else if (action === 'rm') answer = await client.deleteJob(name);
    else answer = batch ? await client.restartBatchJob(batch, name) : await client.restartJob(name);
  } else if (action === 'stop') answer = await client.stopBatch(name);
  else if (action === 'rm') answer = await client.deleteBatch(name);
  else answer = await client.restartBatch(name);
  const done = answer;
  output.print(done, () => ('name' in done ? `${done.name} ${done.status}` : done.message));
  return EXIT.ok;
}

/** The flags of `logs`. */
export interface LogFlags {
  follow?: boolean;
  tail?: number;
  attempt?: number;
}

/**
 * `logs <job>`: the attempt's output; with `--follow`, as it is written until the attempt ends (waiting for a
 * job that has not started yet). JSON output is one `{"line": ...}` per line.
 */
export async function logs(client: JobSchedulerClient, name: string, flags: LogFlags, output: Output, wait: (ms: number) => Promise<void>): Promise<number> {
  const options = { attempt: flags.attempt, tail: flags.tail };
  let pending = '';
  const emit = (chunk: string) => {
    if (output.format === 'text') return output.write(chunk);
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const line of lines) output.print({ line }, () => line);
  };
  if (!flags.follow) emit(await client.getJobLog(name, options));
  else {
    for (;;) {
      try {
        for await (const chunk of client.followJobLog(name, options)) emit(chunk);
        break;
      } catch (error) {
        // No log yet because the job has not started: wait for it rather than fail.
        if (!(error instanceof JobSchedulerError && error.code === 404)) throw error;
        const job = await client.getJob(name);
        if (job.status !== 'Waiting' && job.status !== 'Active') throw error;
        await wait(250);
      }
    }
  }
  if (pending) output.print({ line: pending }, () => pending);
  return EXIT.ok;
}
