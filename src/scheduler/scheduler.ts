import type { ComponentConfig } from '../config.js';
import { buildBatch } from '../core/accept.js';
import { ApiError } from '../core/errors.js';
import type { BatchDescription, BatchRecord, JobDescription, JobRecord, JobSettings, JobStatusValue } from '../core/model.js';
import { isTerminal } from '../core/model.js';
import { expiredBatches, type FinishedBatch, type HistoryPolicy } from '../core/history.js';
import { isInFlight } from '../core/status.js';
import { checkBatchDescription, checkJobDescription } from '../core/validate.js';
import { type BatchStatusView, batchStatusView, type JobStatusView, jobStatusView, success, type SuccessView } from '../core/view.js';
import type { Logger } from '../logger.js';
import { noObserver, type Observer } from '../metrics.js';
import type { Runtime } from '../runtimes/runtime.js';
import { createSuffixSource } from './ids.js';
import { type BatchEntry, StateIndex } from './state-index.js';

/** Told of every change the API can show, in order (the webhook notifier listens). */
export interface SchedulerListener {
  /** Every batch with its jobs, once the runtime is open and before any other call. */
  opened(batches: BatchStatusView[]): void;
  batchCreated(batch: BatchStatusView): void;
  jobChanged(batch: BatchStatusView, job: JobStatusView): void;
  batchDeleted(batch: BatchStatusView, jobNames: string[]): void;
}

export interface SchedulerOptions {
  runtime: Runtime;
  component: ComponentConfig;
  /** Most jobs in flight at once; the rest wait in the order they were accepted. */
  maxRunning: number;
  logger: Logger;
  observer?: Observer;
  listener?: SchedulerListener;
  /** Removes finished batches after an age, keeping the newest of each kind; off when absent. */
  history?: HistoryPolicy & { checkMs: number };
  now?: () => Date;
}

/**
 * The service the HTTP handlers call. It accepts batches (answering once the runtime recorded
 * them), starts waiting jobs in order within the concurrency cap, and answers reads from its
 * in-memory index, which the runtime's change events keep current.
 */
export class Scheduler {
  private readonly index: StateIndex;
  private readonly queue: string[] = [];
  private queueHead = 0;
  private readonly inFlight = new Set<string>();
  private readonly deleting = new Map<string, Promise<void>>();
  private readonly suffix = createSuffixSource();
  /** Job records are replaced, never changed, on every change: a record's JSON stays valid while it is current. */
  private readonly jsonCache = new WeakMap<JobRecord, string>();
  private readonly now: () => Date;
  private readonly componentSettings: JobSettings;
  private pumpScheduled = false;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private cleaning = false;
  private started = false;
  private closed = false;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    this.index = new StateIndex(options.component.batchStatusRules);
    const { name: _name, schedulerPort: _port, payload: _payload, notifications: _n, batchStatusRules: _rules, ...settings } = options.component;
    this.componentSettings = settings;
  }

  get isReady(): boolean {
    return this.started && !this.closed;
  }

  async start(): Promise<void> {
    const snapshot = await this.options.runtime.open({ jobChanged: (job) => this.onJobChanged(job) });
    const entries = new Map<string, BatchEntry>();
    for (const batch of snapshot.batches) entries.set(batch.name, this.index.addBatch(batch, []));
    const resume: JobRecord[] = [];
    for (const job of snapshot.jobs) {
      const entry = entries.get(job.batchName);
      if (!entry) continue;
      this.index.addJob(entry, job);
      if (job.status === 'Waiting') this.queue.push(job.name);
      else if (isInFlight(job.status)) resume.push(job);
    }
    this.started = true;
    this.options.listener?.opened([...this.index.allBatches()].map((entry) => this.batchView(entry, true)));
    for (const job of resume) this.launch(job);
    const history = this.options.history;
    if (history) {
      this.cleanupTimer = setInterval(() => void this.cleanHistory(history), history.checkMs);
      this.cleanupTimer.unref();
    }
    this.options.logger.info('scheduler started', { batches: snapshot.batches.length, jobs: snapshot.jobs.length, resumed: resume.length });
    this.pump();
  }

  async createJob(description: JobDescription): Promise<JobStatusView> {
    const checked = checkJobDescription(description);
    const entry = await this.accept({ jobScheduleDescriptions: [checked] }, 'job');
    return jobStatusView(entry.jobs[0]!, 'job');
  }

  async createBatch(description: BatchDescription): Promise<BatchStatusView> {
    const entry = await this.accept(checkBatchDescription(description), 'batch');
    return this.batchView(entry, true);
  }

  listJobs(): JobStatusView[] {
    const views: JobStatusView[] = [];
    for (const entry of this.index.allBatches()) {
      if (entry.batch.type === 'job') for (const job of entry.jobs) views.push(jobStatusView(job, 'job'));
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
    for (const entry of this.index.allBatches()) if (entry.batch.type === 'batch') views.push(this.batchView(entry, false));
    return views;
  }

  getBatch(name: string): BatchStatusView {
    return this.batchView(this.batchEntry(name), true);
  }

  /**
   * The same as `getBatch`, as JSON text: each job's JSON is kept until the job changes, so reading
   * a batch of 10,000 jobs joins strings instead of serialising every job again.
   */
  getBatchJson(name: string): string {
    const entry = this.batchEntry(name);
    const head = JSON.stringify(this.batchView(entry, false));
    const jobs = entry.jobs.map((job) => this.jobJson(job, entry.batch.type));
    return `${head.slice(0, -1)},"jobStatuses":[${jobs.join(',')}]}`;
  }

  getBatchJob(batchName: string, jobName: string): JobStatusView {
    return jobStatusView(this.jobOfBatch(batchName, jobName), 'batch');
  }

  async stopJob(name: string): Promise<SuccessView> {
    const job = this.singleJob(name, 'stop');
    if (job.status === 'Succeeded' || job.status === 'Failed') {
      throw ApiError.badRequest(`job ${name} has already ended with status ${job.status} and cannot be stopped`);
    }
    await this.stopJobs([job]);
    return success(`job ${name} successfully stopped`);
  }

  async stopBatchJob(batchName: string, jobName: string): Promise<SuccessView> {
    const job = this.jobOfBatch(batchName, jobName);
    if (job.status === 'Succeeded' || job.status === 'Failed') {
      throw ApiError.badRequest(`job ${jobName} in the batch ${batchName} has already ended with status ${job.status} and cannot be stopped`);
    }
    await this.stopJobs([job]);
    return success(`job ${jobName} in the batch ${batchName} successfully stopped`);
  }

  async stopBatch(name: string): Promise<SuccessView> {
    await this.stopJobs(this.batchEntry(name).jobs);
    return success(`batch ${name} successfully stopped`);
  }

  async stopAllJobs(): Promise<SuccessView> {
    await this.stopJobs(this.jobsOfType('job'));
    return success('all jobs successfully stopped');
  }

  async stopAllBatches(): Promise<SuccessView> {
    await this.stopJobs(this.jobsOfType('batch'));
    return success('all batches successfully stopped');
  }

  async deleteJob(name: string): Promise<SuccessView> {
    const job = this.singleJob(name, 'delete');
    await this.remove(this.index.batch(job.batchName)!);
    return success(`job ${name} successfully deleted`);
  }

  async deleteBatch(name: string): Promise<SuccessView> {
    await this.remove(this.batchEntry(name));
    return success(`batch ${name} successfully deleted`);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.cleanupTimer);
    await Promise.allSettled(this.deleting.values());
  }

  /** Deletes finished batches (and single jobs) past the history policy: records, files, cluster objects. */
  async cleanHistory(policy: HistoryPolicy): Promise<number> {
    if (this.cleaning || !this.isReady) return 0;
    this.cleaning = true;
    try {
      const finished: FinishedBatch[] = [];
      for (const entry of this.index.allBatches()) {
        const summary = this.index.summary(entry);
        if (summary.ended && entry.jobs.every((job) => isTerminal(job.status))) {
          finished.push({ name: entry.batch.name, type: entry.batch.type, status: summary.status, ended: summary.ended });
        }
      }
      const expired = expiredBatches(finished, policy, this.now());
      for (const name of expired) {
        const entry = this.index.batch(name);
        if (entry && !this.closed) await this.remove(entry);
      }
      if (expired.length > 0) this.options.logger.info('history cleaned', { batches: expired.length });
      return expired.length;
    } catch (error) {
      this.options.logger.error('history cleanup failed', { error: String(error) });
      return 0;
    } finally {
      this.cleaning = false;
    }
  }

  private async accept(description: BatchDescription, type: BatchRecord['type']): Promise<BatchEntry> {
    if (!this.isReady) throw ApiError.unavailable('the scheduler is not ready');
    const accepted = buildBatch({
      componentName: this.options.component.name,
      component: this.componentSettings,
      description,
      type,
      now: this.now(),
      suffix: this.suffix,
      taken: (name) => this.index.batch(name) !== undefined,
    });
    await this.options.runtime.accept(accepted);
    const records = accepted.jobs.map((job) => job.record);
    const entry = this.index.addBatch(accepted.batch, records);
    for (const job of records) this.queue.push(job.name);
    this.options.logger.info('batch accepted', { batchName: accepted.batch.name, type, jobs: records.length });
    (this.options.observer ?? noObserver).batchAccepted(type, records.length);
    this.options.listener?.batchCreated(this.batchView(entry, true));
    this.schedulePump();
    return entry;
  }

  /** Jobs tracked now (every batch and single job until deleted), for the tracked-jobs bound. */
  get trackedJobs(): number {
    return this.index.jobCount;
  }

  /** How many known jobs are in each status (for metrics). */
  statusCounts(): Map<JobStatusValue, number> {
    const counts = new Map<JobStatusValue, number>();
    for (const entry of this.index.allBatches()) {
      for (const [status, count] of Object.entries(entry.counts) as Array<[JobStatusValue, number]>) counts.set(status, (counts.get(status) ?? 0) + count);
    }
    return counts;
  }

  private onJobChanged(job: JobRecord): void {
    const previous = this.index.update(job);
    if (!previous) return;
    const listener = this.options.listener;
    if (listener) {
      const entry = this.index.job(job.name)!.entry;
      listener.jobChanged(this.batchView(entry, false), jobStatusView(job, entry.batch.type));
    }
    if (isTerminal(job.status) && !isTerminal(previous.status)) {
      const seconds = job.started && job.ended ? (Date.parse(job.ended) - Date.parse(job.started)) / 1000 : null;
      (this.options.observer ?? noObserver).jobEnded(job.status, seconds);
    }
    if (isInFlight(job.status)) {
      this.inFlight.add(job.name);
    } else if (this.inFlight.delete(job.name)) {
      this.schedulePump();
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Starts waiting jobs, oldest first, while fewer than the cap are in flight. */
  private pump(): void {
    if (!this.isReady) return;
    while (this.inFlight.size < this.options.maxRunning && this.queueHead < this.queue.length) {
      const name = this.queue[this.queueHead++]!;
      const found = this.index.job(name);
      if (found?.job.status === 'Waiting') this.launch(found.job);
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private launch(job: JobRecord): void {
    this.inFlight.add(job.name);
    this.options.runtime.launch(job).catch((error: unknown) => {
      this.options.logger.error('launch failed', { jobName: job.name, error });
    });
  }

  private async stopJobs(jobs: readonly JobRecord[]): Promise<void> {
    const running = jobs.filter((job) => !isTerminal(job.status) && job.status !== 'Stopping');
    await Promise.all(running.map((job) => this.options.runtime.stop(job)));
  }

  private async remove(entry: BatchEntry): Promise<void> {
    const name = entry.batch.name;
    let removal = this.deleting.get(name);
    if (!removal) {
      removal = this.options.runtime.remove(entry.batch, entry.jobs).then(() => {
        this.options.listener?.batchDeleted(this.batchView(entry, false), entry.jobs.map((job) => job.name));
        for (const job of entry.jobs) this.inFlight.delete(job.name);
        this.index.removeBatch(name);
        this.options.logger.info('batch deleted', { batchName: name });
      }).finally(() => this.deleting.delete(name));
      this.deleting.set(name, removal);
    }
    await removal;
    this.schedulePump();
  }

  private batchEntry(name: string): BatchEntry {
    const entry = this.index.batch(name);
    if (!entry || entry.batch.type !== 'batch') throw ApiError.notFound('batch', name);
    return entry;
  }

  private jobOfBatch(batchName: string, jobName: string): JobRecord {
    const entry = this.batchEntry(batchName);
    const found = this.index.job(jobName);
    if (!found || found.entry !== entry) throw ApiError.notFound('job', `${jobName} in the batch ${batchName}`);
    return found.job;
  }

  /** A job started on its own; a job of a batch is answered with where to find it. */
  private singleJob(name: string, verb: 'stop' | 'delete'): JobRecord {
    const found = this.index.job(name);
    if (!found) throw ApiError.notFound('job', name);
    if (found.entry.batch.type !== 'job') {
      const batch = found.entry.batch.name;
      const how = verb === 'stop' ? `POST /api/v1/batches/${batch}/jobs/${name}/stop` : `DELETE /api/v1/batches/${batch}`;
      throw ApiError.badRequest(`job ${name} belongs to the batch ${batch}; use ${how}`);
    }
    return found.job;
  }

  private jobsOfType(type: BatchRecord['type']): JobRecord[] {
    const jobs: JobRecord[] = [];
    for (const entry of this.index.allBatches()) {
      if (entry.batch.type === type) for (const job of entry.jobs) jobs.push(job);
    }
    return jobs;
  }

  private jobJson(job: JobRecord, type: BatchRecord['type']): string {
    let text = this.jsonCache.get(job);
    if (text === undefined) {
      text = JSON.stringify(jobStatusView(job, type));
      this.jsonCache.set(job, text);
    }
    return text;
  }

  private batchView(entry: BatchEntry, withJobs: boolean): BatchStatusView {
    const jobs = withJobs ? entry.jobs.map((job) => jobStatusView(job, entry.batch.type)) : undefined;
    return batchStatusView(entry.batch, this.index.summary(entry), jobs);
  }
}
