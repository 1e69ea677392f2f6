import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';
import type { BatchStatusView, JobStatusView } from '../../src/core/view.js';
import { silentLogger } from '../../src/logger.js';
import { JobFiles } from '../../src/runtimes/local/job-files.js';
import { LocalRuntime } from '../../src/runtimes/local/local-runtime.js';
import { Scheduler, type SchedulerListener } from '../../src/scheduler/scheduler.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { apiDocument, root, waitFor } from './harness.js';
import { holdWriteLock, type WriteLock } from './write-lock.js';

const chattyJob = path.join(root, 'test/fixtures/chatty-job.mjs');

/** What the scheduler told its listener, with what the store's file held for each of the batch's jobs at that moment. */
interface Told {
  job: string;
  status: string;
  onDisk: Record<string, string | undefined>;
  /** The statuses of the told job's transitions committed to the store's file at that moment. */
  committed: string[];
}

/**
 * With one running slot, a job's end hands the slot to the next job before that end is committed: the next job's
 * start is committed in the same transaction as the end, and nothing of either is told, nor the next job spawned,
 * before that commit.
 */
describe('a finished job\'s slot goes to the next job in the transaction that records the end', function () {
  this.timeout(30_000);
  let dir: string;
  let store: SqliteStore;
  let scheduler: Scheduler;
  let runtime: LocalRuntime;
  let lock: WriteLock | undefined;
  let reader: Database.Database | undefined;
  let told: Told[];
  let names: string[];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-handover-'));
    const config = loadConfig({
      env: { JOB_SCHEDULER_DATA_DIR: dir }, componentYaml: JSON.stringify({ name: 'compute', command: [process.execPath, chattyJob] }),
      componentPath: 'component.yaml', apiDocument, cpus: 2,
    });
    store = new SqliteStore({ file: path.join(dir, 'scheduler.db') });
    runtime = new LocalRuntime({
      store, files: new JobFiles(dir), workDir: root, baseEnv: { PATH: process.env.PATH ?? '' }, killGraceMs: 2000, retryDelayMs: 0, logger: silentLogger(),
    });
    told = [];
    names = [];
    const onDisk = () => Object.fromEntries(names.map((name) => [name, store.readJob(name)?.status]));
    // Another connection to the store's file sees only what is committed; a Running written with the job's end is
    // in its timeline while its row already holds the end.
    reader = new Database(path.join(dir, 'scheduler.db'), { readonly: true });
    const committed = (name: string) => (reader!.prepare('SELECT entry FROM job_timeline WHERE job_name = ? ORDER BY n').pluck().all(name) as string[])
      .map((entry) => (JSON.parse(entry) as { status: string }).status);
    const listener: SchedulerListener = {
      opened: () => {},
      batchCreated: () => {},
      jobChanged: (_batch: BatchStatusView, job: JobStatusView) => told.push({ job: job.name, status: job.status, onDisk: onDisk(), committed: committed(job.name) }),
      batchDeleted: () => {},
    };
    scheduler = new Scheduler({ runtime, component: config.component, maxRunning: 1, logger: silentLogger(), listener });
    await scheduler.start();
  });

  afterEach(async () => {
    reader?.close();
    reader = undefined;
    await lock?.release();
    lock = undefined;
    await scheduler.close();
    await runtime.close({ terminate: true });
    rmSync(dir, { recursive: true, force: true });
  });

  async function submit(payloads: object[]): Promise<void> {
    const batch = await scheduler.createBatch({ jobScheduleDescriptions: payloads.map((payload) => ({ payload: JSON.stringify(payload) })) });
    names = batch.jobStatuses!.map((job) => job.name);
  }

  const statusesOf = (name: string) => told.filter((entry) => entry.job === name).map((entry) => entry.status);

  it('when a job ends, the next job\'s start is on disk by the time the end is told, and every record told was on disk', async () => {
    await submit([{}, {}]);
    const [first, second] = names as [string, string];
    await waitFor(async () => statusesOf(second).at(-1), (status) => status === 'Succeeded');

    const end = told.find((entry) => entry.job === first && entry.status === 'Succeeded')!;
    assert.equal(end.onDisk[second], 'Active', 'the next start was committed with the end');
    assert.deepEqual(statusesOf(first), ['Active', 'Running', 'Succeeded']);
    assert.deepEqual(statusesOf(second), ['Active', 'Running', 'Succeeded']);
    assert.ok(told.indexOf(end) < told.findIndex((entry) => entry.job === second), 'the end is told before the next start');
    for (const { job, status, committed } of told) assert.ok(committed.includes(status), `told ${job} ${status} while the store's file held ${committed.join(', ')}`);
  });

  it('when the store cannot write as a job ends, the next job is neither told nor spawned until both are on disk', async () => {
    await submit([{ hold: true }, {}]);
    const [first, second] = names as [string, string];
    await waitFor(async () => statusesOf(first).at(-1), (status) => status === 'Running');

    lock = await holdWriteLock(path.join(dir, 'scheduler.db'));
    writeFileSync(path.join(dir, 'jobs', first, 'release'), '');
    // The end was seen and written in vain (the lock): the store is not writable until a retry gets through.
    await waitFor(async () => store.health().writable, (writable) => !writable);
    assert.equal(existsSync(path.join(dir, 'jobs', second)), false, 'the next job was not spawned (its folder is made at its spawn)');
    assert.deepEqual(statusesOf(first), ['Active', 'Running'], 'the end is not told while it is not on disk');
    assert.deepEqual(statusesOf(second), [], 'the next start is not told while it is not on disk');

    await lock.release();
    await waitFor(async () => statusesOf(second).at(-1), (status) => status === 'Succeeded');
    assert.deepEqual(statusesOf(first), ['Active', 'Running', 'Succeeded']);
    assert.ok(told.findIndex((entry) => entry.job === first && entry.status === 'Succeeded') < told.findIndex((entry) => entry.job === second));
    for (const { job, status, committed } of told) assert.ok(committed.includes(status), `told ${job} ${status} while the store's file held ${committed.join(', ')}`);
  });
});
