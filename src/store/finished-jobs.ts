import type Database from 'better-sqlite3';
import type { Labels } from '../core/labels.js';
import type { FinishedJobs, JobRecord, JobStatusValue } from '../core/model.js';
import { type JobRecordSource, StoredJob } from '../core/stored-job.js';
import { Interner } from '../core/interner.js';

/** A finished job's summary (`summaryText`), as stored in `jobs.summary`. */
export type Summary = [string, number, JobStatusValue, string | null, number | null, number, string | null, string, string | null, string | null, string, Labels | null];

/** Most summaries one statement reads: a part's text and objects stay in V8's young generation. */
const PART = 2000;
const MAX_LABEL_SETS = 10_000;

// Summaries come as one JSON text per batch in a part (one string instead of a row object per job). The texts
// are joined in the order the subquery reads them, which SQLite does not promise: the order is checked, and
// sorted if need be (an ORDER BY in group_concat sorts every part again, and doubles the time the query takes).
const NEXT_QUERY = `
  SELECT batch_name, '[' || group_concat(summary, ',') || ']' FROM (
    SELECT batch_name, summary FROM jobs INDEXED BY jobs_finished
     WHERE summary IS NOT NULL AND (batch_name, idx) > (?, ?) ORDER BY batch_name, idx LIMIT ?) GROUP BY batch_name`;
const BATCH_QUERY = `
  SELECT '[' || group_concat(summary, ',') || ']' FROM (
    SELECT summary FROM jobs INDEXED BY jobs_finished WHERE summary IS NOT NULL AND batch_name = ? AND idx > ? ORDER BY idx LIMIT ?)`;

/**
 * Reads finished jobs from their summaries, a part at a time, as `StoredJob`s that read the rest of their
 * record from `source` when asked (or whole, when their times would not read back the same).
 */
export class FinishedJobsReader implements FinishedJobs {
  private readonly statements;
  /** Jobs with the same labels share one object. */
  private readonly labelSets = new Interner<Labels>(MAX_LABEL_SETS, (labels) => JSON.stringify(labels));

  constructor(private readonly db: Database.Database, private readonly source: JobRecordSource, readonly batchNames: ReadonlySet<string>, readonly jobCount: number) {
    this.statements = {
      next: db.prepare(NEXT_QUERY).raw(),
      batch: db.prepare(BATCH_QUERY).pluck(),
      batchOf: db.prepare('SELECT batch_name FROM jobs WHERE name = ?').pluck(),
    };
  }

  next(after: { batchName: string; index: number } | undefined, limit = PART): JobRecord[] {
    const groups = this.statements.next.all(after?.batchName ?? '', after?.index ?? -1, limit) as Array<[string, string]>;
    groups.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const jobs: JobRecord[] = [];
    for (const [batchName, text] of groups) for (const summary of inOrder(JSON.parse(text) as Summary[])) jobs.push(this.fromSummary(batchName, summary));
    return jobs;
  }

  ofBatch(batchName: string, afterIndex: number): JobRecord[] {
    const jobs: JobRecord[] = [];
    for (let after = afterIndex; ;) {
      const text = this.statements.batch.get(batchName, after, PART) as string | null;
      if (text === null) return jobs;
      const summaries = inOrder(JSON.parse(text) as Summary[]);
      for (const summary of summaries) jobs.push(this.fromSummary(batchName, summary));
      if (summaries.length < PART) return jobs;
      after = summaries.at(-1)![1];
    }
  }

  batchOf(jobName: string): string | undefined {
    return (this.statements.batchOf.get(jobName) as string | undefined) ?? undefined;
  }

  /** The pages read stay in SQLite's cache (up to its 2 MiB) though their jobs are in memory now: they go. */
  release(): void {
    this.labelSets.clear();
    if (this.db.open) this.db.pragma('shrink_memory');
  }

  private fromSummary(batchName: string, summary: Summary): JobRecord {
    const [name, index, status, jobId, generation, attemptCount, lastReplicaStatus, created, started, ended, updated, labels] = summary;
    const stored = StoredJob.of(this.source, {
      name, batchName, index, status, created, started, ended, updated, attemptCount,
      jobId: jobId ?? undefined, generation: generation ?? undefined, lastReplicaStatus: lastReplicaStatus ?? undefined,
      labels: labels === null ? undefined : this.labelSets.shared(labels),
    });
    // Times that would not read back the same from a number: the job is kept whole.
    return stored ?? this.source.readJob(name)!;
  }
}

/** One batch's summaries in position order. */
function inOrder(summaries: Summary[]): Summary[] {
  if (!summaries.every((summary, i) => i === 0 || summaries[i - 1]![1] < summary[1])) summaries.sort((a, b) => a[1] - b[1]);
  return summaries;
}
