import { ApiError } from '../core/errors.js';
import type { BatchRecord, JobRecord, JobStatusValue } from '../core/model.js';
import { type BatchStatusRule, deriveBatchStatus } from '../core/status.js';
import { fullRecord, type JobRecordSource, StoredJob } from '../core/stored-job.js';
import { type BatchStatusView, batchStatusView, type JobStatusView, jobStatusView } from '../core/view.js';
import { FinishedBatchJson } from './finished-batch-json.js';
import { ListingIndex } from './listing.js';
import { type BatchEntry, StateIndex } from './state-index.js';

/**
 * What the API reads: batches and jobs as Radix views, from the in-memory index that the runtime's change
 * events keep current. A read never calls the runtime.
 */
export class ReadModel {
  readonly index: StateIndex;
  /** Secondary indexes for filtered, paged lists, fed by the state index. */
  readonly listing: ListingIndex;
  /**
   * Job records are replaced, never changed, on every change: a record's JSON stays valid while it is current.
   * A finished job kept compact has none: its JSON would cost more memory than the job itself.
   */
  private readonly jsonCache = new WeakMap<JobRecord, string>();
  private readonly finishedBatches = new FinishedBatchJson((entry) => this.index.batch(entry.batch.name) === entry);

  /** With a `source` of records (the local runtime's store), finished jobs are kept compact (see `StateIndex`). */
  constructor(rules: BatchStatusRule[] | undefined, source?: JobRecordSource) {
    this.listing = new ListingIndex((entry) => deriveBatchStatus(entry.counts, entry.jobs.length, rules));
    this.index = new StateIndex(rules, this.listing, source);
    this.listing.loadAllWith(() => this.index.loadAll());
  }

  listJobs(): JobStatusView[] {
    const views: JobStatusView[] = [];
    for (const entry of this.index.allBatches()) {
      if (entry.batch.type === 'job') for (const job of entry.jobs) views.push(jobStatusView(fullRecord(job), 'job'));
    }
    return views;
  }

  getJob(name: string): JobStatusView {
    const found = this.index.job(name);
    if (!found) throw ApiError.notFound('job', name);
    return jobStatusView(found.job, found.entry.batch.type);
  }

  listBatches(): BatchStatusView[] {
    const views: BatchStatusView[] = [];
    for (const entry of this.index.allBatches()) if (entry.batch.type === 'batch') views.push(this.apiBatchView(entry, false));
    return views;
  }

  getBatch(name: string): BatchStatusView {
    return this.apiBatchView(this.batchEntry(name), true);
  }

  /**
   * The same as `getBatch`, as JSON text: each job's JSON is kept until the job changes, so reading a batch of
   * 10,000 jobs joins strings instead of serialising every job again (a finished batch's, kept compact, is kept
   * deflated: see `FinishedBatchJson`). `pick` chooses the jobs answered (all when not given; when it answers
   * undefined: none, and no `jobStatuses`).
   */
  getBatchJson(name: string, pick?: (entry: BatchEntry) => readonly JobRecord[] | undefined): string {
    const entry = this.batchEntry(name);
    const head = JSON.stringify(this.apiBatchView(entry, false));
    const jobsJson = (jobs: readonly JobRecord[]) => `[${jobs.map((job) => this.jobJson(job, entry.batch.type)).join(',')}]`;
    let jobs: string;
    if (pick) {
      const picked = pick(entry);
      if (!picked) return head;
      jobs = jobsJson(picked);
    } else {
      jobs = this.finishedBatches.jobsJson(entry, () => jobsJson(entry.jobs)) ?? jobsJson(entry.jobs);
    }
    return `${head.slice(0, -1)},"jobStatuses":${jobs}}`;
  }

  getBatchJob(batchName: string, jobName: string): JobStatusView {
    return jobStatusView(this.jobOfBatch(batchName, jobName), 'batch');
  }

  /** How many known jobs are in each status (for metrics). */
  statusCounts(): Map<JobStatusValue, number> {
    const counts = new Map<JobStatusValue, number>();
    for (const entry of this.index.allBatches()) {
      for (const [status, count] of Object.entries(entry.counts) as Array<[JobStatusValue, number]>) counts.set(status, (counts.get(status) ?? 0) + count);
    }
    return counts;
  }

  batchEntry(name: string): BatchEntry {
    const entry = this.index.batch(name);
    if (!entry || entry.batch.type !== 'batch') throw ApiError.notFound('batch', name);
    return entry;
  }

  jobOfBatch(batchName: string, jobName: string): JobRecord {
    const entry = this.batchEntry(batchName);
    const found = this.index.job(jobName);
    if (!found || found.entry !== entry) throw ApiError.notFound('job', `${jobName} in the batch ${batchName}`);
    return found.job;
  }

  /** A job started on its own; a job of a batch is answered with where to find it. */
  singleJob(name: string, verb: 'stop' | 'delete'): JobRecord {
    const found = this.index.job(name);
    if (!found) throw ApiError.notFound('job', name);
    if (found.entry.batch.type !== 'job') {
      const batch = found.entry.batch.name;
      const how = verb === 'stop' ? `POST /api/v1/batches/${batch}/jobs/${name}/stop` : `DELETE /api/v1/batches/${batch}`;
      throw ApiError.badRequest(`job ${name} belongs to the batch ${batch}; use ${how}`);
    }
    return found.job;
  }

  /** The jobs as the index holds them (finished ones may be compact). */
  jobsOfType(type: BatchRecord['type']): JobRecord[] {
    const jobs: JobRecord[] = [];
    for (const entry of this.index.allBatches()) {
      if (entry.batch.type === type) for (const job of entry.jobs) jobs.push(job);
    }
    return jobs;
  }

  jobView(job: JobRecord, entry: BatchEntry): JobStatusView {
    return jobStatusView(fullRecord(job), entry.batch.type);
  }

  /** A batch as the API's reads answer it: with how many of its jobs are in each status. */
  apiBatchView(entry: BatchEntry, withJobs: boolean): BatchStatusView {
    const view = this.batchView(entry, withJobs);
    view.jobCounts = { ...entry.counts };
    return view;
  }

  batchView(entry: BatchEntry, withJobs: boolean): BatchStatusView {
    const jobs = withJobs ? entry.jobs.map((job) => jobStatusView(fullRecord(job), entry.batch.type)) : undefined;
    return batchStatusView(entry.batch, this.index.summary(entry), jobs);
  }

  private jobJson(job: JobRecord, type: BatchRecord['type']): string {
    if (job instanceof StoredJob) return JSON.stringify(jobStatusView(job.full(), type));
    let text = this.jsonCache.get(job);
    if (text === undefined) {
      text = JSON.stringify(jobStatusView(job, type));
      this.jsonCache.set(job, text);
    }
    return text;
  }
}
