import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { JobFiles } from '../../src/runtimes/local/job-files.js';
import { LocalRuntime } from '../../src/runtimes/local/local-runtime.js';
import { Scheduler, type SchedulerListener } from '../../src/scheduler/scheduler.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { apiDocument, root, waitFor } from './harness.js';

const oneTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A large batch enters the index and has its view built over several turns of the event loop. What happens to it
 * meanwhile reaches the listeners (webhook, live events) after its Create, never before.
 */
describe('what the listeners are told of a batch comes after its Create', function () {
  this.timeout(60_000);
  let dir: string;
  let scheduler: Scheduler;
  let runtime: LocalRuntime;
  /** Each call to the listener, in order: "create <batch>", "change <batch> <status>", "delete <batch>". */
  let told: string[];
  /** The jobs told as ended. */
  let ended: Set<string>;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-announce-'));
    const config = loadConfig({
      env: { JOB_SCHEDULER_DATA_DIR: dir }, componentYaml: JSON.stringify({ name: 'compute', command: ['/bin/true'] }),
      componentPath: 'component.yaml', apiDocument, cpus: 2,
    });
    const store = new SqliteStore({ file: path.join(dir, 'scheduler.db') });
    runtime = new LocalRuntime({
      store, files: new JobFiles(dir), workDir: root, baseEnv: { PATH: process.env.PATH ?? '' }, killGraceMs: 2000, retryDelayMs: 0, logger: silentLogger(),
    });
    told = [];
    ended = new Set();
    const listener: SchedulerListener = {
      opened: () => {},
      batchCreated: (batch) => told.push(`create ${batch.name}`),
      jobChanged: (batch, job) => {
        told.push(`change ${batch.name} ${job.status}`);
        if (['Succeeded', 'Failed', 'Stopped'].includes(job.status)) ended.add(job.name);
      },
      batchDeleted: (batch) => told.push(`delete ${batch.name}`),
    };
    scheduler = new Scheduler({ runtime, component: config.component, maxRunning: 1, logger: silentLogger(), listener });
    await scheduler.start();
  });

  afterEach(async () => {
    await scheduler.close();
    await runtime.close({ terminate: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('when every batch is stopped while a 5,000-job batch is still being indexed, every job of it is stopped, and their Stopped come after its Create', async () => {
    const submitted = scheduler.createBatch({ jobScheduleDescriptions: Array.from({ length: 5000 }, () => ({})) }, { withJobs: false });
    while (scheduler.trackedJobs === 0) await oneTurn();
    assert.equal(told.length, 0, 'the stop comes before the batch\'s Create is told');
    const stopped = scheduler.stopAllBatches();
    const batch = await submitted;
    await stopped;
    await waitFor(async () => told.filter((line) => line === `change ${batch.name} Stopped`).length, (count) => count > 0);

    assert.equal(told[0], `create ${batch.name}`);
    assert.equal(told.filter((line) => line.startsWith('create ')).length, 1);
    // The stop waited for the jobs not yet indexed: all of them end Stopped, none by its own end.
    await waitFor(async () => ended.size, (count) => count === 5000);
    assert.equal(told.filter((line) => line === `change ${batch.name} Stopped`).length, 5000);
    assert.equal(told.filter((line) => line === `change ${batch.name} Succeeded`).length, 0);
  });
});
