import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ApiError } from '../core/errors.js';
import type { BatchRecord, JobRecord, NewBatch, Snapshot } from '../core/model.js';
import type { JobTimeline } from '../core/timeline.js';
import { type Logger, silentLogger } from '../logger.js';
import type { JobStore, StoreHealth } from './store.js';
import { Checkpointer } from './checkpointer.js';
import { acceptedStateText, insertSlice, isLarge } from './chunks.js';
import { loadJobs, summaryText } from './load-jobs.js';
import { createDatabase, FileIdentity, hasNoSpace, migrate, SCHEMA } from './store-file.js';
import { IdempotencyTable } from './idempotency-table.js';
import { TimelineTable } from './timeline-table.js';
import { faultOf, realTimers, refusalOf, StoreGoneError, type StoreObserver, type Timers, WriteHealth } from './write-health.js';

/**
 * How long a write waits for another process's lock before it counts as failed. Writes are
 * synchronous, so this stalls the event loop: long enough for a short lock, short enough for clients.
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 500;

/**
 * SQLite's own page cache (better-sqlite3 builds it 16 MiB): the operating system caches the file too, and
 * memory held here counts against the service's memory per job (issue 14).
 */
const CACHE_KIB = 2048;
/** The page cache while a large batch goes in: the index pages its transactions write stay cached from one to the next. */
const LARGE_BATCH_CACHE_KIB = 16384;

export interface SqliteStoreOptions {
  /** The database file; created (complete, mode 0600) when it does not exist. */
  file: string;
  logger?: Logger;
  observer?: StoreObserver;
  timers?: Timers;
  now?: () => Date;
  busyTimeoutMs?: number;
  /** First and largest delay between retries of failed writes. */
  retryMs?: number;
  maxRetryMs?: number;
  /** How often the file is checked to still be the one opened, between writes. */
  checkIntervalMs?: number;
}

/** The parts of a job record that change after acceptance, stored as one JSON column. */
export type JobState = Omit<JobRecord, 'name' | 'batchName' | 'index' | 'spec'>;

interface Accepting {
  batch: NewBatch;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * SQLite in WAL mode. Accepting a batch is synced to disk (synchronous=FULL for that
 * transaction); state changes use synchronous=NORMAL, which survives a crash of this process
 * but may lose the last changes on power loss, after which the jobs' processes are gone too and
 * the restart rules apply. Changes stay pending until a transaction holding them commits; every
 * transaction first checks that the file at the path is still the one opened, so nothing is
 * written into a file that was removed.
 */
export class SqliteStore implements JobStore {
  private readonly db: Database.Database;
  private readonly identity: FileIdentity;
  private readonly pending = new Map<string, JobRecord>();
  private readonly pendingMeta = new Map<string, string>();
  private flushScheduled = false;
  private readonly accepting: Accepting[] = [];
  private readonly statements;
  private readonly timeline: TimelineTable;
  private readonly keys: IdempotencyTable;
  private readonly writes: WriteHealth;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private checkTimer: unknown;
  private jobsCommitted: () => void = () => {};
  private readonly checkpointer: Checkpointer;
  private largeBatches = 0;
  private pendingWriter: ((body?: () => void) => void) | undefined;
  private batchWriter: ((batch: NewBatch) => void) | undefined;

  constructor(private readonly options: SqliteStoreOptions) {
    const { file } = options;
    this.logger = options.logger ?? silentLogger();
    this.timers = options.timers ?? realTimers;
    if (!existsSync(file)) createDatabase(file);
    this.db = new Database(file, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    try {
      // SQLite gives the -wal and -shm files the mode of the database file.
      chmodSync(file, 0o600);
      this.identity = new FileIdentity(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = OFF');
      this.db.pragma(`cache_size = -${CACHE_KIB}`);
      this.db.exec(SCHEMA);
      migrate(this.db);
      this.timeline = new TimelineTable(this.db);
      this.keys = new IdempotencyTable(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.statements = {
      insertBatch: this.db.prepare('INSERT INTO batches (name, type, batch_id, created, accepting, labels) VALUES (?, ?, ?, ?, ?, ?)'),
      accepted: this.db.prepare('UPDATE batches SET accepting = 0 WHERE name = ?'),
      insertJob: this.db.prepare('INSERT INTO jobs (name, batch_name, idx, spec, state, payload) VALUES (?, ?, ?, ?, ?, ?)'),
      updateJob: this.db.prepare('UPDATE jobs SET state = ?, summary = ? WHERE name = ?'),
      payload: this.db.prepare('SELECT payload FROM jobs WHERE name = ?').pluck(),
      job: this.db.prepare('SELECT batch_name, idx, spec, state FROM jobs WHERE name = ?'),
      deleteJobs: this.db.prepare('DELETE FROM jobs WHERE batch_name = ?'),
      deleteBatch: this.db.prepare('DELETE FROM batches WHERE name = ?'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
    this.checkpointer = new Checkpointer(this.db, file, this.logger);
    this.writes = new WriteHealth({
      ...options, logger: this.logger, timers: this.timers, retry: () => this.retry(), isDiskFull: () => hasNoSpace(path.dirname(file)),
    });
    this.armCheck();
  }

  load(options: { deferFinished?: boolean } = {}): Snapshot {
    // A large batch whose last transaction never committed was never answered: it was not accepted.
    this.transact(() => {
      this.db.exec('DELETE FROM jobs WHERE batch_name IN (SELECT name FROM batches WHERE accepting = 1)');
      this.db.exec('DELETE FROM batches WHERE accepting = 1');
    });
    const batchRows = this.db.prepare('SELECT name, type, batch_id, created, labels FROM batches WHERE accepting = 0 ORDER BY seq').all() as Array<{
      name: string; type: BatchRecord['type']; batch_id: string | null; created: string; labels: string | null;
    }>;
    const batches = batchRows.map((row): BatchRecord => ({
      name: row.name,
      type: row.type,
      created: row.created,
      ...(row.batch_id === null ? {} : { batchId: row.batch_id }),
      ...(row.labels === null ? {} : { labels: JSON.parse(row.labels) as BatchRecord['labels'] }),
    }));
    const { jobs, finished } = loadJobs(this.db, batches.map((batch) => batch.name), this, options);
    return { batches, jobs, idempotency: this.keys.all(), ...(finished ? { finished } : {}) };
  }

  insertBatch(batch: NewBatch): Promise<void> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    if (isLarge(batch.jobs)) return this.insertInChunks(batch);
    return new Promise((resolve, reject) => {
      this.accepting.push({ batch, resolve, reject });
      if (this.accepting.length === 1) setImmediate(() => this.commitAccepted());
    });
  }

  /**
   * Group commit: every batch accepted in this turn of the event loop goes into one transaction with
   * the pending job changes, synced to disk once (synchronous=FULL). Each batch has its own savepoint
   * so that a batch the database refuses fails only its own request; a fault of the store (disk full,
   * lock, I/O) fails the whole transaction, and every request gets the store's refusal.
   */
  private commitAccepted(): void {
    const waiting = this.accepting.splice(0);
    if (waiting.length === 0) return;
    const refusal = this.refusal();
    if (refusal) {
      for (const { reject } of waiting) reject(refusal);
      return;
    }
    const refused = new Map<NewBatch, unknown>();
    const error = this.transact(() => {
      for (const { batch } of waiting) {
        try {
          this.insertOne(batch);
        } catch (batchError) {
          if (faultOf(batchError)) throw batchError;
          refused.set(batch, batchError);
        }
      }
    }, true);
    const failure = error === undefined ? undefined : this.refusal() ?? error;
    for (const { batch, resolve, reject } of waiting) {
      if (failure !== undefined) reject(failure);
      else if (refused.has(batch)) reject(refused.get(batch));
      else resolve();
    }
  }

  /** One batch in its own savepoint; the wrapper is made once (better-sqlite3 builds one per call of `transaction`). */
  private readonly insertOne = (newBatch: NewBatch) => {
    this.batchWriter ??= this.db.transaction((given: NewBatch) => {
      const { batch, jobs } = given;
      const insert = this.insertJobs();
      this.statements.insertBatch.run(batch.name, batch.type, batch.batchId ?? null, batch.created, 0, labelsText(batch));
      for (const job of jobs) insert(job);
      if (given.idempotency) this.keys.insert(given.idempotency, Date.parse(batch.created));
    });
    this.batchWriter(newBatch);
  };

  /** Inserts one job's row; jobs sharing a spec object share its text, made once. */
  private insertJobs(): (job: NewBatch['jobs'][number]) => void {
    const specTexts = new Map<object, string>();
    return ({ record, payload }) => {
      let specText = specTexts.get(record.spec);
      if (specText === undefined) {
        specText = JSON.stringify(record.spec);
        specTexts.set(record.spec, specText);
      }
      this.statements.insertJob.run(record.name, record.batchName, record.index, specText, acceptedStateText(record), payload);
    };
  }

  /**
   * A large batch goes in several transactions, one turn of the event loop each, so that no request waits
   * behind one long write. The batch is marked `accepting` until the last transaction, synced to disk,
   * clears the mark; a batch still marked at start was never answered and is dropped (`load`). Meanwhile the
   * WAL's checkpoints run in a worker (`Checkpointer`) and the page cache is larger.
   */
  private async insertInChunks({ batch, jobs, idempotency }: NewBatch): Promise<void> {
    const insert = this.insertJobs();
    this.checkpointer.start();
    if (this.largeBatches++ === 0) this.db.pragma(`cache_size = -${LARGE_BATCH_CACHE_KIB}`);
    try {
      for (let next = 0; next < jobs.length;) {
        if (next > 0) await new Promise((resolve) => setImmediate(resolve));
        const refusal = this.refusal();
        if (refusal) throw refusal;
        const first = next === 0;
        const error = this.transact(() => {
          if (first) this.statements.insertBatch.run(batch.name, batch.type, batch.batchId ?? null, batch.created, 1, labelsText(batch));
          next = insertSlice(jobs, next, insert, () => performance.now());
        });
        if (error !== undefined) throw this.refusal() ?? error;
      }
      // The key goes with the transaction that accepts the batch: a batch dropped at start never had one. Its own
      // turn: it syncs the WAL to disk.
      await new Promise((resolve) => setImmediate(resolve));
      const refusal = this.refusal();
      if (refusal) throw refusal;
      const error = this.transact(() => {
        this.statements.accepted.run(batch.name);
        if (idempotency) this.keys.insert(idempotency, Date.parse(batch.created));
      }, true);
      if (error !== undefined) throw this.refusal() ?? error;
    } catch (error) {
      // Best effort: what is left is still marked accepting, and dropped at the next start.
      this.transact(() => {
        this.statements.deleteJobs.run(batch.name);
        this.statements.deleteBatch.run(batch.name);
      });
      throw error;
    } finally {
      if (--this.largeBatches === 0 && this.db.open) this.db.pragma(`cache_size = -${CACHE_KIB}`);
    }
  }

  saveJob(job: JobRecord): void {
    this.pending.set(job.name, job);
    this.timeline.note(job);
    this.scheduleFlush();
  }

  flush(): boolean {
    if (!this.db.open || this.writes.current.cause === 'gone') return false;
    if (!this.hasPending()) return true;
    if (!this.writes.writable) return false;
    return this.transact() === undefined;
  }

  onJobsCommitted(listener: () => void): void {
    this.jobsCommitted = listener;
  }

  /** The whole record as committed (pending changes are not in it: see `isPending`). */
  readJob(name: string): JobRecord | undefined {
    const row = this.statements.job.get(name) as { batch_name: string; idx: number; spec: string; state: string } | undefined;
    return row && { name, batchName: row.batch_name, index: row.idx, spec: JSON.parse(row.spec) as JobRecord['spec'], ...(JSON.parse(row.state) as JobState) };
  }

  /** Whether a change saved for the job is not committed yet. */
  isPending(name: string): boolean {
    return this.pending.has(name);
  }

  readPayload(jobName: string): string | undefined {
    return (this.statements.payload.get(jobName) as string | null | undefined) ?? undefined;
  }

  deleteBatch(batchName: string): void {
    const refusal = this.refusal();
    if (refusal) throw refusal;
    const error = this.transact(() => {
      this.timeline.deleteBatch(batchName);
      this.statements.deleteJobs.run(batchName);
      this.statements.deleteBatch.run(batchName);
    });
    if (error !== undefined) throw this.refusal() ?? error;
  }

  readTimeline(job: JobRecord): JobTimeline {
    return this.timeline.read(job);
  }

  getMeta(key: string): string | undefined {
    return this.pendingMeta.get(key) ?? (this.statements.getMeta.get(key) as string | undefined) ?? undefined;
  }

  setMeta(key: string, value: string): void {
    this.pendingMeta.set(key, value);
    this.scheduleFlush();
  }

  health(): StoreHealth {
    return this.writes.current;
  }

  onHealthChange(listener: (health: StoreHealth) => void): () => void {
    return this.writes.onChange(listener);
  }

  close(): void {
    if (!this.db.open) return;
    if (this.hasPending() && this.writes.current.cause !== 'gone') this.transact();
    this.writes.close();
    this.checkpointer.close();
    this.timers.clearTimeout(this.checkTimer);
    if (this.hasPending()) {
      this.logger.error('store closed with changes it could not write', { jobs: this.pending.size, cause: this.writes.current.cause });
    }
    this.db.close();
  }

  /**
   * One transaction holding every pending change and then `body`. Never throws: a failure is
   * reported to the write health (which retries) and answered; the pending changes stay.
   */
  private transact(body?: () => void, durable = false): unknown {
    if (!this.identity.isSame()) {
      const error = new StoreGoneError();
      this.writes.failed(error);
      return error;
    }
    if (durable) this.db.pragma('synchronous = FULL');
    try {
      this.writePending(body);
    } catch (error) {
      this.writes.failed(error);
      return error;
    } finally {
      if (durable) this.db.pragma('synchronous = NORMAL');
    }
    const committed = this.pending.size > 0;
    this.pending.clear();
    this.pendingMeta.clear();
    this.timeline.committed();
    this.writes.succeeded();
    if (committed) this.tellCommitted();
    return undefined;
  }

  private tellCommitted(): void {
    try {
      this.jobsCommitted();
    } catch (error) {
      // What is committed stays so; a listener's fault must not look like the store's.
      this.logger.error('a listener of committed jobs failed', { error: String(error) });
    }
  }

  /** The pending changes, then `body`, in one transaction (made once: better-sqlite3 builds a wrapper per call of `transaction`). */
  private writePending(body?: () => void): void {
    this.pendingWriter ??= this.db.transaction((more?: () => void) => {
      for (const job of this.pending.values()) this.statements.updateJob.run(stateText(job), summaryText(job), job.name);
      for (const [key, value] of this.pendingMeta) this.statements.setMeta.run(key, value);
      this.timeline.write();
      more?.();
    });
    this.pendingWriter(body);
  }

  /** A retry after a failure: the pending changes, or a one-row write that shows the store can write again. */
  private retry(): void {
    if (!this.db.open) return;
    if (this.hasPending()) this.transact();
    else this.transact(() => this.statements.setMeta.run('lastWriteCheck', (this.options.now?.() ?? new Date()).toISOString()));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      // While in a fault, the retry timer owns the next attempt.
      if (this.db.open && this.writes.writable && this.hasPending()) this.transact();
    });
  }

  /** Notices a removed data directory between writes too, so that readiness reports it. */
  private armCheck(): void {
    this.checkTimer = this.timers.setTimeout(() => {
      if (!this.db.open) return;
      if (this.writes.writable && !this.identity.isSame()) this.writes.failed(new StoreGoneError());
      this.armCheck();
    }, this.options.checkIntervalMs ?? 5000);
  }

  private hasPending(): boolean {
    return this.pending.size > 0 || this.pendingMeta.size > 0;
  }

  private refusal(): ApiError | undefined {
    if (!this.db.open) return ApiError.unavailable('the service is shutting down; try again later');
    const { cause } = this.writes.current;
    return cause === undefined ? undefined : refusalOf(cause);
  }
}

function stateText(job: JobRecord): string {
  const { name: _n, batchName: _b, index: _i, spec: _s, ...state } = job;
  return JSON.stringify(state);
}

function labelsText(batch: BatchRecord): string | null {
  return batch.labels === undefined ? null : JSON.stringify(batch.labels);
}
