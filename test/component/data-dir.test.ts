import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { silentLogger } from '../../src/logger.js';
import { type DataDir, DataDirError, openDataDir } from '../../src/store/data-dir.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const logger = silentLogger();

/** Another process that takes data directories when asked (test/fixtures/lock-taker.ts); each answer is one line. */
function lockTaker(): { ask(line: string): Promise<string>; end(): void } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/fixtures/lock-taker.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async ask(line) {
      child.stdin!.write(`${line}\n`);
      const answer = await lines.next();
      if (answer.done) throw new Error(`the lock taker ended (exit code ${child.exitCode})`);
      return answer.value as string;
    },
    end: () => child.stdin!.end(),
  };
}

/** Every entry under `dir` (itself included) with its permission bits. */
function modes(dir: string): Map<string, number> {
  const found = new Map<string, number>([['.', statSync(dir).mode & 0o777]]);
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      found.set(path.relative(dir, full), statSync(full).mode & 0o777);
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return found;
}

describe('the data directory', () => {
  let root: string;
  let dir: string;
  const opened: DataDir[] = [];
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'job-scheduler-datadir-'));
    dir = path.join(root, 'data');
  });
  afterEach(() => {
    for (const taken of opened.splice(0)) taken.release();
    rmSync(root, { recursive: true, force: true });
  });
  const open = async () => {
    const taken = await openDataDir(dir, { logger });
    opened.push(taken);
    return taken;
  };

  it('when another instance holds it, a second one is refused with a message naming the holder; once released, the next one gets it', async () => {
    const first = await open();
    await assert.rejects(open(), (error: Error) => error instanceof DataDirError
      && error.message.includes(`pid ${process.pid} on host ${hostname()}`) && /since \d{4}-/.test(error.message) && /JOB_SCHEDULER_DATA_DIR/.test(error.message));
    first.release();
    first.release();
    await open();
  });

  it('when two instances ask at the same moment, exactly one gets it', async () => {
    const outcomes = await Promise.allSettled([open(), open(), open()]);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
  });

  it('when two processes ask at the same moment, again and again, exactly one gets it each time', async () => {
    const takers = [lockTaker(), lockTaker()];
    try {
      for (let round = 0; round < 40; round++) {
        const wanted = path.join(root, `round-${round}`);
        const answers = await Promise.all(takers.map((taker) => taker.ask(`take ${wanted}`)));
        assert.deepEqual(answers.filter((answer) => answer === 'held').length, 1, `round ${round}: ${answers.join(', ')}`);
        await takers[answers.indexOf('held')]!.ask('release');
      }
    } finally {
      for (const taker of takers) taker.end();
    }
  });

  it('when it existed with 0755 and files 0644, it ends 0700 with every file 0600, and files created later are 0600 too', async () => {
    mkdirSync(path.join(dir, 'jobs', 'batch-compute-20260101000000-aaaaaaaa-bbbbbbbb'), { recursive: true, mode: 0o755 });
    const db = new Database(path.join(dir, 'scheduler.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    db.close();
    writeFileSync(path.join(dir, 'jobs', 'batch-compute-20260101000000-aaaaaaaa-bbbbbbbb', 'payload'), 'secret', { mode: 0o644 });
    for (const name of ['.', 'jobs', 'jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb']) chmodSync(path.join(dir, name), 0o755);
    chmodSync(path.join(dir, 'scheduler.db'), 0o644);
    const taken = await open();
    const store = new SqliteStore({ file: taken.storeFile });
    store.setMeta('x', 'y');
    store.flush();
    const outbox = new Database(taken.privateFile('notifications.db'));
    outbox.pragma('journal_mode = WAL');
    outbox.exec('CREATE TABLE t (x)');
    const found = modes(dir);
    try {
      for (const name of ['scheduler.db-wal', 'scheduler.db-shm', 'notifications.db-wal', 'lock.db', 'holder.json']) assert.ok(found.has(name), name);
      for (const [name, mode] of found) {
        const folder = name === '.' || statSync(path.join(dir, name)).isDirectory();
        assert.equal(mode.toString(8), folder ? '700' : '600', name);
      }
    } finally {
      outbox.close();
      store.close();
    }
  });

  it('when scheduler.db is empty (0 bytes), start is refused with a message saying so and how to start fresh', async () => {
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'scheduler.db'), '');
    await assert.rejects(open(), (error: Error) => error instanceof DataDirError && /is empty \(0 bytes\)/.test(error.message) && /empty store/.test(error.message));
  });

  it('when scheduler.db is not an SQLite database, start is refused', async () => {
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'scheduler.db'), 'hello, this is not a database at all');
    await assert.rejects(open(), (error: Error) => error instanceof DataDirError && /is not an SQLite database/.test(error.message));
  });

  it('when scheduler.db is missing from a directory used before, start is refused; a new directory starts', async () => {
    mkdirSync(path.join(dir, 'jobs'), { recursive: true });
    await assert.rejects(open(), (error: Error) => error instanceof DataDirError && /is missing/.test(error.message) && /holds jobs/.test(error.message));
    rmSync(path.join(dir, 'jobs'), { recursive: true });
    await open();
  });

  it('when a refused start is over, the lock is free again', async () => {
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'scheduler.db'), '');
    await assert.rejects(open());
    rmSync(path.join(dir, 'scheduler.db'));
    await open();
  });
});
