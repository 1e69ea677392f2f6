import Database from 'better-sqlite3';
import type { BatchRecord, JobRecord, NewBatch, Snapshot } from '../core/model.js';
import type { JobStore } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  batch_id TEXT,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  name TEXT PRIMARY KEY,
  batch_name TEXT NOT NULL,
  idx INTEGER NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  payload TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_batch ON jobs (batch_name, idx);
`;

/** The parts of a job record that change after acceptance, stored as one JSON column. */
type JobState = Omit<JobRecord, 'name' | 'batchName' | 'index' | 'spec'>;

/**
 * SQLite in WAL mode. Accepting a batch is synced to disk (synchronous=FULL for that
 * transaction); state changes use synchronous=NORMAL, which survives a crash of this process
 * but may lose the last changes on power loss, after which the jobs' processes are gone too and
 * the restart rules apply.
 */
export class SqliteStore implements JobStore {
  private readonly db: Database.Database;
  private readonly pending = new Map<string, JobRecord>();
  private flushScheduled = false;
  private readonly accepting: Array<{ batch: NewBatch; resolve: () => void; reject: (error: unknown) => void }> = [];
  private readonly statements;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = OFF');
    this.db.exec(SCHEMA);
    this.statements = {
      insertBatch: this.db.prepare('INSERT INTO batches (name, type, batch_id, created) VALUES (?, ?, ?, ?)'),
      insertJob: this.db.prepare('INSERT INTO jobs (name, batch_name, idx, spec, state, payload) VALUES (?, ?, ?, ?, ?, ?)'),
      updateJob: this.db.prepare('UPDATE jobs SET state = ? WHERE name = ?'),
      payload: this.db.prepare('SELECT payload FROM jobs WHERE name = ?').pluck(),
      deleteJobs: this.db.prepare('DELETE FROM jobs WHERE batch_name = ?'),
      deleteBatch: this.db.prepare('DELETE FROM batches WHERE name = ?'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
  }

  load(): Snapshot {
    const batchRows = this.db.prepare('SELECT name, type, batch_id, created FROM batches ORDER BY seq').all() as Array<{
      name: string; type: BatchRecord['type']; batch_id: string | null; created: string;
    }>;
    const batches = batchRows.map((row): BatchRecord => ({
      name: row.name,
      type: row.type,
      created: row.created,
      ...(row.batch_id === null ? {} : { batchId: row.batch_id }),
    }));
    const jobRows = this.db.prepare(
      'SELECT j.name, j.batch_name, j.idx, j.spec, j.state FROM jobs j JOIN batches b ON b.name = j.batch_name ORDER BY b.seq, j.idx',
    ).all() as Array<{ name: string; batch_name: string; idx: number; spec: string; state: string }>;
    const specs = new Map<string, JobRecord['spec']>();
    const jobs = jobRows.map((row): JobRecord => {
      // Jobs of one batch mostly share one spec; parse each distinct text once and share it.
      let spec = specs.get(row.spec);
      if (!spec) {
        spec = JSON.parse(row.spec) as JobRecord['spec'];
        specs.set(row.spec, spec);
      }
      return { name: row.name, batchName: row.batch_name, index: row.idx, spec, ...(JSON.parse(row.state) as JobState) };
    });
    return { batches, jobs };
  }

  insertBatch(batch: NewBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.accepting.push({ batch, resolve, reject });
      if (this.accepting.length === 1) setImmediate(() => this.commitAccepted());
    });
  }

  /**
   * Group commit: every batch accepted in this turn of the event loop goes into one transaction,
   * synced to disk once (synchronous=FULL), each in its own savepoint so one failure fails only
   * its own request.
   */
  private commitAccepted(): void {
    const waiting = this.accepting.splice(0);
    if (waiting.length === 0) return;
    if (!this.db.open) {
      for (const { reject } of waiting) reject(new Error('the store is closed'));
      return;
    }
    this.flush();
    const failed = new Map<NewBatch, unknown>();
    this.db.pragma('synchronous = FULL');
    try {
      this.db.transaction(() => {
        for (const { batch } of waiting) {
          try {
            this.insertOne(batch);
          } catch (error) {
            failed.set(batch, error);
          }
        }
      })();
    } catch (error) {
      for (const { batch } of waiting) failed.set(batch, error);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
    for (const { batch, resolve, reject } of waiting) {
      if (failed.has(batch)) reject(failed.get(batch));
      else resolve();
    }
  }

  private readonly insertOne = (newBatch: NewBatch) => {
    const { batch, jobs } = newBatch;
    const specTexts = new Map<object, string>();
    this.db.transaction(() => {
      this.statements.insertBatch.run(batch.name, batch.type, batch.batchId ?? null, batch.created);
      for (const { record, payload } of jobs) {
        let specText = specTexts.get(record.spec);
        if (specText === undefined) {
          specText = JSON.stringify(record.spec);
          specTexts.set(record.spec, specText);
        }
        this.statements.insertJob.run(record.name, record.batchName, record.index, specText, stateText(record), payload);
      }
    })();
  };

  saveJob(job: JobRecord): void {
    this.pending.set(job.name, job);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): boolean {
    this.flushScheduled = false;
    if (!this.db.open) return false;
    if (this.pending.size === 0) return true;
    const jobs = [...this.pending.values()];
    this.pending.clear();
    this.db.transaction(() => {
      for (const job of jobs) this.statements.updateJob.run(stateText(job), job.name);
    })();
    return true;
  }

  readPayload(jobName: string): string | undefined {
    return (this.statements.payload.get(jobName) as string | null | undefined) ?? undefined;
  }

  deleteBatch(batchName: string): void {
    this.flush();
    this.db.transaction(() => {
      this.statements.deleteJobs.run(batchName);
      this.statements.deleteBatch.run(batchName);
    })();
  }

  getMeta(key: string): string | undefined {
    return (this.statements.getMeta.get(key) as string | undefined) ?? undefined;
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run(key, value);
  }

  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }
}

function stateText(job: JobRecord): string {
  const { name: _n, batchName: _b, index: _i, spec: _s, ...state } = job;
  return JSON.stringify(state);
}
