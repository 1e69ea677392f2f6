import type Database from 'better-sqlite3';
import type { Labels } from '../core/labels.js';
import { isTerminal, type JobRecord, type JobSpec, type JobStatusValue } from '../core/model.js';
import { type JobRecordSource, StoredJob } from '../core/stored-job.js';

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

// A batch's finished jobs come as one JSON array: one row per batch instead of one per job. Batches still being
// accepted have rows too: they are left out by name (`batchNames`).
const FINISHED_QUERY = `
  SELECT batch_name AS batch, '[' || group_concat(summary, ',') || ']' AS jobs
    FROM jobs INDEXED BY jobs_finished WHERE summary IS NOT NULL GROUP BY batch_name`;
const LIVE_QUERY = 'SELECT name, batch_name, idx, spec, state FROM jobs INDEXED BY jobs_live WHERE summary IS NULL ORDER BY batch_name, idx';

type Summary = [string, number, JobStatusValue, string | null, number | null, number, string | null, string, string | null, string | null, string, Labels | null];

interface LiveRow {
  name: string;
  batch_name: string;
  idx: number;
  spec: string;
  state: string;
}

/** Every accepted job, in acceptance order: finished ones as `StoredJob`s that read the rest from `source`. */
export function loadJobs(db: Database.Database, batchNames: readonly string[], source: JobRecordSource): JobRecord[] {
  const labelSets = new Map<string, Labels>();
  const finished = new Map<string, JobRecord[]>();
  for (const { batch, jobs } of db.prepare(FINISHED_QUERY).iterate() as IterableIterator<{ batch: string; jobs: string }>) {
    finished.set(batch, (JSON.parse(jobs) as Summary[]).map((summary) => fromSummary(batch, summary, labelSets, source)));
  }
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
  const all: JobRecord[] = [];
  for (const name of batchNames) merge(finished.get(name) ?? [], live.get(name) ?? [], all);
  return all;
}

function fromSummary(batchName: string, summary: Summary, labelSets: Map<string, Labels>, source: JobRecordSource): JobRecord {
  const [name, index, status, jobId, generation, attemptCount, lastReplicaStatus, created, started, ended, updated, labels] = summary;
  const stored = StoredJob.of(source, {
    name, batchName, index, status, created, started, ended, updated, attemptCount,
    jobId: jobId ?? undefined, generation: generation ?? undefined, lastReplicaStatus: lastReplicaStatus ?? undefined,
    labels: labels === null ? undefined : shared(labelSets, labels),
  });
  // Times that would not read back the same from a number: the job is kept whole.
  return stored ?? source.readJob(name)!;
}

/** Jobs with the same labels share one object. */
function shared(labelSets: Map<string, Labels>, labels: Labels): Labels {
  const text = JSON.stringify(labels);
  const known = labelSets.get(text);
  if (known) return known;
  labelSets.set(text, labels);
  return labels;
}

/** Appends two lists of one batch's jobs, each in position order, to `out` in position order. */
function merge(a: JobRecord[], b: JobRecord[], out: JobRecord[]): void {
  a.sort((x, y) => x.index - y.index);
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.index < b[j]!.index)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
}
