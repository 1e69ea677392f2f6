import type { FinishedJobs, JobRecord } from '../core/model.js';
import type { BatchEntry } from './state-index.js';

/** What the load needs of the index it fills. */
export interface LoadTarget {
  /** Appends jobs, in position order, to a batch being loaded. */
  appendJobs(entry: BatchEntry, jobs: readonly JobRecord[]): void;
  /** The batch has all its jobs now. */
  loaded(entry: BatchEntry): void;
}

interface Pending {
  entry: BatchEntry;
  /** The position of the last job appended; -1 for none. */
  lastIndex: number;
}

/**
 * Fills the index with the batches whose jobs had all finished at the start, once the service answers: a part
 * at a time in the background, and a batch at once whenever a read needs it (`ensure`), so that every read
 * answers as if everything had been loaded at the start. A batch is in the index, with its name and place in
 * acceptance order, from the start; its jobs appear as they are read, and it counts as loaded only when all are.
 */
export class DeferredLoad {
  private readonly pending = new Map<string, Pending>();
  private unloaded: number;
  /** Where the background load is: the last finished job it read. */
  private cursor: { batchName: string; index: number } | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(private readonly finished: FinishedJobs, private readonly target: LoadTarget) {
    this.unloaded = finished.jobCount;
  }

  /** A batch whose jobs are read later. */
  add(entry: BatchEntry): void {
    this.pending.set(entry.batch.name, { entry, lastIndex: -1 });
  }

  get done(): boolean {
    return this.pending.size === 0;
  }

  /** Jobs of pending batches not yet in the index. */
  get unloadedJobs(): number {
    return this.unloaded;
  }

  isPending(entry: BatchEntry): boolean {
    return this.pending.get(entry.batch.name)?.entry === entry;
  }

  /** Reads the rest of the batch's jobs now. */
  ensure(entry: BatchEntry): void {
    const pending = this.pending.get(entry.batch.name);
    if (!pending || pending.entry !== entry) return;
    this.append(pending, this.finished.ofBatch(entry.batch.name, pending.lastIndex));
    this.complete(pending);
  }

  /** Reads the rest of the batch of the job of that name, if it is pending. */
  ensureJob(jobName: string): void {
    if (this.done) return;
    const batchName = this.finished.batchOf(jobName);
    const pending = batchName === undefined ? undefined : this.pending.get(batchName);
    if (pending) this.ensure(pending.entry);
  }

  /** Reads everything left now. */
  ensureAll(): void {
    while (!this.done) this.step();
  }

  /** Reads the rest a part at a time, each in its own turn of the event loop, until done (then `onDone`) or closed. */
  start(handlers: { onError(error: unknown): void; onDone(): void }): void {
    const next = () => {
      this.immediate = undefined;
      if (this.closed) return;
      if (this.done) {
        handlers.onDone();
        return;
      }
      try {
        this.step();
      } catch (error) {
        // Reads still load what they need; the background load stops.
        handlers.onError(error);
        return;
      }
      this.immediate = setImmediate(next);
    };
    this.immediate ??= setImmediate(next);
  }

  /** Stops the background load; can be called twice. */
  close(): void {
    this.closed = true;
    clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  /** Reads one part of the finished jobs, in (batch name, position) order, and appends those of pending batches. */
  private step(): void {
    const part = this.finished.next(this.cursor, PART);
    if (part.length === 0) {
      // Batches without a finished job left to read (none at all, or the last one read).
      for (const pending of [...this.pending.values()]) this.complete(pending);
      return;
    }
    this.cursor = { batchName: part.at(-1)!.batchName, index: part.at(-1)!.index };
    let from = 0;
    for (let i = 1; i <= part.length; i++) {
      if (i < part.length && part[i]!.batchName === part[from]!.batchName) continue;
      const pending = this.pending.get(part[from]!.batchName);
      if (pending) {
        const jobs = part.slice(from, i).filter((job) => job.index > pending.lastIndex);
        this.append(pending, jobs);
        // Read in name order: a batch followed by another in the same part has no jobs left.
        if (i < part.length) this.complete(pending);
      }
      from = i;
    }
  }

  private append(pending: Pending, jobs: readonly JobRecord[]): void {
    if (jobs.length === 0) return;
    this.target.appendJobs(pending.entry, jobs);
    pending.lastIndex = jobs.at(-1)!.index;
    this.unloaded -= jobs.length;
  }

  private complete(pending: Pending): void {
    this.pending.delete(pending.entry.batch.name);
    if (this.done) {
      this.unloaded = 0;
      this.finished.release?.();
    }
    this.target.loaded(pending.entry);
  }
}

/**
 * Finished jobs read in one turn of the event loop: 1,000 hold a turn 5-10 ms on a busy 2-core machine (2,000:
 * 10-20 ms, for the same total), so that requests during the load wait little for it.
 */
export const PART = 1000;
