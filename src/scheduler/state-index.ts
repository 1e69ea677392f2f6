import type { BatchRecord, JobRecord } from '../core/model.js';
import { isTerminal } from '../core/model.js';
import type { IndexListener } from './listing.js';
import { allDone, type BatchStatusRule, type BatchSummary, deriveBatchStatus, emptyCounts, type StatusCounts } from '../core/status.js';

/** A batch with its jobs in order and running counts of their statuses. */
export interface BatchEntry {
  batch: BatchRecord;
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
  private readonly jobs = new Map<string, { entry: BatchEntry; position: number }>();

  /** `listener` (the listing's secondary indexes) is told of every change, after it is applied. */
  constructor(private readonly rules: BatchStatusRule[] = [], private readonly listener?: IndexListener) {}

  addBatch(batch: BatchRecord, jobs: JobRecord[]): BatchEntry {
    const entry: BatchEntry = { batch, jobs: [], counts: emptyCounts(), started: null, updated: batch.created };
    this.batches.set(batch.name, entry);
    this.listener?.batchAdded(entry);
    for (const job of jobs) this.addJob(entry, job);
    return entry;
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

  /** Applies a changed job record; changes for jobs no longer indexed are dropped. */
  update(job: JobRecord): JobRecord | undefined {
    const slot = this.jobs.get(job.name);
    if (!slot) return undefined;
    const previous = slot.entry.jobs[slot.position]!;
    slot.entry.jobs[slot.position] = job;
    slot.entry.counts[previous.status]--;
    slot.entry.counts[job.status]++;
    this.touch(slot.entry, job);
    this.listener?.jobChanged(slot.entry, slot.position, previous, job);
    return previous;
  }

  removeBatch(name: string): void {
    const entry = this.batches.get(name);
    if (!entry) return;
    this.listener?.batchRemoved(entry);
    for (const job of entry.jobs) this.jobs.delete(job.name);
    this.batches.delete(name);
  }

  batch(name: string): BatchEntry | undefined {
    return this.batches.get(name);
  }

  job(name: string): { job: JobRecord; entry: BatchEntry } | undefined {
    const slot = this.jobs.get(name);
    return slot && { job: slot.entry.jobs[slot.position]!, entry: slot.entry };
  }

  /** Jobs indexed now, in every batch. */
  get jobCount(): number {
    return this.jobs.size;
  }

  allBatches(): IterableIterator<BatchEntry> {
    return this.batches.values();
  }

  summary(entry: BatchEntry): BatchSummary {
    const total = entry.jobs.length;
    const done = allDone(entry.counts, total);
    let ended: string | null = null;
    if (done) {
      for (const job of entry.jobs) if (job.ended && (!ended || job.ended > ended)) ended = job.ended;
    }
    return { status: deriveBatchStatus(entry.counts, total, this.rules), started: entry.started, ended, updated: entry.updated };
  }

  private touch(entry: BatchEntry, job: JobRecord): void {
    if (job.started && (!entry.started || job.started < entry.started)) entry.started = job.started;
    if (job.updated > entry.updated) entry.updated = job.updated;
  }
}

export { isTerminal };
