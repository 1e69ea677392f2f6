import type { ComponentConfig } from '../config.js';
import { ApiError } from '../core/errors.js';
import { keyBatchDeletedError, type SubmissionKey, submissionKey } from '../core/idempotency.js';
import type { HistoryPolicy } from '../core/history.js';
import type { BatchDescription, JobDescription, JobRecord, JobSettings, JobStatusValue } from '../core/model.js';
import { isTerminal } from '../core/model.js';
import { jobOutcome } from '../core/outcome.js';
import { isInFlight } from '../core/status.js';
import { fullRecord } from '../core/stored-job.js';
import { acceptedEntry, type JobTimeline } from '../core/timeline.js';
import { checkBatchDescription, checkBatchDescriptionInTurns, checkJobDescription } from '../core/validate.js';
import { type BatchStatusView, type JobStatusView, jobStatusView, success, type SuccessView } from '../core/view.js';
import type { Logger } from '../logger.js';
import { noObserver, type Observer } from '../metrics.js';
import type { Runtime } from '../runtimes/runtime.js';
import { AnnouncedListener } from './announcements.js';
import { Admission, batchViewInParts, type FixedNames, inParts, nextTurn } from './admission.js';
import { dryRun, type DryRunView } from './dry-run.js';
import { fingerprintOf, IdempotencyKeys, type PendingKey } from './idempotency.js';
import { HistoryCleaner } from './history-cleaner.js';
import { type BatchCopy, type CopyChecks, JobActions } from './job-actions.js';
import { JobOutput } from './job-output.js';
import type { ListParams } from './list-query.js';
import { type Listed, Lister } from './lister.js';
import { ReadModel } from './read-model.js';
import { RunQueue } from './run-queue.js';
import type { BatchEntry } from './state-index.js';

/**
 * A batch as the scheduler opened it: its state (without `jobStatuses`) and its jobs as the index holds them.
 * Finished jobs may be compact: `recordTransitionKey(job)` costs nothing, a view `jobStatusView(fullRecord(job))` reads the store.
 */
export interface OpenedBatch {
  view: BatchStatusView;
  jobs: readonly JobRecord[];
}

/** Told of every change the API can show, in order (the webhook notifier listens). */
export interface SchedulerListener {
  /**
   * Every batch with its jobs, once the runtime is open and before any other call. Batches whose jobs had all
   * finished may come later, in further calls, each before any other call about that batch.
   */
  opened(batches: OpenedBatch[]): void;
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
  /** How long an idempotency key answers the batch it created (default 24 h). */
  idempotencyWindowMs?: number;
}

/** A submission's answer, and whether it is the answer of an earlier request with the same idempotency key. */
export interface Submitted<T> {
  view: T;
  replayed: boolean;
}

/**
 * The service the HTTP handlers call. It wires admission (accept, then answer), the run queue (start waiting
 * jobs within the cap), the read model (answer reads from memory) and history cleanup; the runtime decides
 * nothing here and reports every change of a job, which feeds the index, the queue and the listener.
 */
export class Scheduler {
  /** Jobs' logs, payloads and effective settings. */
  readonly output: JobOutput;
  private readonly reads: ReadModel;
  private readonly queue: RunQueue;
  private readonly admission: Admission;
  private readonly history: HistoryCleaner;
  private readonly lister: Lister;
  private readonly actions: JobActions;
  private readonly keys: IdempotencyKeys;
  private readonly settings: JobSettings;
  private readonly deleting = new Map<string, Promise<void>>();
  /** The options' listener, holding what comes before a batch's Create until it is told. */
  private readonly listener: AnnouncedListener | undefined;
  private readonly now: () => Date;
  private started = false;
  private closed = false;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    this.listener = options.listener && new AnnouncedListener(options.listener);
    this.reads = new ReadModel(options.component.batchStatusRules, options.runtime.recordSource);
    this.output = new JobOutput({ index: this.reads.index, runtime: options.runtime, componentVariables: options.component.variables });
    this.lister = new Lister(this.reads, this.reads.listing, options.component.batchStatusRules);
    const { name: _name, schedulerPort: _port, payload: _payload, notifications: _n, batchStatusRules: _rules, safeToRestart: _safe, allowOverrides: _allow, idempotentBatchId: _key, ...settings } = options.component;
    this.settings = settings;
    this.keys = new IdempotencyKeys({ windowMs: options.idempotencyWindowMs ?? 86_400_000, now: this.now });
    this.queue = new RunQueue({
      maxRunning: options.maxRunning,
      current: (name) => this.reads.index.job(name)?.job,
      deleting: (batchName) => this.deleting.has(batchName),
      single: (batchName) => this.reads.index.batch(batchName)?.batch.type === 'job',
      launch: (job) => this.launch(job),
      lookAhead: () => options.runtime.lookAhead?.() ?? 0,
    });
    this.admission = new Admission({
      componentName: options.component.name, componentSettings: settings, runtime: options.runtime, reads: this.reads,
      logger: options.logger, observer: options.observer, now: this.now,
      indexing: (name) => this.listener?.begin(name),
    });
    this.history = new HistoryCleaner({
      policy: options.history ?? { maxAgeMs: Infinity, keep: 0, checkMs: 0 }, index: this.reads.index, logger: options.logger, now: this.now,
      remove: (name) => this.remove(this.reads.index.batch(name)!),
    });
    this.actions = new JobActions({
      runtime: options.runtime, reads: this.reads, componentSettings: settings, logger: options.logger,
      isReady: () => this.isReady, deleting: (batchName) => this.deleting.has(batchName), accept: (description, type) => this.accept(description, type),
      requeue: (names) => {
        for (const name of names) this.queue.push(name);
        this.queue.schedule();
      },
    });
  }

  get isReady(): boolean {
    return this.started && !this.closed;
  }

  async start(): Promise<void> {
    const snapshot = await this.options.runtime.open({ jobChanged: (job) => this.onJobChanged(job), runEnded: (name) => this.queue.release(name) });
    const { index } = this.reads;
    this.keys.load(snapshot.idempotency ?? []);
    const entries = new Map<string, BatchEntry>();
    // Batches whose jobs had all finished are read after the start (see `StateIndex.defer`), each told to the listener once read.
    const finished = snapshot.finished?.batchNames.size ? snapshot.finished : undefined;
    if (finished) index.defer(finished, (entry) => this.listener?.opened([{ view: this.reads.batchView(entry, false), jobs: entry.jobs }]));
    for (const batch of snapshot.batches) {
      if (finished?.batchNames.has(batch.name)) index.addDeferredBatch(batch);
      else entries.set(batch.name, index.addBatch(batch, []));
    }
    const resume: JobRecord[] = [];
    for (const job of snapshot.jobs) {
      const entry = entries.get(job.batchName);
      if (!entry) continue;
      index.addJob(entry, job);
      if (job.status === 'Waiting') this.queue.push(job.name);
      else if (isInFlight(job.status)) resume.push(job);
    }
    this.started = true;
    this.listener?.opened([...index.loadedBatches()].map((entry) => ({ view: this.reads.batchView(entry, false), jobs: entry.jobs })));
    for (const job of resume) this.queue.resume(job);
    if (this.options.history) this.history.start();
    this.options.logger.info('scheduler started', { batches: snapshot.batches.length, jobs: snapshot.jobs.length + (finished?.jobCount ?? 0), resumed: resume.length });
    this.queue.open();
  }

  /**
   * Reads the jobs of batches that had all finished at the start, a part per turn of the event loop, once the
   * service answers (reads that need some of them meanwhile read those at once).
   */
  loadInBackground(): void {
    const started = performance.now();
    const { logger } = this.options;
    this.reads.index.loadInBackground({
      onError: (error) => logger.error('reading finished jobs failed; reads read what they need', { error: String(error) }),
      onDone: () => logger.info('finished jobs read', { ms: Math.round(performance.now() - started) }),
    });
  }

  async createJob(description: JobDescription): Promise<JobStatusView> {
    const entry = await this.accept({ jobScheduleDescriptions: [checkJobDescription(description)] }, 'job');
    return jobStatusView(entry.jobs[0]!, 'job');
  }

  /**
   * A scheduled run: a single job without payload, under names derived from its tick, so that a second attempt
   * at the same tick is refused (409 here, or by the runtime's durable record) instead of running twice.
   */
  async createScheduledJob(names: FixedNames, labels: Record<string, string>): Promise<JobStatusView> {
    const entry = await this.accept({ jobScheduleDescriptions: [checkJobDescription({ labels })] }, 'job', { fixedNames: names });
    return jobStatusView(entry.jobs[0]!, 'job');
  }

  /** With `withJobs: false` (a streamed submission of many jobs), the answer leaves out `jobStatuses`. */
  async createBatch(description: BatchDescription, options: { withJobs?: boolean } = {}): Promise<BatchStatusView> {
    const entry = await this.accept(await checkBatchDescriptionInTurns(description, nextTurn), 'batch');
    return this.reads.batchView(entry, options.withJobs ?? true);
  }

  /** `createJob`, once per idempotency key (when one is given): a repeat with the same body answers the first's job as it is now. */
  async submitJob(description: JobDescription, options: { idempotencyKey?: string } = {}): Promise<Submitted<JobStatusView>> {
    const key = submissionKey({ header: options.idempotencyKey, batchIdIsKey: false });
    if (!key) return { view: await this.createJob(description), replayed: false };
    const checked = { jobScheduleDescriptions: [checkJobDescription(description)] };
    const { entry, replayed } = await this.acceptOnce(checked, 'job', key);
    return { view: jobStatusView(entry.jobs[0]!, 'job'), replayed };
  }

  /** `createBatch`, once per idempotency key: the header's, or the batchId where the component makes it the key. */
  async submitBatch(description: BatchDescription, options: { idempotencyKey?: string; withJobs?: boolean } = {}): Promise<Submitted<BatchStatusView>> {
    const key = submissionKey({ header: options.idempotencyKey, batchId: description.batchId, batchIdIsKey: this.options.component.idempotentBatchId === true });
    if (!key) return { view: await this.createBatch(description, options), replayed: false };
    const { entry, replayed } = await this.acceptOnce(await checkBatchDescriptionInTurns(description, nextTurn), 'batch', key);
    return { view: this.reads.batchView(entry, options.withJobs ?? true), replayed };
  }

  /**
   * Whether a submission with this key (the header's, or a batchId where that is the key) would answer a batch
   * already made rather than add jobs: the tracked-jobs bound does not apply to it.
   */
  answersKnownKey(idempotencyKey: string | undefined, batchId?: string): boolean {
    const key = submissionKey({ header: idempotencyKey, batchId, batchIdIsKey: this.options.component.idempotentBatchId === true });
    return key !== undefined && this.keys.knows(key);
  }

  /** The effective settings every job of a submission would get; nothing is recorded, started or told. */
  dryRun(description: BatchDescription, type: 'job' | 'batch'): Promise<DryRunView> {
    const checked = type === 'job' ? { jobScheduleDescriptions: [checkJobDescription(description.jobScheduleDescriptions[0]!)] } : checkBatchDescription(description);
    return dryRun({ component: this.settings, componentVariables: this.options.component.variables ?? {}, description: checked, type });
  }

  listJobs(): JobStatusView[] {
    return this.reads.listJobs();
  }

  /** Single jobs, filtered and paged as `params` say (all of them without params). */
  listJobsPage(params: ListParams): Listed<JobStatusView[]> {
    return isEmpty(params) ? { items: this.reads.listJobs() } : this.lister.listJobs(params);
  }

  getJob(name: string): JobStatusView {
    return this.reads.getJob(name);
  }

  listBatches(): BatchStatusView[] {
    return this.reads.listBatches();
  }

  /** Batches, filtered and paged as `params` say (all of them without params). */
  listBatchesPage(params: ListParams): Listed<BatchStatusView[]> {
    return isEmpty(params) ? { items: this.reads.listBatches() } : this.lister.listBatches(params);
  }

  getBatch(name: string): BatchStatusView {
    return this.reads.getBatch(name);
  }

  getBatchJson(name: string): string {
    return this.reads.getBatchJson(name);
  }

  /** A batch as JSON text, with its jobs chosen and paged as `params` say (all of them without params). */
  getBatchPage(name: string, params: ListParams): Listed<string> {
    return this.lister.batchJson(name, params);
  }

  getBatchJob(batchName: string, jobName: string): JobStatusView {
    return this.reads.getBatchJob(batchName, jobName);
  }

  /** A job's status timeline (single or in a batch), from the runtime; only its acceptance when the runtime keeps none. */
  jobTimeline(name: string): { batchName: string; timeline: JobTimeline } {
    const found = this.reads.index.job(name);
    if (!found) throw ApiError.notFound('job', name);
    const timeline = this.options.runtime.timeline?.(found.job) ?? { entries: [acceptedEntry(found.job)], dropped: 0, complete: false };
    return { batchName: found.entry.batch.name, timeline };
  }

  /** Whether a batch (not a single job) of this name is known. */
  hasBatch(name: string): boolean {
    return this.reads.index.batch(name)?.batch.type === 'batch';
  }

  statusCounts(): Map<JobStatusValue, number> {
    return this.reads.statusCounts();
  }

  async stopJob(name: string): Promise<SuccessView> {
    const job = this.reads.singleJob(name, 'stop');
    if (job.status === 'Succeeded' || job.status === 'Failed') {
      throw ApiError.badRequest(`job ${name} has already ended with status ${job.status} and cannot be stopped`);
    }
    await this.stopJobs([job]);
    return success(`job ${name} successfully stopped`);
  }

  async stopBatchJob(batchName: string, jobName: string): Promise<SuccessView> {
    await this.admission.indexed(batchName);
    const job = this.reads.jobOfBatch(batchName, jobName);
    if (job.status === 'Succeeded' || job.status === 'Failed') {
      throw ApiError.badRequest(`job ${jobName} in the batch ${batchName} has already ended with status ${job.status} and cannot be stopped`);
    }
    await this.stopJobs([job]);
    return success(`job ${jobName} in the batch ${batchName} successfully stopped`);
  }

  async stopBatch(name: string): Promise<SuccessView> {
    await this.admission.indexed(name);
    await this.stopJobs(this.reads.batchEntry(name).jobs);
    return success(`batch ${name} successfully stopped`);
  }

  async stopAllJobs(): Promise<SuccessView> {
    await this.stopJobs(this.reads.jobsOfType('job'));
    return success('all jobs successfully stopped');
  }

  async stopAllBatches(): Promise<SuccessView> {
    await this.admission.indexed();
    await this.stopJobs(this.reads.jobsOfType('batch'));
    return success('all batches successfully stopped');
  }

  async deleteJob(name: string): Promise<SuccessView> {
    const job = this.reads.singleJob(name, 'delete');
    await this.remove(this.reads.index.batch(job.batchName)!);
    return success(`job ${name} successfully deleted`);
  }

  async deleteBatch(name: string): Promise<SuccessView> {
    await this.remove(this.reads.batchEntry(name));
    return success(`batch ${name} successfully deleted`);
  }

  /** Runs an ended single job again under its name (see job-actions.ts). */
  restartJob(name: string): Promise<JobStatusView> {
    return this.actions.restartJob(name);
  }

  restartBatchJob(batchName: string, jobName: string): Promise<JobStatusView> {
    return this.actions.restartBatchJob(batchName, jobName);
  }

  /** Runs every ended job of the batch again. */
  restartBatch(name: string): Promise<BatchStatusView> {
    return this.actions.restartBatch(name, 'ended');
  }

  /** Runs the batch's jobs that ended Failed or Stopped again. */
  rerunFailedJobs(name: string): Promise<BatchStatusView> {
    return this.actions.restartBatch(name, 'unsuccessful');
  }

  copyJob(name: string, override: JobDescription, checks?: CopyChecks): Promise<JobStatusView> {
    return this.actions.copyJob(name, override, checks);
  }

  copyBatch(name: string, copy: BatchCopy, checks?: CopyChecks): Promise<BatchStatusView> {
    return this.actions.copyBatch(name, copy, checks);
  }

  /** Deletes finished batches past the history policy now (also done on a timer); answers how many. */
  cleanHistory(policy?: HistoryPolicy): Promise<number> {
    return this.history.clean(policy);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.output.close();
    this.queue.close();
    this.history.close();
    this.reads.index.close();
    await Promise.allSettled(this.deleting.values());
  }

  private async acceptOnce(description: BatchDescription, type: 'job' | 'batch', key: SubmissionKey): Promise<{ entry: BatchEntry; replayed: boolean }> {
    if (!this.isReady) throw ApiError.unavailable('the scheduler is not ready');
    const fingerprint = await fingerprintOf(type, description);
    const { batchName, replayed } = await this.keys.submit(key, fingerprint, async (pending) => (await this.accept(description, type, { idempotency: pending })).batch.name);
    const entry = this.reads.index.batch(batchName);
    if (!entry || this.deleting.has(batchName)) throw keyBatchDeletedError(key.source, batchName);
    if (replayed) this.options.logger.info('submission replayed', { batchName, keySource: key.source });
    return { entry, replayed };
  }

  private async accept(description: BatchDescription, type: 'job' | 'batch', extra: { fixedNames?: FixedNames; idempotency?: PendingKey } = {}): Promise<BatchEntry> {
    if (!this.isReady) throw ApiError.unavailable('the scheduler is not ready');
    const entry = await this.admission.accept(description, type, extra);
    // Told before any of its jobs can start; queued a part per turn (a 100,000-job batch at once held the loop).
    const { listener } = this;
    if (listener) {
      try {
        listener.batchCreated(await batchViewInParts(this.reads, entry));
      } finally {
        listener.release(entry.batch.name);
      }
    }
    await inParts(entry.jobs, (job) => this.queue.push(job.name));
    this.queue.schedule();
    return entry;
  }

  /** Jobs tracked now (every batch and single job until deleted), for the tracked-jobs bound. */
  get trackedJobs(): number {
    return this.reads.index.jobCount;
  }

  private onJobChanged(job: JobRecord): void {
    const { index } = this.reads;
    const previous = index.update(job);
    if (!previous) return;
    const { listener } = this;
    if (listener) {
      const entry = index.entryOf(job.name)!;
      listener.jobChanged(this.reads.batchView(entry, false), jobStatusView(job, entry.batch.type));
    }
    if (isTerminal(job.status) && !isTerminal(previous.status)) {
      const seconds = job.started && job.ended ? (Date.parse(job.ended) - Date.parse(job.started)) / 1000 : null;
      (this.options.observer ?? noObserver).jobEnded(job.status, seconds);
      this.options.logger.info('job ended', jobOutcome(job));
    }
    this.queue.jobChanged(job);
  }

  private launch(job: JobRecord): void {
    this.options.runtime.launch(job).catch((error: unknown) => {
      this.options.logger.error('launch failed', { jobName: job.name, error: String(error) });
    });
  }

  private async stopJobs(jobs: readonly JobRecord[]): Promise<void> {
    const running = jobs.filter((job) => !isTerminal(job.status) && job.status !== 'Stopping');
    await Promise.all(running.map((job) => this.options.runtime.stop(job)));
  }

  /** Deletes a batch once: a second request for the same batch waits for the first. */
  private async remove(entry: BatchEntry): Promise<void> {
    const name = entry.batch.name;
    let removal = this.deleting.get(name);
    if (!removal) {
      removal = this.options.runtime.remove(entry.batch, entry.jobs.map(fullRecord)).then(() => {
        this.listener?.batchDeleted(this.reads.batchView(entry, false), entry.jobs.map((job) => job.name));
        this.reads.index.removeBatch(name);
        this.queue.forget(entry.jobs.map((job) => job.name));
        this.options.logger.info('batch deleted', { batchName: name });
      }).finally(() => this.deleting.delete(name));
      this.deleting.set(name, removal);
    }
    await removal;
  }
}

function isEmpty(params: ListParams): boolean {
  return Object.values(params).every((value) => value === undefined);
}
