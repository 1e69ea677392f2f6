import type { Readable } from 'node:stream';
import { ApiError } from '../core/errors.js';
import type { JobRecord, JobSpec } from '../core/model.js';
import type { Runtime } from '../runtimes/runtime.js';
import type { StateIndex } from './state-index.js';

/** What `GET /jobs/{jobName}/logs` asks for; every field as the query gave it (validated against the API document). */
export interface LogQuery {
  attempt?: number;
  tail?: number;
  follow?: boolean;
  signal: AbortSignal;
}

/** The effective settings of a job: the component, its batch's defaults and its own description merged (no payload). */
export interface JobSettingsView {
  name: string;
  batchName: string;
  jobId?: string;
  settings: JobSpec;
}

export interface JobOutputOptions {
  index: StateIndex;
  runtime: Runtime;
  /** The component file's variables: the owner's, which may hold secrets (the README says to put them there). */
  componentVariables?: Readonly<Record<string, string>>;
}

/** Shown instead of the value of a variable that the component file set and the job did not override. */
export const HIDDEN_VALUE = '(set by the component file; not shown)';

/** What a job produced and was given: its attempts' logs, its payload and its effective settings. */
export class JobOutput {
  /** Readers of logs still open: a shutdown ends them, so that they do not hold it until its deadline. */
  private readonly readers = new Set<AbortController>();
  private closed = false;

  constructor(private readonly options: JobOutputOptions) {}

  /** Ends every log being read (a followed one ends as if its attempt had), and any asked for from now on at once. */
  close(): void {
    this.closed = true;
    for (const reader of this.readers) reader.abort();
  }

  settings(name: string): JobSettingsView {
    const job = this.job(name);
    const owner = this.options.componentVariables ?? {};
    const variables = Object.fromEntries(Object.entries(job.spec.variables).map(([key, value]) => [key, owner[key] === value ? HIDDEN_VALUE : value]));
    const settings = { ...job.spec, variables };
    return { name: job.name, batchName: job.batchName, ...(job.jobId === undefined ? {} : { jobId: job.jobId }), settings };
  }

  async payload(name: string): Promise<Buffer> {
    const payload = await this.options.runtime.readPayload(this.job(name));
    if (payload === undefined) throw ApiError.notFoundIn(`the payload of job ${name} is no longer kept`);
    return payload;
  }

  /** One attempt's log (the latest by default), as far as it is kept. */
  async log(name: string, query: LogQuery): Promise<Readable> {
    const job = this.job(name);
    const count = job.attempts.length;
    if (count === 0) throw ApiError.notFoundIn(`job ${name} has no log yet: it has not started (status ${job.status}); try again once it runs`);
    const attempt = query.attempt ?? count - 1;
    if (attempt >= count) {
      throw ApiError.notFoundIn(`job ${name} has no attempt ${attempt}: it has ${count} (attempt 0${count > 1 ? ` to ${count - 1}` : ''})`);
    }
    const reader = new AbortController();
    const abort = () => reader.abort();
    query.signal.addEventListener('abort', abort, { once: true });
    if (this.closed || query.signal.aborted) reader.abort();
    const log = await this.options.runtime.readLog(job, { attempt, tail: query.tail, follow: query.follow ?? false, signal: reader.signal });
    const done = () => {
      this.readers.delete(reader);
      query.signal.removeEventListener('abort', abort);
    };
    if (log) {
      this.readers.add(reader);
      log.once('close', done);
      return log;
    }
    done();
    const state = job.attempts[attempt]!;
    if (state.replicaStatus === 'Pending' || (state.startTime === null && state.endTime === null)) {
      throw ApiError.notFoundIn(`attempt ${attempt} of job ${name} has no log yet: it has not started; try again once it runs`);
    }
    throw ApiError.notFoundIn(`the log of attempt ${attempt} of job ${name} is not kept: the attempt wrote none, or it went with the attempt's pod (only a stopped job's output outlives its pod)`);
  }

  private job(name: string): JobRecord {
    const found = this.options.index.job(name);
    if (!found) throw ApiError.notFound('job', name);
    return found.job;
  }
}
