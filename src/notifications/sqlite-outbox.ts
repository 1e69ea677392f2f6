import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { EventHeader, OutboxEvent } from './events.js';
import { type DeadLetter, deadLetterOf, type Outbox } from './outbox.js';

/** Removed rows after which the free space is looked at even while events still wait. */
const COMPACT_EVERY = 1000;
/** Free pages worth giving back: at least this many, and at least a quarter of the file. */
const MIN_FREE_PAGES = 64;

/**
 * The outbox in its own SQLite file beside the local runtime's store; appends are synced to disk.
 * Delivered events are deleted, and the file gives their space back (incremental auto-vacuum, then a
 * truncating checkpoint of the write-ahead log) once the outbox drains or much was removed.
 */
export class SqliteOutbox implements Outbox {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly appendAll: (events: OutboxEvent[], told: Array<[string, string]>, dropped: string[]) => void;
  private readonly moveToDeadLetters: (event: OutboxEvent, letter: DeadLetter) => void;
  private held: number;
  private removedSinceCompact = 0;

  constructor(file: string, private readonly keepDeadLetters: number) {
    // Events name batches, jobs and their ids: only the service's user may read them (SQLite gives its WAL the same mode).
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    this.db = new Database(file);
    if (this.db.pragma('auto_vacuum', { simple: true }) !== 2) {
      // Only a VACUUM turns it on in a file made without it (as earlier versions made them).
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.exec('VACUUM');
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('journal_size_limit = 4194304');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS told (job TEXT PRIMARY KEY, key TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS dead_letters (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, type TEXT NOT NULL,
        batch TEXT NOT NULL, job TEXT, jobs INTEGER NOT NULL, bytes INTEGER NOT NULL, status INTEGER NOT NULL, at TEXT NOT NULL, body TEXT NOT NULL);
    `);
    this.addHeaderColumns();
    this.statements = {
      insert: this.db.prepare('INSERT OR IGNORE INTO outbox (id, type, batch, job, jobs, bytes, body) VALUES (@id, @type, @batch, @job, @jobs, @bytes, @body)'),
      tell: this.db.prepare('INSERT INTO told (job, key) VALUES (?, ?) ON CONFLICT (job) DO UPDATE SET key = excluded.key'),
      pending: this.db.prepare('SELECT id, type, batch, job, jobs, bytes FROM outbox ORDER BY seq'),
      body: this.db.prepare('SELECT body FROM outbox WHERE id = ?').pluck(),
      remove: this.db.prepare('DELETE FROM outbox WHERE id = ?'),
      forget: this.db.prepare('DELETE FROM told WHERE job = ?'),
      letter: this.db.prepare('INSERT INTO dead_letters (id, type, batch, job, jobs, bytes, status, at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      trimLetters: this.db.prepare('DELETE FROM dead_letters WHERE seq <= (SELECT MAX(seq) FROM dead_letters) - ?'),
      letters: this.db.prepare('SELECT id, type, batch, job, jobs, bytes, status, at FROM dead_letters ORDER BY seq DESC LIMIT ?'),
    };
    this.held = this.db.prepare('SELECT COUNT(*) FROM outbox').pluck().get() as number;
    this.appendAll = this.db.transaction((events: OutboxEvent[], told: Array<[string, string]>, dropped: string[]) => {
      for (const event of events) this.held += this.statements.insert.run({ ...event, job: event.job ?? null }).changes;
      for (const [job, key] of told) this.statements.tell.run(job, key);
      for (const id of dropped) this.held -= this.statements.remove.run(id).changes;
    });
    this.moveToDeadLetters = this.db.transaction((event: OutboxEvent, letter: DeadLetter) => {
      this.held -= this.statements.remove.run(event.id).changes;
      this.statements.letter.run(letter.id, letter.event, letter.batchName, letter.jobName ?? null, letter.jobs, letter.bytes, letter.responseStatus, letter.deadLettered, event.body);
      this.statements.trimLetters.run(this.keepDeadLetters);
    });
  }

  lastTold(): Map<string, string> {
    const rows = this.db.prepare('SELECT job, key FROM told').all() as Array<{ job: string; key: string }>;
    return new Map(rows.map((row) => [row.job, row.key]));
  }

  pending(): EventHeader[] {
    const rows = this.statements.pending.all() as Array<EventHeader & { job: string | null }>;
    return rows.map(({ job, ...header }) => (job === null ? header : { ...header, job }));
  }

  body(id: string): string | undefined {
    return this.statements.body.get(id) as string | undefined;
  }

  append(events: OutboxEvent[], told: Array<[string, string]>, dropped: string[]): void {
    this.appendAll(events, told, dropped);
    this.removed(dropped.length);
  }

  delivered(id: string): void {
    this.held -= this.statements.remove.run(id).changes;
    this.removed(1);
  }

  deadLetter(event: OutboxEvent, refusal: { responseStatus: number; at: string }): void {
    this.moveToDeadLetters(event, deadLetterOf(event, refusal));
    this.removed(1);
  }

  deadLetters(limit: number): DeadLetter[] {
    const rows = this.statements.letters.all(limit) as Array<{ id: string; type: DeadLetter['event']; batch: string; job: string | null; jobs: number; bytes: number; status: number; at: string }>;
    return rows.map((row) => deadLetterOf(
      { id: row.id, type: row.type, batch: row.batch, jobs: row.jobs, bytes: row.bytes, ...(row.job === null ? {} : { job: row.job }) },
      { responseStatus: row.status, at: row.at },
    ));
  }

  forget(jobs: string[]): void {
    this.db.transaction(() => {
      for (const job of jobs) this.statements.forget.run(job);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private removed(count: number): void {
    if (count === 0) return;
    this.removedSinceCompact += count;
    if (this.held > 0 && this.removedSinceCompact < COMPACT_EVERY) return;
    this.removedSinceCompact = 0;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    if (free < MIN_FREE_PAGES || free * 4 < pages) return;
    this.db.pragma('incremental_vacuum');
    // The WAL holds the freed pages until a checkpoint writes the smaller file back; truncate it as well.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Files written by earlier versions hold only id and body: derive the header columns from the body once. */
  private addHeaderColumns(): void {
    const columns = new Set((this.db.pragma('table_info(outbox)') as Array<{ name: string }>).map((column) => column.name));
    if (columns.has('batch')) return;
    this.db.transaction(() => {
      for (const column of ['type TEXT', 'batch TEXT', 'job TEXT', 'jobs INTEGER', 'bytes INTEGER']) this.db.exec(`ALTER TABLE outbox ADD COLUMN ${column}`);
      this.db.exec(`UPDATE outbox SET type = json_extract(body, '$.event'), batch = json_extract(body, '$.name'),
        job = CASE json_extract(body, '$.event') WHEN 'Update' THEN json_extract(body, '$.jobStatuses[0].name') END,
        jobs = json_array_length(body, '$.jobStatuses'), bytes = length(CAST(body AS BLOB))`);
    })();
  }
}
