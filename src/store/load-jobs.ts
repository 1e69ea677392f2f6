import type Database from 'better-sqlite3';
import { type FinishedJobs, isTerminal, type JobRecord, type JobSpec } from '../core/model.js';
import type { JobRecordSource } from '../core/stored-job.js';
import { FinishedJobsReader, type Summary } from './finished-jobs.js';

/** The parts of a job record that change after acceptance, stored as one JSON column. */
type JobState = Omit<JobRecord, 'name' | 'batchName' | 'index' | 'spec'>;

/** A finished job with nothing asked of it, in SQL: it has a summary (see `summaryText`). */
const FINISHED = `(state ->> '$.status' IN ('Succeeded', 'Failed', 'Stopped') AND state ->> '$.intent' IS NULL AND state ->> '$.ending' IS NULL)`;
/** `summaryText` in SQL, to give the finished jobs of a store made by an earlier version their summaries. */
const SUMMARY = `json_array(name, idx, state ->> '$.status', state ->> '$.jobId', state ->> '$.generation', json_array_length(state, '$.attempts'),
  state ->> '$.attempts[#-1].replicaStatus', state ->> '$.created', state ->> '$.started', state ->> '$.ended', state ->> '$.updated', spec -> '$.labels')`;

/**
 * Brings a store up to the summaries: `jobs.summary` holds what a finished job is kept as (written with its
 * state, NULL while it is live), and two partial indexes let a start read only what it keeps: the summaries
 * (from the index, without touching the rows, their payloads and attempts), and the positions of live jobs.
 */
export function migrateSummaries(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(jobs)').all() as Array<{ name: string }>;
  if (!columns.some((column) => column.name === 'summary')) {
    db.transaction(() => {
      db.exec('ALTER TABLE jobs ADD COLUMN summary TEXT');
      db.exec(`UPDATE jobs SET summary = ${SUMMARY} WHERE ${FINISHED}`);
    })();
  }
  db.exec(`
    CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (batch_name, idx, summary) WHERE summary IS NOT NULL;
    CREATE INDEX IF NOT EXISTS jobs_live ON jobs (batch_name, idx) WHERE summary IS NULL;`);
}

/** What a finished job with nothing asked of it is kept as (a JSON array, see `Summary`); null for any other job. */
export function summaryText(job: JobRecord): string | null {
  if (!isTerminal(job.status) || job.intent || job.ending) return null;
  const summary: Summary = [
    job.name, job.index, job.status, job.jobId ?? null, job.generation ?? null, job.attempts.length, job.attempts.at(-1)?.replicaStatus ?? null,
    job.created, job.started, job.ended, job.updated, job.spec.labels ?? null,
  ];
  return JSON.stringify(summary);
}

const LIVE_QUERY = 'SELECT name, batch_name, idx, spec, state FROM jobs INDEXED BY jobs_live WHERE summary IS NULL ORDER BY batch_name, idx';

interface LiveRow {
  name: string;
  batch_name: string;
  idx: number;
  spec: string;
  state: string;
}

export interface LoadedJobs {
  /** In acceptance order: every job, or with `deferFinished` those of batches with a live job. */
  jobs: JobRecord[];
  /** With `deferFinished`: the batches whose jobs had all finished, read after the start. */
  finished?: FinishedJobs;
}

/**
 * Every accepted job of `batchNames` (the accepted batches, in acceptance order): finished ones as `StoredJob`s
 * that read the rest from `source`. With `deferFinished`, batches without a live job are left to be read later.
 */
export function loadJobs(db: Database.Database, batchNames: readonly string[], source: JobRecordSource, options: { deferFinished?: boolean } = {}): LoadedJobs {
  const live = liveJobs(db);
  const all: JobRecord[] = [];
  if (!options.deferFinished) {
    const reader = new FinishedJobsReader(db, source, new Set(), 0);
    const finished = new Map<string, JobRecord[]>();
    for (let part = reader.next(undefined); part.length > 0; part = reader.next(part.at(-1))) {
      for (const job of part) {
        const jobs = finished.get(job.batchName);
        if (jobs) jobs.push(job);
        else finished.set(job.batchName, [job]);
      }
    }
    for (const name of batchNames) merge(finished.get(name) ?? [], live.get(name) ?? [], all);
    return { jobs: all };
  }
  const reader = new FinishedJobsReader(db, source, new Set(), 0);
  const deferred = new Set<string>();
  for (const name of batchNames) {
    const jobs = live.get(name);
    if (jobs) merge(reader.ofBatch(name, -1), jobs, all);
    else deferred.add(name);
  }
  const stored = db.prepare('SELECT count(*) FROM jobs').pluck().get() as number;
  return { jobs: all, finished: new FinishedJobsReader(db, source, deferred, stored - all.length) };
}

/** Jobs with something still to happen (or asked of them), whole, by batch, each batch's in position order. */
function liveJobs(db: Database.Database): Map<string, JobRecord[]> {
  const live = new Map<string, JobRecord[]>();
  const specs = new Map<string, JobSpec>();
  for (const row of db.prepare(LIVE_QUERY).iterate() as IterableIterator<LiveRow>) {
    // Jobs of a batch mostly share one spec: each distinct text is parsed once and shared.
    let spec = specs.get(row.spec);
    if (!spec) {
      spec = JSON.parse(row.spec) as JobSpec;
      specs.set(row.spec, spec);
    }
    const record: JobRecord = { name: row.name, batchName: row.batch_name, index: row.idx, spec, ...(JSON.parse(row.state) as JobState) };
    const jobs = live.get(row.batch_name);
    if (jobs) jobs.push(record);
    else live.set(row.batch_name, [record]);
  }
  return live;
}

/** Appends two lists of one batch's jobs, each in position order, to `out` in position order. */
function merge(a: JobRecord[], b: JobRecord[], out: JobRecord[]): void {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.index < b[j]!.index)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
}
