import type { JobRecord, NewBatch, Snapshot } from '../core/model.js';

/** Durable records of the local runtime. */
export interface JobStore {
  /** Every batch and job, in acceptance order. */
  load(): Snapshot;
  /**
   * Records a batch, its jobs and payloads atomically, synced to disk before the promise
   * resolves. Batches accepted in one turn of the event loop share a transaction (group commit).
   */
  insertBatch(batch: NewBatch): Promise<void>;
  /**
   * Records a job's new state. Writes are grouped into one transaction per turn of the event
   * loop; `flush` writes at once (before a process starts, so it can be recognised after a crash).
   */
  saveJob(job: JobRecord): void;
  /** Writes the pending changes now; false when they could not be written (they stay pending). */
  flush(): boolean;
  readPayload(jobName: string): string | undefined;
  deleteBatch(batchName: string): void;
  /** A value kept with the data (such as the data directory's instance id). */
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  close(): void;
}
