import type { BatchRecord, FinishedJobs, JobRecord } from '../core/model.js';
import { isTerminal } from '../core/model.js';
import { fullRecord, type JobRecordSource, StoredJob } from '../core/stored-job.js';
import { Compactor } from './compactor.js';
import { DeferredLoad } from './deferred-load.js';
import type { IndexListener } from './listing.js';
import { allDone, type BatchStatusRule, type BatchSummary, deriveBatchStatus, emptyCounts, type StatusCounts } from '../core/status.js';

/** A batch with its jobs in order and running counts of their statuses. */
export interface BatchEntry {
  batch: BatchRecord;
  /** Finished jobs may be `StoredJob`s: take `fullRecord(job)` to change, copy or show one. */
  jobs: JobRecord[];
  counts: StatusCounts;
  started: string | null;
  updated: string;
}

/**
 * The in-memory index that serves every read. It is fed by the runtime's change events; a read
 * never calls the runtime. Batch status is derived from counts kept up to date per change.
 */
export class StateIndex {
  private readonly batches = new Map<string, BatchEntry>();
  private readonly jobs = new Map<string, Slot>();
  private readonly compactor: Compactor | undefined;
  /** Batches whose finished jobs are read after the start; every accessor below reads what it needs first. */
  private deferred: DeferredLoad | undefined;
  /** The same, kept to be stopped at `close` once the accessors have let it go. */
  private loading: DeferredLoad | undefined;

  /**
   * `listener` (the listing's secondary indexes) is told of every change, after it is applied. With a
   * `source` (the store), finished jobs are kept in their compact form once their latest state is committed.
   */
  constructor(private readonly rules: BatchStatusRule[] = [], private readonly listener?: IndexListener, source?: JobRecordSource) {
    this.compactor = source && new Compactor(source, (name) => this.jobs.get(name));
  }

  addBatch(batch: BatchRecord, jobs: JobRecord[]): BatchEntry {
    const entry: BatchEntry = { batch, jobs: [], counts: emptyCounts(), started: null, updated: batch.created };
    this.batches.set(batch.name, entry);
    this.listener?.batchAdded(entry);
    for (const job of jobs) this.addJob(entry, job);
    return entry;
  }

  /**
   * Batches added with `addDeferredBatch` get their jobs from `finished`, in the background once `loadInBackground`
   * is called, or at once when read; `loaded` is told of each once it has all its jobs.
   */
  defer(finished: FinishedJobs, loaded: (entry: BatchEntry) => void): void {
    this.deferred = new DeferredLoad(finished, { appendJobs: (entry, jobs) => this.appendJobs(entry, jobs), loaded });
    this.loading = this.deferred;
  }

  /** A batch (of the snapshot's `finished` ones) indexed now, its jobs read later. */
  addDeferredBatch(batch: BatchRecord): BatchEntry {
    const entry = this.addBatch(batch, []);
    this.deferred!.add(entry);
    return entry;
  }

  /** Reads the deferred batches' jobs a part at a time, in turns of the event loop. */
  loadInBackground(handlers: { onError(error: unknown): void; onDone(): void }): void {
    this.deferred?.start(handlers);
  }

  /** Batches with all their jobs indexed now, without reading any deferred one. */
  *loadedBatches(): IterableIterator<BatchEntry> {
    for (const entry of this.batches.values()) if (!this.deferred?.isPending(entry)) yield entry;
  }

  /** Reads every deferred batch now (a list or a count over all batches is about to be answered). */
  loadAll(): void {
    this.deferred?.ensureAll();
    this.release();
  }

  /** Adds a job to a batch already indexed (used when loading a snapshot). */
  addJob(entry: BatchEntry, job: JobRecord): void {
    const position = entry.jobs.length;
    this.jobs.set(job.name, { entry, position });
    entry.jobs.push(job);
    entry.counts[job.status]++;
    this.touch(entry, job);
    this.listener?.jobAdded(entry, position, job);
  }

  /** `addJob` for many jobs of one batch at once: the batch's times and the listing are updated once. */
  appendJobs(entry: BatchEntry, jobs: readonly JobRecord[]): void {
    const from = entry.jobs.length;
    let started = Infinity;
    let updated = -Infinity;
    for (const job of jobs) {
      this.jobs.set(job.name, { entry, position: entry.jobs.length });
      entry.jobs.push(job);
      entry.counts[job.status]++;
      if (job instanceof StoredJob) {
        if (job.startedMs >= 0) started = Math.min(started, job.startedMs);
        updated = Math.max(updated, job.updatedMs);
      } else this.touch(entry, job);
    }
    if (started !== Infinity && (!entry.started || started < Date.parse(entry.started))) entry.started = new Date(started).toISOString();
    if (updated > Date.parse(entry.updated)) entry.updated = new Date(updated).toISOString();
    this.listener?.jobsAdded(entry, from, jobs);
  }

  /** Applies a changed job record; changes for jobs no longer indexed are dropped. */
  update(job: JobRecord): JobRecord | undefined {
    if (this.deferred) this.batch(job.batchName);
    const slot = this.jobs.get(job.name);
    if (!slot) return undefined;
    const previous = slot.entry.jobs[slot.position]!;
    slot.entry.jobs[slot.position] = job;
    slot.entry.counts[previous.status]--;
    slot.entry.counts[job.status]++;
    this.touch(slot.entry, job);
    this.listener?.jobChanged(slot.entry, slot.position, previous, job);
    if (isTerminal(job.status)) this.compactor?.later(job.name);
    return previous;
  }

  removeBatch(name: string): void {
    const entry = this.batch(name);
    if (!entry) return;
    this.listener?.batchRemoved(entry);
    for (const job of entry.jobs) this.jobs.delete(job.name);
    this.batches.delete(name);
  }

  batch(name: string): BatchEntry | undefined {
    const entry = this.batches.get(name);
    if (entry && this.deferred) this.ensure(entry);
    return entry;
  }

  /** The job's whole record (read from the store for a finished job kept compact), its batch and its position there. */
  job(name: string): { job: JobRecord; entry: BatchEntry; position: number } | undefined {
    const slot = this.slot(name);
    return slot && { job: fullRecord(slot.entry.jobs[slot.position]!), entry: slot.entry, position: slot.position };
  }

  /** The batch a job is in, without reading its record. */
  entryOf(name: string): BatchEntry | undefined {
    return this.slot(name)?.entry;
  }

  /** Jobs tracked now, in every batch (those of deferred batches not yet read too). */
  get jobCount(): number {
    return this.jobs.size + (this.deferred?.unloadedJobs ?? 0);
  }

  allBatches(): IterableIterator<BatchEntry> {
    this.loadAll();
    return this.batches.values();
  }

  summary(entry: BatchEntry): BatchSummary {
    this.ensure(entry);
    const total = entry.jobs.length;
    const done = allDone(entry.counts, total);
    let ended: string | null = null;
    let storedEnded = -1;
    if (done) {
      for (const job of entry.jobs) {
        if (job instanceof StoredJob) storedEnded = Math.max(storedEnded, job.endedMs);
        else if (job.ended && (!ended || job.ended > ended)) ended = job.ended;
      }
    }
    if (storedEnded >= 0 && (!ended || storedEnded > Date.parse(ended))) ended = new Date(storedEnded).toISOString();
    return { status: deriveBatchStatus(entry.counts, total, this.rules), started: entry.started, ended, updated: entry.updated };
  }

  /** Stops compacting (the service is closing); can be called twice. */
  close(): void {
    this.compactor?.close();
    this.loading?.close();
  }

  /** A job's slot, its batch read first when deferred. */
  private slot(name: string): Slot | undefined {
    const slot = this.jobs.get(name);
    if (!this.deferred) return slot;
    if (slot) this.ensure(slot.entry);
    else this.deferred.ensureJob(name);
    this.release();
    return slot ?? this.jobs.get(name);
  }

  private ensure(entry: BatchEntry): void {
    if (!this.deferred) return;
    this.deferred.ensure(entry);
    this.release();
  }

  /** Once everything is read, reads cost nothing more than before (the background load ends by itself). */
  private release(): void {
    if (this.deferred?.done) this.deferred = undefined;
  }

  private touch(entry: BatchEntry, job: JobRecord): void {
    if (job instanceof StoredJob) {
      // Compared as numbers: the ISO texts are made only when they change the batch's.
      if (job.startedMs >= 0 && (!entry.started || job.startedMs < Date.parse(entry.started))) entry.started = job.started;
      if (job.updatedMs > Date.parse(entry.updated)) entry.updated = job.updated;
      return;
    }
    if (job.started && (!entry.started || job.started < entry.started)) entry.started = job.started;
    if (job.updated > entry.updated) entry.updated = job.updated;
  }
}

/** Where a job is in the index. */
export interface Slot {
  entry: BatchEntry;
  position: number;
}

export { isTerminal };
