import type Database from 'better-sqlite3';
import type { IdempotencyRecord } from '../core/idempotency.js';

/**
 * Idempotency keys by the hash of the key (never the key or the body itself). A row outlives its batch (a deleted
 * batch's key still answers that it was deleted) until it expires.
 */
const IDEMPOTENCY_SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key_hash TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  batch_name TEXT NOT NULL,
  expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_by_expiry ON idempotency_keys (expires);
`;

/** The local store's idempotency keys; written by the store inside the transaction that accepts their batch. */
export class IdempotencyTable {
  private readonly statements;

  constructor(db: Database.Database) {
    db.exec(IDEMPOTENCY_SCHEMA);
    this.statements = {
      dropExpired: db.prepare('DELETE FROM idempotency_keys WHERE expires <= ?'),
      // A row for the same key can only be an expired one not dropped yet: the scheduler answered it before asking.
      insert: db.prepare('INSERT OR REPLACE INTO idempotency_keys (key_hash, fingerprint, batch_name, expires) VALUES (?, ?, ?, ?)'),
      all: db.prepare('SELECT key_hash, fingerprint, batch_name, expires FROM idempotency_keys ORDER BY expires'),
    };
  }

  /** Records a key, and drops the keys expired by `now` (ms since the epoch): the table holds one window of keys. */
  insert(record: IdempotencyRecord, now: number): void {
    this.statements.dropExpired.run(now);
    this.statements.insert.run(record.keyHash, record.fingerprint, record.batchName, record.expires);
  }

  /** Every key kept, soonest to expire first. */
  all(): IdempotencyRecord[] {
    const rows = this.statements.all.all() as Array<{ key_hash: string; fingerprint: string; batch_name: string; expires: number }>;
    return rows.map((row) => ({ keyHash: row.key_hash, fingerprint: row.fingerprint, batchName: row.batch_name, expires: row.expires }));
  }
}
