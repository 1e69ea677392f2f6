import type { JobRecord, NewBatch } from '../core/model.js';

/** Most jobs, and most payload bytes, written in one transaction of a usual batch; a larger one is chunked. */
const CHUNK_JOBS = 250;
const CHUNK_BYTES = 1024 * 1024;
/**
 * Most jobs, and most time, one transaction of a chunked batch takes. A commit costs far more than a row (it
 * writes every page the rows touched, and the name index's pages are all over the file), so a transaction
 * takes rows for as long as the event loop can spare, not a fixed count.
 */
const SLICE_JOBS = 2000;
const SLICE_MS = 20;

/** Whether a batch goes in several transactions, one turn of the event loop each (`insertInChunks`). */
export function isLarge(jobs: NewBatch['jobs']): boolean {
  if (jobs.length > CHUNK_JOBS) return true;
  let bytes = 0;
  for (const { payload } of jobs) if ((bytes += payload.length) > CHUNK_BYTES) return true;
  return false;
}

/**
 * The end (exclusive) of the next transaction's jobs from `start`: as many as `insert` takes within the
 * time and count bounds, at least one. `now` in milliseconds.
 */
export function insertSlice(jobs: NewBatch['jobs'], start: number, insert: (job: NewBatch['jobs'][number]) => void, now: () => number): number {
  const deadline = now() + SLICE_MS;
  const last = Math.min(jobs.length, start + SLICE_JOBS);
  let next = start;
  do {
    insert(jobs[next]!);
    next += 1;
    // The clock is read every 16 rows: a row takes some microseconds.
  } while (next < last && ((next - start) % 16 !== 0 || now() < deadline));
  return next;
}

const waitingTexts = new Map<string, string>();

/**
 * The state column of a job just accepted: the same text for every job of a batch but its id, so it is
 * made once per batch (`JSON.stringify` of each record was 3 % of a 100,000-job batch). Any other record
 * is stringified whole.
 */
export function acceptedStateText(record: JobRecord): string {
  const { jobId } = record;
  if (record.status !== 'Waiting' || record.started !== null || record.ended !== null || record.message !== null || record.failed !== 0
    || record.attempts.length !== 0 || record.updated !== record.created || Object.keys(record).length !== (jobId === undefined ? 12 : 13)) {
    return wholeStateText(record);
  }
  let text = waitingTexts.get(record.created);
  if (text === undefined) {
    const { created } = record;
    text = JSON.stringify({ status: 'Waiting', created, started: null, ended: null, updated: created, message: null, failed: 0, attempts: [] });
    // One entry: batches are accepted one after the other, and a new second makes a new text.
    waitingTexts.clear();
    waitingTexts.set(created, text);
  }
  return jobId === undefined ? text : `${text.slice(0, -1)},"jobId":${JSON.stringify(jobId)}}`;
}

/** The parts of a record that change after acceptance, as the store's `state` column holds them (`stateText` there). */
function wholeStateText(job: JobRecord): string {
  const { name: _n, batchName: _b, index: _i, spec: _s, ...state } = job;
  return JSON.stringify(state);
}
