import Database from 'better-sqlite3';
import type { OutboxEvent } from './events.js';
import type { Outbox } from './outbox.js';

/** The outbox in its own SQLite file beside the local runtime's store; appends are synced to disk. */
export class SqliteOutbox implements Outbox {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly appendAll: (events: OutboxEvent[], told: Array<[string, string]>) => void;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS told (job TEXT PRIMARY KEY, key TEXT NOT NULL);
    `);
    this.statements = {
      insert: this.db.prepare('INSERT OR IGNORE INTO outbox (id, body) VALUES (?, ?)'),
      tell: this.db.prepare('INSERT INTO told (job, key) VALUES (?, ?) ON CONFLICT (job) DO UPDATE SET key = excluded.key'),
      pending: this.db.prepare('SELECT id, body FROM outbox ORDER BY seq LIMIT ?'),
      delivered: this.db.prepare('DELETE FROM outbox WHERE id = ?'),
      forget: this.db.prepare('DELETE FROM told WHERE job = ?'),
    };
    this.appendAll = this.db.transaction((events: OutboxEvent[], told: Array<[string, string]>) => {
      for (const event of events) this.statements.insert.run(event.id, event.body);
      for (const [job, key] of told) this.statements.tell.run(job, key);
    });
  }

  lastTold(): Map<string, string> {
    const rows = this.db.prepare('SELECT job, key FROM told').all() as Array<{ job: string; key: string }>;
    return new Map(rows.map((row) => [row.job, row.key]));
  }

  append(events: OutboxEvent[], told: Array<[string, string]>): void {
    this.appendAll(events, told);
  }

  pending(limit: number): OutboxEvent[] {
    return this.statements.pending.all(limit) as OutboxEvent[];
  }

  delivered(id: string): void {
    this.statements.delivered.run(id);
  }

  forget(jobs: string[]): void {
    this.db.transaction(() => {
      for (const job of jobs) this.statements.forget.run(job);
    })();
  }

  close(): void {
    this.db.close();
  }
}
