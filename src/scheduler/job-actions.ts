import { copyDescription, ownLabels } from '../core/copy.js';
import { ApiError } from '../core/errors.js';
import type { Labels } from '../core/labels.js';
import type { BatchDescription, JobDescription, JobRecord, JobSettings } from '../core/model.js';
import { isRestartable, restartProblem, type RestartScope } from '../core/restart.js';
import { fullRecord } from '../core/stored-job.js';
import { checkBatchDescription, checkJobDescription } from '../core/validate.js';
import { type BatchStatusView, type JobStatusView, jobStatusView } from '../core/view.js';
import type { Logger } from '../logger.js';
import type { Runtime } from '../runtimes/runtime.js';
import type { ReadModel } from './read-model.js';
import type { BatchEntry } from './state-index.js';

/** What the copy of a batch changes (`BatchCopyDescription`). */
export interface BatchCopy {
  batchId?: string;
  labels?: Labels;
  defaultRadixJobComponentConfig?: JobSettings;
}

export interface JobActionsOptions {
  runtime: Runtime;
  reads: ReadModel;
  /** The component's own settings: a copy overrides only what the original job did beyond them. */
  componentSettings: JobSettings;
  logger: Logger;
  isReady(): boolean;
  /** Whether the batch is being deleted. */
  deleting(batchName: string): boolean;
  /** Restarted jobs are waiting again: they start through the run queue, within the cap. */
  requeue(names: readonly string[]): void;
  /** Admits a new batch (limits, durable before the answer) and answers its entry. */
  accept(description: BatchDescription, type: 'job' | 'batch'): Promise<BatchEntry>;
}

/** Checks made before a copy is admitted, with the number of jobs it adds (the HTTP layer's tracked-jobs bound). */
export interface CopyChecks {
  beforeAccept?(jobs: number): void;
  /**
   * Checks what a copy inherits from its original (at `path`: `''` for a job, `jobScheduleDescriptions[i].` in a batch)
   * against what clients may set now: the component's policy or its own settings may have changed since.
   */
  inherited?(description: JobDescription, path: string): void;
}

/** Jobs whose payloads are read at once while a copy is built. */
const PAYLOAD_READS = 64;

/**
 * Restart, rerun-failed and copy, for the scheduler. Which job may run again and what its record becomes is
 * decided in the core (restart.ts, copy.ts); the runtime records the restart durably and reports each job's
 * change, which the scheduler's index, queue and listeners (webhook, live events) follow as for any change.
 */
export class JobActions {
  constructor(private readonly options: JobActionsOptions) {}

  async restartJob(name: string): Promise<JobStatusView> {
    const found = this.options.reads.index.job(name);
    if (!found) throw ApiError.notFound('job', name);
    if (found.entry.batch.type !== 'job') {
      const batch = found.entry.batch.name;
      throw ApiError.badRequest(`job ${name} belongs to the batch ${batch}; use POST /api/v1/batches/${batch}/jobs/${name}/restart`);
    }
    return this.restartOne(found.entry, found.job);
  }

  async restartBatchJob(batchName: string, jobName: string): Promise<JobStatusView> {
    const job = this.options.reads.jobOfBatch(batchName, jobName);
    return this.restartOne(this.options.reads.batchEntry(batchName), job);
  }

  /** Runs again every ended job of the batch (`ended`), or those that did not succeed (`unsuccessful`). */
  async restartBatch(batchName: string, scope: RestartScope): Promise<BatchStatusView> {
    const entry = this.options.reads.batchEntry(batchName);
    this.checkOpen(entry);
    const jobs = entry.jobs.filter((job) => isRestartable(job.status, scope) && !job.intent).map(fullRecord);
    if (jobs.length === 0) {
      throw ApiError.badRequest(scope === 'ended'
        ? `no job of the batch ${batchName} has ended; stop the batch first, or wait for its jobs to end, then restart it`
        : `no job of the batch ${batchName} ended Failed or Stopped; nothing to rerun`);
    }
    await this.restart(jobs);
    this.options.logger.info('batch restarted', { batchName, jobs: jobs.length, scope });
    return this.options.reads.apiBatchView(entry, true);
  }

  /** A new single job with the job's settings and payload; `override` wins over them. */
  async copyJob(name: string, override: JobDescription, checks: CopyChecks = {}): Promise<JobStatusView> {
    const found = this.options.reads.index.job(name);
    if (!found) throw ApiError.notFound('job', name);
    checks.beforeAccept?.(1);
    // A single job keeps all its labels (its batch's too): it has no batch to have them from.
    const [copied] = await this.copies(undefined, [found.job], override);
    checks.inherited?.(copied!, '');
    const entry = await this.options.accept({ jobScheduleDescriptions: [checkJobDescription(copied!)] }, 'job');
    this.options.logger.info('job copied', { jobName: name, copy: entry.jobs[0]!.name });
    return jobStatusView(entry.jobs[0]!, 'job');
  }

  /** A new batch with one new job per job of the batch (same order, ids, settings, payloads), `copy` applied. */
  async copyBatch(batchName: string, copy: BatchCopy, checks: CopyChecks = {}): Promise<BatchStatusView> {
    const source = this.options.reads.batchEntry(batchName);
    checks.beforeAccept?.(source.jobs.length);
    const jobs = source.jobs.map(fullRecord);
    const override = copy.defaultRadixJobComponentConfig ?? {};
    const descriptions = await this.copies(source.batch.labels, jobs, override);
    descriptions.forEach((description, i) => checks.inherited?.(description, `jobScheduleDescriptions[${i}].`));
    const labels = copy.labels ?? source.batch.labels;
    const batchId = copy.batchId ?? source.batch.batchId;
    const description: BatchDescription = {
      ...(batchId === undefined ? {} : { batchId }),
      ...(labels === undefined ? {} : { labels }),
      jobScheduleDescriptions: descriptions,
    };
    const entry = await this.options.accept(checkBatchDescription(description), 'batch');
    this.options.logger.info('batch copied', { batchName, copy: entry.batch.name, jobs: entry.jobs.length });
    return this.options.reads.batchView(entry, true);
  }

  private async restartOne(entry: BatchEntry, job: JobRecord): Promise<JobStatusView> {
    this.checkOpen(entry);
    const problem = restartProblem(job);
    if (problem) throw ApiError.badRequest(problem);
    await this.restart([job]);
    this.options.logger.info('job restarted', { jobName: job.name });
    return jobStatusView(this.options.reads.index.job(job.name)!.job, entry.batch.type);
  }

  private async restart(jobs: readonly JobRecord[]): Promise<void> {
    await this.options.runtime.restart(jobs);
    this.options.requeue(jobs.map((job) => job.name));
  }

  private checkOpen(entry: BatchEntry): void {
    if (!this.options.isReady()) throw ApiError.unavailable('the scheduler is not ready');
    if (this.options.deleting(entry.batch.name)) throw ApiError.badRequest(`the batch ${entry.batch.name} is being deleted and cannot be restarted`);
  }

  /** The descriptions of copies of `jobs`, payloads read from the runtime a few at a time. */
  private async copies(batchLabels: Labels | undefined, jobs: readonly JobRecord[], override: JobDescription): Promise<JobDescription[]> {
    const { runtime, componentSettings } = this.options;
    const descriptions: JobDescription[] = [];
    for (let start = 0; start < jobs.length; start += PAYLOAD_READS) {
      const part = jobs.slice(start, start + PAYLOAD_READS);
      const payloads = await Promise.all(part.map((job) => runtime.readPayload(job)));
      part.forEach((job, i) => {
        const labels = ownLabels(job.spec.labels, batchLabels);
        const copied = { spec: job.spec, ...(job.jobId === undefined ? {} : { jobId: job.jobId }), payload: payloads[i]?.toString('utf8'), ...(labels ? { labels } : {}) };
        descriptions.push(copyDescription(copied, componentSettings, override));
      });
    }
    return descriptions;
  }
}
