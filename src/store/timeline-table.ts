import type Database from 'better-sqlite3';
import { isTerminal, type JobRecord } from '../core/model.js';
import { acceptedEntry, isAcceptedState, type JobTimeline, type RecordedTransition, TIMELINE_MAX_ENTRIES, type TimelineEntry, transitionOf } from '../core/timeline.js';

/**
 * Transitions per job, numbered from 1. The acceptance is not stored (every job has it, at `created`); a
 * transition is stored only when its key differs from the job's latest one. Rows go with their batch, found
 * through its jobs' rows: an index by batch cost every transition's commit one more page (issue 14), and stores
 * made before drop it.
 */
const TIMELINE_SCHEMA = `
CREATE TABLE IF NOT EXISTS job_timeline (
  job_name TEXT NOT NULL,
  batch_name TEXT NOT NULL,
  n INTEGER NOT NULL,
  key TEXT NOT NULL,
  entry TEXT NOT NULL,
  PRIMARY KEY (job_name, n)
) WITHOUT ROWID;
DROP INDEX IF EXISTS job_timeline_by_batch;
`;

/** Where a job's committed rows stand: enough to number the next row and to know whether any must go. */
interface Rows {
  batchName: string;
  /** The key of the newest row, against which a rollback is recognised. */
  key: string | undefined;
  /** The newest row's `n` (0 when there is none). */
  last: number;
  /** No row below this `n` is kept (the oldest row's `n`, or above `last` when there is none). */
  first: number;
}

interface Pending {
  batchName: string;
  /** The rows as last committed: read once, when the job is first noted and not known (undefined while that read fails). */
  base: Rows | undefined;
  transitions: RecordedTransition[];
  /** Transitions noted and left out before they could be written (a long fault of the store): they still count. */
  skipped: number;
  /** The rows as the transaction holding `write` leaves them, once it commits, and whether the job's last transition is final. */
  written?: { rows: Rows; final: boolean };
}

/**
 * The local store's timeline rows. Transitions are collected as job records are saved and written by the
 * store inside the same transaction as the records, so a timeline is exactly as durable as its job. Each
 * job keeps its newest `TIMELINE_MAX_ENTRIES` transitions. The numbering and the bound are kept in memory for
 * jobs still going, so that a transition costs one insert: a job's rows are counted and trimmed by a statement
 * only when it has more than the bound.
 */
export class TimelineTable {
  private readonly pending = new Map<string, Pending>();
  /**
   * The committed rows of each job whose latest transition is not a final one, so that a job's next
   * transition needs no read of its rows (a finished job's next one, after a restart, reads them once).
   */
  private readonly committedRows = new Map<string, Rows>();
  private readonly statements;

  constructor(db: Database.Database, private readonly maxEntries = TIMELINE_MAX_ENTRIES) {
    db.exec(TIMELINE_SCHEMA);
    this.statements = {
      newest: db.prepare('SELECT n, key FROM job_timeline WHERE job_name = ? ORDER BY n DESC LIMIT 1'),
      oldest: db.prepare('SELECT min(n) FROM job_timeline WHERE job_name = ?').pluck(),
      insert: db.prepare('INSERT INTO job_timeline (job_name, batch_name, n, key, entry) VALUES (?, ?, ?, ?, ?)'),
      trim: db.prepare('DELETE FROM job_timeline WHERE job_name = ? AND n < ?'),
      read: db.prepare('SELECT n, key, entry FROM job_timeline WHERE job_name = ? ORDER BY n'),
      deleteBatch: db.prepare('DELETE FROM job_timeline WHERE job_name IN (SELECT name FROM jobs WHERE batch_name = ?)'),
    };
  }

  /**
   * Notes the transition a saved record shows. Saving a record whose key was already noted in this
   * transaction (or is the committed one) undoes what was noted after it: the runtime put the previous
   * record back because the new one could not be made durable.
   */
  note(job: JobRecord): void {
    if (isAcceptedState(job)) return;
    const transition = transitionOf(job);
    let pending = this.pending.get(job.name);
    if (!pending) {
      pending = { batchName: job.batchName, base: this.committedRows.get(job.name) ?? this.tryRowsOf(job.name, job.batchName), transitions: [], skipped: 0 };
      this.pending.set(job.name, pending);
    }
    if (transition.key === pending.base?.key) {
      pending.transitions.length = 0;
      return;
    }
    const earlier = pending.transitions.findIndex((noted) => noted.key === transition.key);
    if (earlier >= 0) {
      pending.transitions.length = earlier + 1;
      return;
    }
    pending.transitions.push(transition);
    // While the store cannot write, a job retried again and again must not grow this without bound either.
    if (pending.transitions.length > this.maxEntries) {
      pending.transitions.shift();
      pending.skipped++;
    }
  }

  /** Writes what was noted; called by the store inside its transaction (again after a rollback: nothing of it counts until `committed`). */
  write(): void {
    for (const [job, pending] of this.pending) {
      pending.written = undefined;
      const { batchName, transitions, skipped } = pending;
      if (transitions.length === 0) continue;
      // Read here when it could not be read before: a row numbered without it would collide with a kept one.
      const base = pending.base ?? this.rowsOf(job, batchName);
      let n = base.last + skipped;
      for (const { key, ...entry } of transitions) this.statements.insert.run(job, batchName, ++n, key, JSON.stringify(entry));
      let first = base.first;
      if (n - first >= this.maxEntries) {
        first = n - this.maxEntries + 1;
        this.statements.trim.run(job, first);
      }
      const last = transitions.at(-1)!;
      pending.written = { rows: { batchName, key: last.key, last: n, first }, final: isTerminal(last.status) };
    }
  }

  /** The transaction that held `write` committed. */
  committed(): void {
    for (const [job, { written }] of this.pending) {
      if (written === undefined) continue;
      if (written.final) this.committedRows.delete(job);
      else this.committedRows.set(job, written.rows);
    }
    this.pending.clear();
  }

  /** Within the store's transaction that deletes the batch, before its jobs' rows go (after a rollback of it, the rows are read again). */
  deleteBatch(batchName: string): void {
    this.statements.deleteBatch.run(batchName);
    for (const [job, rows] of this.committedRows) if (rows.batchName === batchName) this.committedRows.delete(job);
  }

  private rowsOf(jobName: string, batchName: string): Rows {
    const newest = this.statements.newest.get(jobName) as { n: number; key: string } | undefined;
    if (newest === undefined) return { batchName, key: undefined, last: 0, first: 1 };
    return { batchName, key: newest.key, last: newest.n, first: this.statements.oldest.get(jobName) as number };
  }

  /** The job's committed rows; a read that fails (the store closed or gone) only loses the rollback check (`write` reads them again). */
  private tryRowsOf(jobName: string, batchName: string): Rows | undefined {
    try {
      return this.rowsOf(jobName, batchName);
    } catch {
      return undefined;
    }
  }

  /** The job's timeline: what is committed, then what is noted for the next transaction (the record shows it already). */
  read(job: Pick<JobRecord, 'name' | 'created'>): JobTimeline {
    const rows = this.statements.read.all(job.name) as Array<{ n: number; key: string; entry: string }>;
    const kept = rows.map((row) => ({ ...(JSON.parse(row.entry) as TimelineEntry), key: row.key }));
    const pending = this.pending.get(job.name);
    const transitions = pending && pending.transitions.length > 0 ? [...kept, ...pending.transitions] : kept;
    const excess = Math.max(0, transitions.length - this.maxEntries);
    const dropped = (rows.length > 0 ? rows[0]!.n - 1 : 0) + (pending?.skipped ?? 0) + excess;
    return { entries: [acceptedEntry(job), ...transitions.slice(excess)], dropped, complete: true };
  }
}
