import type { JobRecord, NewBatch, Snapshot } from '../core/model.js';
import type { JobTimeline } from '../core/timeline.js';

/**
 * Why the store cannot write: the disk is full, another process holds the database's write lock,
 * the database file is no longer the one this process opened (the data directory was removed or
 * replaced), or any other I/O failure.
 */
export type StoreFault = 'disk-full' | 'locked' | 'gone' | 'io';

/** Whether the store's last write succeeded, and since when that has been so. */
export interface StoreHealth {
  writable: boolean;
  /** Present while `writable` is false. */
  cause?: StoreFault;
  /** When the store last changed between writable and a fault (or between faults), RFC 3339. */
  since: string;
}

/**
 * Durable records of the local runtime.
 *
 * A write that fails never throws out of a background flush and never drops a change: changes stay
 * pending until a transaction holding them commits, and the store retries by itself with a capped
 * backoff. While it cannot write, `health()` says why, `insertBatch` and `deleteBatch` refuse with an
 * `ApiError` (507 `InsufficientStorage` for a full disk, 503 `ServiceUnavailable` otherwise), and
 * `flush` answers false.
 */
export interface JobStore {
  /**
   * Every batch and job, in acceptance order. With `deferFinished`, the jobs of batches whose jobs have all
   * finished are left out of `jobs`, to be read after the start from `finished`.
   */
  load(options?: { deferFinished?: boolean }): Snapshot;
  /**
   * Records a batch, its jobs and payloads atomically, synced to disk before the promise
   * resolves. Batches accepted in one turn of the event loop share a transaction (group commit),
   * which also carries the job changes pending at that moment. Rejects with an `ApiError` (507 or
   * 503) at once while the store cannot write, or when this transaction fails.
   */
  insertBatch(batch: NewBatch): Promise<void>;
  /**
   * Records a job's new state. Writes are grouped into one transaction per turn of the event
   * loop; a change stays pending (and is retried) until a transaction holding it commits.
   */
  saveJob(job: JobRecord): void;
  /**
   * Writes every pending change now, synchronously (the runtime calls it before a process starts,
   * so that a crash cannot leave the attempt unseen). Answers true when every change saved so far is
   * durable. While the store is in a fault it answers false without trying: the retry loop owns the
   * next attempt, so a caller never stalls the event loop on a lock; `onHealthChange` tells when to
   * try again.
   */
  flush(): boolean;
  /**
   * Calls `listener` after each transaction that committed job changes: every record saved before it is durable.
   * What a job's record says may be told to anyone only from then on: a change told before its commit could be
   * lost to a crash after a client, a webhook or the run queue acted on it.
   */
  onJobsCommitted(listener: () => void): void;
  readPayload(jobName: string): string | undefined;
  /** The job's whole record as committed, read synchronously; undefined when the store has no such job. */
  readJob(name: string): JobRecord | undefined;
  /** True while a change saved for the job is not yet committed (its record may leave memory only after). */
  isPending(name: string): boolean;
  /** The job's committed transitions (bounded per job), written in the same transactions as its record. */
  readTimeline(job: JobRecord): JobTimeline;
  /** Removes a batch and its jobs; throws an `ApiError` (507 or 503) when the store cannot write. */
  deleteBatch(batchName: string): void;
  /** A value kept with the data (such as the data directory's instance id); pending values are seen at once. */
  getMeta(key: string): string | undefined;
  /** Kept like a job change: pending until the next transaction commits. */
  setMeta(key: string, value: string): void;
  /** The store's current write health. */
  health(): StoreHealth;
  /** Calls `listener` on every change of health; answers a function that removes it. */
  onHealthChange(listener: (health: StoreHealth) => void): () => void;
  /** Writes what is pending (once, when it can), then closes. Idempotent. */
  close(): void;
}
