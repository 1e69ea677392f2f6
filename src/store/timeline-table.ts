import type Database from 'better-sqlite3';
import { isTerminal, type JobRecord } from '../core/model.js';
import { acceptedEntry, isAcceptedState, type JobTimeline, type RecordedTransition, TIMELINE_MAX_ENTRIES, type TimelineEntry, transitionOf } from '../core/timeline.js';

/**
 * Transitions per job, numbered from 1. The acceptance is not stored (every job has it, at `created`); a
 * transition is stored only when its key differs from the job's latest one. Rows go with their batch.
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
CREATE INDEX IF NOT EXISTS job_timeline_by_batch ON job_timeline (batch_name);
`;

interface Pending {
  batchName: string;
  /** The key last committed for the job (read once per transaction), against which a rollback is recognised. */
  base: string | undefined;
  transitions: RecordedTransition[];
  /** Transitions noted and left out before they could be written (a long fault of the store): they still count. */
  skipped: number;
}

/**
 * The local store's timeline rows. Transitions are collected as job records are saved and written by the
 * store inside the same transaction as the records, so a timeline is exactly as durable as its job. Each
 * job keeps its newest `TIMELINE_MAX_ENTRIES` transitions.
 */
export class TimelineTable {
  private readonly pending = new Map<string, Pending>();
  /**
   * The latest committed key of each job whose latest transition is not a final one, so that a job's next
   * transition needs no read of its rows (a finished job's next one, after a restart, reads them once).
   */
  private readonly committedKeys = new Map<string, { batchName: string; key: string }>();
  private readonly statements;

  constructor(db: Database.Database, private readonly maxEntries = TIMELINE_MAX_ENTRIES) {
    db.exec(TIMELINE_SCHEMA);
    this.statements = {
      latestKey: db.prepare('SELECT key FROM job_timeline WHERE job_name = ? ORDER BY n DESC LIMIT 1').pluck(),
      insert: db.prepare(`INSERT INTO job_timeline (job_name, batch_name, n, key, entry)
        SELECT @job, @batch, coalesce(max(n), 0) + 1 + @skip, @key, @entry FROM job_timeline WHERE job_name = @job`),
      trim: db.prepare('DELETE FROM job_timeline WHERE job_name = @job AND n <= (SELECT max(n) FROM job_timeline WHERE job_name = @job) - @max'),
      read: db.prepare('SELECT n, key, entry FROM job_timeline WHERE job_name = ? ORDER BY n'),
      deleteBatch: db.prepare('DELETE FROM job_timeline WHERE batch_name = ?'),
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
      pending = { batchName: job.batchName, base: this.committedKeys.get(job.name)?.key ?? this.latestKey(job.name), transitions: [], skipped: 0 };
      this.pending.set(job.name, pending);
    }
    if (transition.key === pending.base) {
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

  /** Writes what was noted; called by the store inside its transaction. */
  write(): void {
    for (const [job, { batchName, transitions, skipped }] of this.pending) {
      if (transitions.length === 0) continue;
      for (const [i, { key, ...entry }] of transitions.entries()) {
        this.statements.insert.run({ job, batch: batchName, key, entry: JSON.stringify(entry), skip: i === 0 ? skipped : 0 });
      }
      this.statements.trim.run({ job, max: this.maxEntries });
    }
  }

  /** The transaction that held `write` committed. */
  committed(): void {
    for (const [job, { batchName, transitions }] of this.pending) {
      const last = transitions.at(-1);
      if (last === undefined) continue;
      if (isTerminal(last.status)) this.committedKeys.delete(job);
      else this.committedKeys.set(job, { batchName, key: last.key });
    }
    this.pending.clear();
  }

  /** Within the store's transaction that deletes the batch (after a rollback of it, the keys are read again from the rows). */
  deleteBatch(batchName: string): void {
    this.statements.deleteBatch.run(batchName);
    for (const [job, committed] of this.committedKeys) if (committed.batchName === batchName) this.committedKeys.delete(job);
  }

  /** The job's latest committed key; a read that fails (the store closed or gone) only loses the rollback check. */
  private latestKey(jobName: string): string | undefined {
    try {
      return this.statements.latestKey.get(jobName) as string | undefined;
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
