import { chmodSync, renameSync, rmSync, statfsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { migrateSummaries } from './load-jobs.js';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  batch_id TEXT,
  created TEXT NOT NULL,
  accepting INTEGER NOT NULL DEFAULT 0,
  labels TEXT
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

/**
 * Brings a store made by an earlier version up to this schema: `batches.accepting` marks a large batch
 * written in several transactions until its last one commits; `batches.labels` holds a batch's labels as JSON
 * (a job's are in its spec); `jobs.summary` and the partial indexes that let a start read finished jobs' summaries only (load-jobs.ts).
 */
export function migrate(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(batches)').all() as Array<{ name: string }>;
  if (!columns.some((column) => column.name === 'accepting')) db.exec('ALTER TABLE batches ADD COLUMN accepting INTEGER NOT NULL DEFAULT 0');
  if (!columns.some((column) => column.name === 'labels')) db.exec('ALTER TABLE batches ADD COLUMN labels TEXT');
  migrateSummaries(db);
}

/**
 * The page size of a new store (SQLite's default is 4 KiB; a store made earlier keeps its own). A job's row
 * holds its payload (1 KiB is usual), so a 4 KiB page holds three: a 100,000-job batch wrote 4 times as many
 * WAL frames, each its own write, and split pages 4 times as often; 16 KiB took a quarter to a third off its
 * insert (issue 14).
 */
const PAGE_BYTES = 16384;

/**
 * Creates a new database under a temporary name and renames it into place, so that the path holds
 * either nothing or a complete store (a 0-byte file at start means damage, never an interrupted start).
 */
export function createDatabase(file: string): void {
  const temporary = `${file}.new`;
  rmSync(temporary, { force: true });
  const db = new Database(temporary);
  try {
    chmodSync(temporary, 0o600);
    db.pragma(`page_size = ${PAGE_BYTES}`);
    db.exec(SCHEMA);
  } finally {
    db.close();
  }
  renameSync(temporary, file);
}

/** Remembers which file is at a path, to notice when it is removed or replaced (the data directory deleted). */
export class FileIdentity {
  private readonly identity: { dev: number; ino: number };

  constructor(private readonly file: string) {
    const identity = identityOf(file);
    if (!identity) throw new Error(`${file} does not exist`);
    this.identity = identity;
  }

  /** False when the path no longer holds the file first seen; a path that cannot be examined counts as the same (the write will tell). */
  isSame(): boolean {
    let now;
    try {
      now = identityOf(this.file);
    } catch {
      return true;
    }
    return now !== undefined && now.dev === this.identity.dev && now.ino === this.identity.ino;
  }
}

/** The file's identity; undefined when nothing is at the path (or a folder on the way is gone). */
function identityOf(file: string): { dev: number; ino: number } | undefined {
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    return stat && { dev: stat.dev, ino: stat.ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Whether the file system holding `dir` has less than 1 MiB left for this process; false when it cannot tell. */
export function hasNoSpace(dir: string): boolean {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize < 1024 * 1024;
  } catch {
    return false;
  }
}
