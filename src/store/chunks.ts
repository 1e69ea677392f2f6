import type { NewBatch } from '../core/model.js';

/** Most jobs, and most payload bytes, written in one transaction of a large batch. */
const CHUNK_JOBS = 250;
const CHUNK_BYTES = 1024 * 1024;

/** Splits a batch's jobs into the transactions of a chunked insert (one, for a usual batch). */
export function chunksOf(jobs: NewBatch['jobs']): Array<NewBatch['jobs']> {
  const chunks: Array<NewBatch['jobs']> = [];
  let current: NewBatch['jobs'] = [];
  let bytes = 0;
  for (const job of jobs) {
    if (current.length > 0 && (current.length >= CHUNK_JOBS || bytes + job.payload.length > CHUNK_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(job);
    bytes += job.payload.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
