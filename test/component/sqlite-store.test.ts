import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ApiError } from '../../src/core/errors.js';
import type { JobRecord, NewBatch } from '../../src/core/model.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { StoreHealth } from '../../src/store/store.js';
import { FakeTimers } from '../unit/fake-timers.js';

let sequence = 0;
function aBatch(): NewBatch {
  sequence += 1;
  const name = `batch-compute-20260101000000-${String(sequence).padStart(8, '0')}`;
  const created = '2026-01-01T00:00:00.000Z';
  const record: JobRecord = {
    name: `${name}-aaaaaaaa`, batchName: name, index: 0, status: 'Waiting', created, started: null, ended: null, updated: created,
    message: null, failed: 0, attempts: [],
    spec: { timeLimitSeconds: 60, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: {}, command: ['true'], args: [] },
  };
  return { batch: { name, type: 'batch', created }, jobs: [{ record, payload: 'p' }] };
}

/** What another process would read from the file now. */
function statusOnDisk(file: string, jobName: string): string | undefined {
  const reader = new Database(file, { readonly: true });
  try {
    const row = reader.prepare('SELECT state FROM jobs WHERE name = ?').pluck().get(jobName) as string | undefined;
    return row === undefined ? undefined : (JSON.parse(row) as { status: string }).status;
  } finally {
    reader.close();
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('SqliteStore accepting a large batch', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when a batch of 2,500 jobs is accepted, it goes in several transactions and all of it is there after a reopen', async () => {
    const file = path.join(dir, 'scheduler.db');
    const store = new SqliteStore({ file });
    const small = aBatch();
    const { batch } = small;
    const jobs = Array.from({ length: 2500 }, (_, index) => ({ record: { ...small.jobs[0]!.record, name: `${batch.name}-${String(index).padStart(8, '0')}`, index }, payload: `p${index}` }));
    await store.insertBatch({ batch, jobs });
    store.close();
    const reopened = new SqliteStore({ file });
    try {
      const snapshot = reopened.load();
      assert.deepEqual(snapshot.batches.map((b) => b.name), [batch.name]);
      assert.equal(snapshot.jobs.length, 2500);
      assert.equal(reopened.readPayload(jobs[2499]!.record.name), 'p2499');
    } finally {
      reopened.close();
    }
  });

  it('when batches alternate specs between their jobs, a reopen gives every job its own batch and spec, and jobs with one spec text share one object', async () => {
    const file = path.join(dir, 'scheduler.db');
    const store = new SqliteStore({ file });
    const specOf = (command: string) => ({ ...aBatch().jobs[0]!.record.spec, command: [command] });
    const commands = [['a', 'a', 'b', 'a'], ['b', 'c'], ['c']];
    const batches = commands.map((list) => {
      const { batch, jobs: [job] } = aBatch();
      return { batch, jobs: list.map((command, index) => ({ record: { ...job!.record, name: `${batch.name}-${String(index).padStart(8, '0')}`, index, spec: specOf(command) }, payload: '' })) };
    });
    for (const batch of batches) await store.insertBatch(batch);
    store.close();
    const reopened = new SqliteStore({ file });
    try {
      const { jobs } = reopened.load();
      assert.deepEqual(jobs.map((job) => [job.batchName, job.spec.command[0]]), batches.flatMap(({ batch }, b) => commands[b]!.map((command) => [batch.name, command])));
      assert.equal(jobs[0]!.spec, jobs[3]!.spec);
      assert.equal(jobs[2]!.spec, jobs[4]!.spec);
      assert.notEqual(jobs[0]!.spec, jobs[2]!.spec);
    } finally {
      reopened.close();
    }
  });

  it('when the process dies between the transactions of a large batch, the next start has none of it (it was never answered)', () => {
    const file = path.join(dir, 'scheduler.db');
    const before = new SqliteStore({ file });
    const kept = aBatch();
    return before.insertBatch(kept).then(() => {
      before.close();
      execFileSync(process.execPath, ['--import', 'tsx', path.resolve('test/fixtures/insert-then-die.ts'), file, '3500'], { stdio: 'ignore' });
      const raw = new Database(file, { readonly: true });
      const written = raw.prepare('SELECT count(*) FROM jobs').pluck().get() as number;
      raw.close();
      assert.ok(written > 1, 'some of the large batch was written before the process died');
      const after = new SqliteStore({ file });
      try {
        const snapshot = after.load();
        assert.deepEqual(snapshot.batches.map((b) => b.name), [kept.batch.name]);
        assert.deepEqual(snapshot.jobs.map((j) => j.batchName), [kept.batch.name]);
      } finally {
        after.close();
      }
      const check = new Database(file, { readonly: true });
      assert.equal(check.prepare('SELECT count(*) FROM jobs').pluck().get(), 1, 'its rows are gone from the file too');
      check.close();
    });
  });
});

describe('SqliteStore under faults', () => {
  let dir: string;
  let file: string;
  let timers: FakeTimers;
  let store: SqliteStore;
  let other: Database.Database | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-store-'));
    file = path.join(dir, 'scheduler.db');
    timers = new FakeTimers();
    store = new SqliteStore({ file, timers, busyTimeoutMs: 0, retryMs: 100, maxRetryMs: 1000, checkIntervalMs: 5000 });
  });
  afterEach(() => {
    if (other?.inTransaction) other.exec('ROLLBACK');
    other?.close();
    other = undefined;
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A second connection holding the write lock, as another process would. */
  const lockFromElsewhere = () => {
    other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
  };

  it('when another connection holds the write lock, a change stays pending (flush answers false) and the retry writes it once the lock is gone', async () => {
    const batch = aBatch();
    await store.insertBatch(batch);
    const job = batch.jobs[0]!.record;
    const changes: StoreHealth[] = [];
    store.onHealthChange((health) => changes.push(health));
    lockFromElsewhere();
    store.saveJob({ ...job, status: 'Succeeded' });
    await nextTurn();
    assert.equal(store.health().writable, false);
    assert.equal(store.health().cause, 'locked');
    assert.equal(store.flush(), false);
    other!.exec('COMMIT');
    assert.equal(statusOnDisk(file, job.name), 'Waiting');
    timers.advance(100);
    assert.equal(store.health().writable, true);
    assert.equal(statusOnDisk(file, job.name), 'Succeeded');
    assert.deepEqual(changes.map((h) => h.cause ?? 'writable'), ['locked', 'writable']);
  });

  it('when the lock makes a group commit fail, every batch in it is refused with 503 and the pending job change is kept', async () => {
    const first = aBatch();
    await store.insertBatch(first);
    lockFromElsewhere();
    store.saveJob({ ...first.jobs[0]!.record, status: 'Running' });
    const refused = await Promise.allSettled([store.insertBatch(aBatch()), store.insertBatch(aBatch())]);
    for (const outcome of refused) {
      assert.equal(outcome.status, 'rejected');
      const error = (outcome as PromiseRejectedResult).reason as ApiError;
      assert.ok(error instanceof ApiError, String(error));
      assert.equal(error.code, 503);
      assert.match(error.message, /locked by another process/);
    }
    // While the fault lasts, a new batch is refused at once, without waiting for the lock.
    await assert.rejects(store.insertBatch(aBatch()), (error: ApiError) => error.code === 503);
    other!.exec('COMMIT');
    timers.advance(100);
    assert.equal(statusOnDisk(file, first.jobs[0]!.record.name), 'Running');
    await store.insertBatch(aBatch());
    assert.equal(store.load().batches.length, 2);
  });

  it('when a batch is deleted while the store is locked, the delete is refused with 503 and the batch stays', async () => {
    const batch = aBatch();
    await store.insertBatch(batch);
    lockFromElsewhere();
    assert.throws(() => store.deleteBatch(batch.batch.name), (error: ApiError) => error.code === 503);
    other!.exec('COMMIT');
    timers.advance(100);
    store.deleteBatch(batch.batch.name);
    assert.equal(store.load().batches.length, 0);
  });

  it('when the database file is removed, the next write is refused as gone, nothing is written to the removed file, and flush answers false', async () => {
    const batch = aBatch();
    await store.insertBatch(batch);
    const kept = path.join(dir, 'elsewhere.db');
    renameSync(file, kept);
    store.saveJob({ ...batch.jobs[0]!.record, status: 'Running' });
    await nextTurn();
    assert.equal(store.health().cause, 'gone');
    assert.equal(store.flush(), false);
    await assert.rejects(store.insertBatch(aBatch()), (error: ApiError) => error.code === 503 && /removed or replaced/.test(error.message));
    renameSync(kept, file);
    assert.equal(statusOnDisk(file, batch.jobs[0]!.record.name), 'Waiting', 'the change went nowhere while the file was away');
  });

  it('when the database file is removed and nothing is written, the periodic check notices it', async () => {
    await store.insertBatch(aBatch());
    rmSync(dir, { recursive: true, force: true });
    assert.equal(store.health().writable, true);
    timers.advance(5000);
    assert.equal(store.health().cause, 'gone');
  });

  it('when the very file is put back, the retry writes what was pending and the store is writable again', async () => {
    const batch = aBatch();
    await store.insertBatch(batch);
    const aside = path.join(dir, 'aside.db');
    renameSync(file, aside);
    store.saveJob({ ...batch.jobs[0]!.record, status: 'Succeeded' });
    await nextTurn();
    timers.advance(1000);
    assert.equal(store.health().cause, 'gone', 'a missing file stays gone across retries');
    renameSync(aside, file);
    timers.advance(1000);
    assert.equal(store.health().writable, true);
    assert.equal(statusOnDisk(file, batch.jobs[0]!.record.name), 'Succeeded');
  });

  it('when a file replaces the store, it is gone too: nothing is written into either', async () => {
    const batch = aBatch();
    await store.insertBatch(batch);
    renameSync(file, path.join(dir, 'old.db'));
    new Database(file).close();
    assert.equal(store.flush(), true, 'nothing was pending');
    store.saveJob({ ...batch.jobs[0]!.record, status: 'Running' });
    assert.equal(store.flush(), false);
    assert.equal(store.health().cause, 'gone');
  });

  it('a new store file is 0600, and so are the -wal and -shm files SQLite creates beside it', async () => {
    await store.insertBatch(aBatch());
    for (const name of ['scheduler.db', 'scheduler.db-wal', 'scheduler.db-shm']) {
      assert.equal(statSync(path.join(dir, name)).mode & 0o777, 0o600, name);
    }
  });

  it('a meta value is seen at once, and written with the next transaction', async () => {
    store.setMeta('instance', 'abc');
    assert.equal(store.getMeta('instance'), 'abc');
    assert.equal(store.flush(), true);
    store.close();
    store = new SqliteStore({ file, timers });
    assert.equal(store.getMeta('instance'), 'abc');
  });
});
