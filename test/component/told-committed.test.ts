import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ApiError } from '../../src/core/errors.js';
import type { JobRecord, NewBatch } from '../../src/core/model.js';
import { transitionOf } from '../../src/core/timeline.js';
import { silentLogger } from '../../src/logger.js';
import { JobFiles } from '../../src/runtimes/local/job-files.js';
import { LocalRuntime } from '../../src/runtimes/local/local-runtime.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { root, waitFor } from './harness.js';
import { holdWriteLock, type WriteLock } from './write-lock.js';

const chattyJob = path.join(root, 'test/fixtures/chatty-job.mjs');
const created = '2026-01-01T00:00:00.000Z';

function aRecord(name: string, payload: object): { record: JobRecord; payload: string } {
  return {
    record: {
      name, batchName: name, index: 0, status: 'Waiting', created, started: null, ended: null, updated: created, message: null, failed: 0, attempts: [],
      spec: { timeLimitSeconds: 600, backoffLimit: 6, resources: { limits: {}, requests: {} }, variables: {}, command: [process.execPath, chattyJob], args: [] },
    },
    payload: JSON.stringify(payload),
  };
}

/**
 * What the local runtime tells the scheduler of a job (and so what the API answers, webhooks send and the run
 * queue acts on) is what a crash cannot take back: every record told is already committed to the store.
 */
describe('the local runtime tells only committed records', function () {
  this.timeout(30_000);
  let dir: string;
  let store: SqliteStore;
  let runtime: LocalRuntime;
  let lock: WriteLock | undefined;
  /** Another connection to the store's file: it sees only what is committed. */
  let reader: Database.Database | undefined;
  /** Each record told, and whether the store's file held its transition at that moment. */
  let told: Array<{ job: JobRecord; onDisk: boolean }>;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-told-'));
    store = new SqliteStore({ file: path.join(dir, 'scheduler.db') });
    runtime = new LocalRuntime({
      store, files: new JobFiles(dir), workDir: root, baseEnv: { PATH: process.env.PATH ?? '' }, killGraceMs: 2000, retryDelayMs: 0, logger: silentLogger(),
    });
    told = [];
    await runtime.open({ jobChanged: (job) => told.push({ job, onDisk: committedKeys(job.name).includes(transitionOf(job).key) }) });
  });

  /** The job's transitions in the store's file (the timeline is written in the same transaction as the record). */
  function committedKeys(name: string): string[] {
    reader ??= new Database(path.join(dir, 'scheduler.db'), { readonly: true });
    return reader.prepare('SELECT key FROM job_timeline WHERE job_name = ? ORDER BY n').pluck().all(name) as string[];
  }

  afterEach(async () => {
    reader?.close();
    reader = undefined;
    await lock?.release();
    lock = undefined;
    await runtime.close({ terminate: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a job\'s end is told only once its write commits: while another process holds the write lock it is not told, and it is once the lock is gone', async () => {
    const job = aRecord('held-job', { hold: true });
    const batch: NewBatch = { batch: { name: 'held-job', type: 'job', created }, jobs: [job] };
    await runtime.accept(batch);
    await runtime.launch(job.record);
    await waitFor(async () => told.at(-1)?.job.status, (status) => status === 'Running');

    lock = await holdWriteLock(path.join(dir, 'scheduler.db'));
    writeFileSync(path.join(dir, 'jobs', 'held-job', 'release'), '');
    // The exit was seen and its record saved: it waits for its commit, which the lock holds back.
    await waitFor(async () => store.isPending('held-job'), (pending) => pending);
    assert.equal(store.health().writable, false);
    assert.deepEqual(told.map(({ job: { status } }) => status), ['Active', 'Running'], 'nothing is told of the end while it is not on disk');

    await lock.release();
    await waitFor(async () => told.at(-1)?.job.status, (status) => status === 'Succeeded');
    for (const { job: { status }, onDisk } of told) assert.ok(onDisk, `told ${status} before it was on disk`);
  });

  it('every record told of a job that runs, fails, is retried and succeeds was on disk when it was told', async () => {
    const job = aRecord('retried-job', { exitCodes: [3, 0] });
    await runtime.accept({ batch: { name: 'retried-job', type: 'job', created }, jobs: [job] });
    await runtime.launch(job.record);
    await waitFor(async () => told.at(-1)?.job.status, (status) => status === 'Succeeded');
    // Every transition is told, in order, even those committed in one transaction with the next.
    assert.deepEqual(told.map(({ job: { status } }) => status), ['Active', 'Running', 'Active', 'Active', 'Running', 'Succeeded']);
    for (const { job: { status }, onDisk } of told) assert.ok(onDisk, `told ${status} before it was on disk`);
  });

  it('a stop and a delete that come with the record the scheduler was told (Running) while the job\'s end waits for its commit neither undo the end nor wait for a process that has ended', async () => {
    const job = aRecord('ended-job', { hold: true });
    const batch: NewBatch = { batch: { name: 'ended-job', type: 'job', created }, jobs: [job] };
    await runtime.accept(batch);
    await runtime.launch(job.record);
    await waitFor(async () => told.at(-1)?.job.status, (status) => status === 'Running');
    const running = told.at(-1)!.job;

    lock = await holdWriteLock(path.join(dir, 'scheduler.db'));
    writeFileSync(path.join(dir, 'jobs', 'ended-job', 'release'), '');
    await waitFor(async () => store.isPending('ended-job'), (pending) => pending);
    // What the API does when a client stops or deletes the job now: the scheduler still holds Running. The stop
    // has nothing left to stop; the deletion must be written, and the store cannot write.
    await runtime.stop(running);
    await assert.rejects(runtime.remove(batch.batch, [running]), (error: ApiError) => error.code === 503);

    await lock.release();
    await waitFor(async () => told.at(-1)?.job.status, (status) => status === 'Succeeded');
    assert.deepEqual(told.map(({ job: { status } }) => status), ['Active', 'Running', 'Succeeded']);
    assert.equal(store.readJob('ended-job')?.status, 'Succeeded', 'the end on disk is not overwritten');

    // Deleted again once the store writes, it is removed: no process is left to wait for.
    await runtime.remove(batch.batch, [told.at(-1)!.job]);
    assert.equal(store.readJob('ended-job'), undefined);
  });
});
