import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { hasNoSpace } from './store-file.js';
import { faultOf } from './write-health.js';

/** The local runtime's data directory, held by this process alone until `release`. */
export interface DataDir {
  readonly dir: string;
  /** The job store's database file. */
  readonly storeFile: string;
  /** A file in the directory, created empty with mode 0600 when missing (SQLite files take its mode). */
  privateFile(name: string): string;
  /** Lets the next instance in. Idempotent. */
  release(): void;
}

/** Start-up must stop: the message says why and what to do. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

/** Who holds a data directory: written beside the lock so that a refused instance can name it. */
interface Holder {
  pid: number;
  host: string;
  since: string;
}

const STORE = 'scheduler.db';
const LOCK = 'lock.db';
const HOLDER = 'holder.json';
/** Files and folders that only a store that existed leaves behind. */
const MARKERS_OF_USE = ['jobs', `${STORE}-wal`, 'notifications.db'];

/**
 * Takes a data directory for this process: creates it, takes its lock (before anything else in it is
 * read or written), makes it private (the folder 0700, every file 0600, whatever existed before),
 * and checks that the store in it is usable. Throws `DataDirError` when another instance holds it or
 * when the store is missing or damaged.
 *
 * The lock is a write transaction held open on `lock.db`: its RESERVED lock, which one connection at a time
 * can hold, is an OS record lock (fcntl) that the kernel drops when its holder dies, even by SIGKILL, so a
 * stale lock never blocks a start. Taking it never waits on another's read lock, so of two instances that
 * start at the same moment exactly one gets it. (An EXCLUSIVE lock is not taken that way: each of two
 * instances could hold the read lock the other needed gone, and both would be refused.)
 */
export async function openDataDir(dir: string, options: { logger: Logger; now?: () => Date }): Promise<DataDir> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lockFile = path.join(dir, LOCK);
  const lock = takeLock(lockFile);
  if (!lock) throw new DataDirError(await refusedBy(dir));
  const holderFile = path.join(dir, HOLDER);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // The holder file goes first: once the lock is free, the file may already be the next holder's.
    rmSync(holderFile, { force: true });
    lock.close();
  };
  try {
    writeHolder(holderFile, { pid: process.pid, host: hostname(), since: (options.now?.() ?? new Date()).toISOString() }, options.logger);
    makePrivate(dir, options.logger);
    const storeFile = path.join(dir, STORE);
    checkStore(dir, storeFile);
    return {
      dir,
      storeFile,
      privateFile(name) {
        const file = path.join(dir, name);
        closeSync(openSync(file, 'a', 0o600));
        return file;
      },
      release,
    };
  } catch (error) {
    release();
    throw error;
  }
}

/** Best effort: without it (a full disk) a refused instance cannot name the holder, but the lock holds all the same. */
function writeHolder(file: string, holder: Holder, logger: Logger): void {
  try {
    writeFileSync(`${file}.new`, JSON.stringify(holder), { mode: 0o600 });
    renameSync(`${file}.new`, file);
  } catch (error) {
    rmSync(`${file}.new`, { force: true });
    logger.warn('cannot write the data directory holder file', { path: file, code: (error as NodeJS.ErrnoException).code });
  }
}

/** The lock, or undefined when another process holds it. */
function takeLock(lockFile: string): Database.Database | undefined {
  closeSync(openSync(lockFile, 'a', 0o600));
  const db = new Database(lockFile, { timeout: 0 });
  try {
    // No journal file: the transaction never writes, it only holds the lock.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN IMMEDIATE');
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return undefined;
    throw error;
  }
}

/** The message for a refused instance; waits briefly for a holder that has the lock but has not written its name yet. */
async function refusedBy(dir: string): Promise<string> {
  let holder: Holder | undefined;
  for (let tries = 0; tries < 20; tries++) {
    holder = readHolder(path.join(dir, HOLDER));
    if (holder && (holder.host !== hostname() || isAlive(holder.pid))) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const who = holder ? `pid ${holder.pid} on host ${holder.host}, since ${holder.since}` : 'a process that has not written its name yet';
  return `the data directory ${dir} is in use by another job-scheduler (${who}); `
    + 'only one instance may use a data directory: stop that one first, or give this one its own JOB_SCHEDULER_DATA_DIR';
}

function readHolder(file: string): Holder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    if (typeof holder.pid === 'number' && typeof holder.host === 'string' && typeof holder.since === 'string') return holder as Holder;
  } catch {
    // Missing or half-written: unknown.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The folder 0700, every folder in it 0700 and every file 0600, whatever created them. Symbolic
 * links are left alone (chmod would follow them out of the directory).
 */
function makePrivate(dir: string, logger: Logger): void {
  const restrict = (target: string, mode: number) => {
    try {
      chmodSync(target, mode);
    } catch (error) {
      logger.warn('cannot restrict the permissions of a data directory entry', { path: target, code: (error as NodeJS.ErrnoException).code });
    }
  };
  restrict(dir, 0o700);
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const target = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        restrict(target, 0o700);
        walk(target);
      } else if (entry.isFile()) {
        restrict(target, 0o600);
      }
    }
  };
  walk(dir);
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** A store that is missing where one was used, empty, or not SQLite, is refused instead of started afresh. */
function checkStore(dir: string, storeFile: string): void {
  const fresh = `to start with an empty store instead, move the data directory's contents away (or point JOB_SCHEDULER_DATA_DIR at an empty directory)`;
  if (!existsSync(storeFile)) {
    const marker = MARKERS_OF_USE.find((name) => existsSync(path.join(dir, name)));
    if (marker) {
      throw new DataDirError(`${storeFile} is missing, but ${dir} was used before (it holds ${marker}): the accepted jobs' records are gone. `
        + `Restore ${STORE} from a backup; ${fresh}`);
    }
    return;
  }
  const size = statSync(storeFile).size;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(storeFile, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (size === 0 || !header.equals(SQLITE_HEADER)) {
    const what = size === 0 ? 'is empty (0 bytes)' : 'is not an SQLite database';
    throw new DataDirError(`${storeFile} ${what}: the store is damaged. Restore it from a backup; ${fresh}`);
  }
}

/**
 * Opens the job store of a data directory. A store that cannot be opened because of the disk or another
 * process stops start-up with a `DataDirError` saying what to do, instead of a stack trace.
 */
export function openStore(dataDir: DataDir, options: Omit<SqliteStoreOptions, 'file'>): SqliteStore {
  try {
    return new SqliteStore({ ...options, file: dataDir.storeFile });
  } catch (error) {
    const fault = faultOf(error);
    if (!fault) throw error;
    const code = (error as { code?: string }).code;
    const what = fault === 'disk-full' || hasNoSpace(dataDir.dir)
      ? 'the disk of the data directory is full: free space there'
      : fault === 'locked'
        ? 'another process holds its lock: end that process'
        : 'an I/O error: check the disk of the data directory and its mount';
    throw new DataDirError(`cannot open the store ${dataDir.storeFile} (${code}): ${what}, then start the service again`);
  }
}
