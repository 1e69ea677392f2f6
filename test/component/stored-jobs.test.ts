import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Attempt, JobRecord, JobStatusValue, NewBatch } from '../../src/core/model.js';
import { fullRecord, recordTransitionKey, StoredJob } from '../../src/core/stored-job.js';
import { jobStatusView } from '../../src/core/view.js';
import { transitionKey } from '../../src/notifications/events.js';
import { StateIndex } from '../../src/scheduler/state-index.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { aJob, startTestService, TERMINAL, type TestService, waitFor, waitForJobEnd } from './harness.js';

const created = '2026-01-01T00:00:00.000Z';
const labels = { team: 'a', part: '1' };

function aRecord(batchName: string, index: number, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    name: `${batchName}-job${index}`, batchName, index, jobId: `id-${index}`, status: 'Waiting', created, started: null, ended: null, updated: created,
    message: null, failed: 0, attempts: [],
    spec: { timeLimitSeconds: 60, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: { N: String(index) }, command: ['true'], args: [], labels: { ...labels } },
    ...overrides,
  };
}

function ended(job: JobRecord, status: JobStatusValue, at = '2026-01-01T00:00:05.123Z'): JobRecord {
  const attempt: Attempt = { name: `${job.name}-0`, created: at, startTime: at, endTime: at, exitCode: status === 'Succeeded' ? 0 : 1, reason: null, replicaStatus: status };
  return { ...job, status, started: at, ended: at, updated: at, attempts: [attempt], message: status === 'Failed' ? 'exit 1' : null };
}

function aBatch(name: string, jobs: JobRecord[]): NewBatch {
  return { batch: { name, type: 'batch', created }, jobs: jobs.map((record) => ({ record, payload: 'p' })) };
}

describe('finished jobs kept compact over a real SQLite store', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-stored-'));
    store = new SqliteStore({ file: path.join(dir, 'jobs.db') });
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when loaded, finished jobs come compact and read back whole, live ones and those with something asked come whole', async () => {
    const records = [0, 1, 2, 3, 4, 5].map((i) => aRecord('batch-a', i));
    await store.insertBatch(aBatch('batch-a', records));
    const saved = [
      ended(records[0]!, 'Succeeded'),
      ended(records[1]!, 'Failed'),
      { ...ended(records[2]!, 'Stopped'), generation: 2 },
      { ...records[3]!, status: 'Running' as const, started: created },
      { ...ended(records[4]!, 'Stopped'), intent: 'delete' as const },
      // A time that would not read back the same from a number: kept whole.
      ended(records[5]!, 'Succeeded', '2026-01-01T00:00:05Z'),
    ];
    for (const job of saved) store.saveJob(job);
    assert.ok(store.flush());
    const loaded = store.load().jobs;
    assert.deepEqual(loaded.map((job) => job instanceof StoredJob), [true, true, true, false, false, false]);
    for (const [i, job] of loaded.entries()) {
      assert.deepEqual(fullRecord(job), saved[i]);
      assert.equal(job.status, saved[i]!.status);
      assert.equal(job.ended, saved[i]!.ended);
      assert.equal(job.jobId, saved[i]!.jobId);
      assert.equal(recordTransitionKey(job), transitionKey(jobStatusView(saved[i]!, 'batch')));
    }
    // Jobs with the same labels share one object: the index holds them once.
    assert.deepEqual((loaded[0] as StoredJob).labels, labels);
    assert.equal((loaded[0] as StoredJob).labels, (loaded[1] as StoredJob).labels);
  });

  it('when a store made before summaries is opened, its finished jobs get theirs and load compact', async () => {
    const records = [aRecord('batch-c', 0), aRecord('batch-c', 1)];
    await store.insertBatch(aBatch('batch-c', records));
    const saved = [ended(records[0]!, 'Succeeded'), { ...records[1]!, status: 'Running' as const, started: created }];
    for (const job of saved) store.saveJob(job);
    assert.ok(store.flush());
    store.close();
    const file = path.join(dir, 'jobs.db');
    const earlier = new Database(file);
    earlier.exec('DROP INDEX jobs_finished; DROP INDEX jobs_live; ALTER TABLE jobs DROP COLUMN summary');
    earlier.close();
    store = new SqliteStore({ file });
    const loaded = store.load().jobs;
    assert.deepEqual(loaded.map((job) => job instanceof StoredJob), [true, false]);
    assert.deepEqual(loaded.map(fullRecord), saved);
  });

  it('when a job finishes, the index keeps it whole until its change is committed, then compact, and answers the same record', async () => {
    const records = [aRecord('batch-b', 0), aRecord('batch-b', 1)];
    await store.insertBatch(aBatch('batch-b', records));
    const index = new StateIndex([], undefined, store);
    const entry = index.addBatch({ name: 'batch-b', type: 'batch', created }, records);
    const done = ended(records[0]!, 'Failed');
    // A store that cannot commit yet: the change stays pending.
    const held = { readJob: (name: string) => store.readJob(name), isPending: () => true };
    const waiting = new StateIndex([], undefined, held);
    const other = waiting.addBatch({ name: 'batch-b', type: 'batch', created }, records);
    waiting.update(done);
    store.saveJob(done);
    index.update(done);
    assert.ok(store.isPending(done.name));
    assert.ok(!(entry.jobs[0] instanceof StoredJob));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(!store.isPending(done.name));
    assert.ok(entry.jobs[0] instanceof StoredJob, 'compact once committed');
    assert.ok(!(other.jobs[0] instanceof StoredJob), 'whole while pending');
    assert.ok(!(entry.jobs[1] instanceof StoredJob), 'a waiting job stays whole');
    assert.deepEqual(index.job(done.name)!.job, done);
    assert.equal(index.job(done.name)!.position, 0);
    assert.equal(index.summary(entry).status, 'Running');
    waiting.close();
    index.close();
  });
});

describe('finished jobs read from the store, through the API (local runtime)', function () {
  let t: TestService | undefined;

  afterEach(async () => {
    await t?.close();
  });

  it('when the service restarts on finished jobs, reads, filters, pages, restart, copy and delete answer as before', async () => {
    t = await startTestService();
    const batch = (await t.request.post('/api/v1/batches').send({
      labels: { team: 'a' },
      jobScheduleDescriptions: [aJob({}, { jobId: 'one', labels: { part: '1' } }), aJob({ exitCodes: [3] }, { jobId: 'two' }), aJob({}, { jobId: 'three' })],
    }).expect(200)).body as { name: string; jobStatuses: Array<{ name: string }> };
    const single = (await t.request.post('/api/v1/jobs').send(aJob({}, { jobId: 'solo', labels: { team: 'a' } })).expect(200)).body as { name: string };
    await waitFor(() => t!.request.get(`/api/v1/batches/${batch.name}`), (r) => r.body.ended !== null);
    await waitForJobEnd(t.request, single.name);
    const reads = [
      `/api/v1/batches/${batch.name}`, `/api/v1/batches/${batch.name}/jobs/${batch.jobStatuses[1]!.name}`, `/api/v1/jobs/${single.name}`, '/api/v1/jobs',
      '/api/v1/batches', `/api/v1/batches/${batch.name}?status=Failed`, `/api/v1/batches/${batch.name}?labelSelector=part%3D1`,
      `/api/v1/batches/${batch.name}?jobId=three`, '/api/v1/jobs?labelSelector=team%3Da', `/api/v1/batches/${batch.name}?limit=2`,
    ];
    const answers = async () => Promise.all(reads.map(async (url) => (await t!.request.get(url).expect(200)).body as unknown));
    const before = await answers();
    const { dataDir } = t;
    await t.close({ keepData: true });
    t = await startTestService({ dataDir });
    assert.deepEqual(await answers(), before);
    // Read again: a finished batch's answer is then the kept one.
    assert.deepEqual(await answers(), before);

    const failed = batch.jobStatuses[1]!.name;
    await t.request.post(`/api/v1/batches/${batch.name}/jobs/${failed}/restart`).expect(200);
    const rerun = await waitFor(() => t!.request.get(`/api/v1/batches/${batch.name}/jobs/${failed}`), (r) => r.body.generation === 1 && TERMINAL.includes(r.body.status));
    assert.equal(rerun.body.podStatuses.length, 2, 'the earlier attempt is kept');
    const reread = await waitFor(() => t!.request.get(`/api/v1/batches/${batch.name}`), (r) => r.body.jobStatuses[1].generation === 1);
    assert.deepEqual(reread.body.jobStatuses[1], rerun.body);
    const copy = (await t.request.post(`/api/v1/batches/${batch.name}/copy`).send({}).expect(200)).body as { jobStatuses: Array<{ jobId: string; labels: unknown }> };
    assert.deepEqual(copy.jobStatuses.map((job) => [job.jobId, job.labels]), [['one', { team: 'a', part: '1' }], ['two', { team: 'a' }], ['three', { team: 'a' }]]);
    await t.request.delete(`/api/v1/jobs/${single.name}`).expect(200);
    await t.request.get(`/api/v1/jobs/${single.name}`).expect(404);
    await t.request.delete(`/api/v1/batches/${batch.name}`).expect(200);
    await t.request.get(`/api/v1/batches/${batch.name}`).expect(404);
  });
});
