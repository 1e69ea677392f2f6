import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { JobRecord } from '../../src/core/model.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { FakeTimers } from '../unit/fake-timers.js';
import { aJob, startTestService, type TestService, waitFor, waitForJobEnd } from './harness.js';

interface Entry { time: string; status: string; reason: string | null; message: string | null; attempt: number | null; eventId?: string }
interface Timeline { jobName: string; batchName: string; complete: boolean; dropped: number; timeline: Entry[] }

async function timelineOf(service: TestService, job: string): Promise<Timeline> {
  return (await service.request.get(`/api/v1/jobs/${job}/timeline`).expect(200)).body as Timeline;
}

const steps = (timeline: Timeline) => timeline.timeline.map((entry) => `${entry.status}/${entry.reason}/${entry.attempt}`);

describe('job timeline (local runtime)', function () {
  this.timeout(60_000);
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('when a job of a batch fails once and succeeds on its retry, its timeline shows every transition in order, each with its event id', async () => {
    service = await startTestService();
    const batch = await service.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob({ exitCodes: [3, 0] }, { backoffLimit: 2 })] }).expect(200);
    const job = batch.body.jobStatuses[0].name as string;
    assert.equal((await waitForJobEnd(service.request, job)).status, 'Succeeded');

    const timeline = await timelineOf(service, job);
    assert.equal(timeline.batchName, batch.body.name);
    assert.equal(timeline.complete, true);
    assert.equal(timeline.dropped, 0);
    assert.deepEqual(steps(timeline), [
      'Waiting/Accepted/null', 'Active/AttemptCreated/0', 'Running/Started/0', 'Active/Error/0',
      'Active/Retrying/1', 'Running/Started/1', 'Succeeded/Completed/1',
    ]);
    const times = timeline.timeline.map((entry) => entry.time);
    assert.deepEqual(times, [...times].sort(), 'oldest first');
    const ids = timeline.timeline.map((entry) => entry.eventId);
    assert.equal(new Set(ids).size, ids.length, 'one event id per transition');
    // A plain read of the job answers exactly as before: no timeline in it.
    const plain = await service.request.get(`/api/v1/jobs/${job}`).expect(200);
    assert.equal('timeline' in plain.body, false);
  });

  it('when a running single job is stopped, its timeline ends with the stop asked and the job stopped', async () => {
    service = await startTestService();
    const created = await service.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 30 })).expect(200);
    const job = created.body.name as string;
    await waitFor(() => service!.request.get(`/api/v1/jobs/${job}`), (r) => r.body.status === 'Running');
    await service.request.post(`/api/v1/jobs/${job}/stop`).expect(200);
    assert.equal((await waitForJobEnd(service.request, job)).status, 'Stopped');

    assert.deepEqual(steps(await timelineOf(service, job)), [
      'Waiting/Accepted/null', 'Active/AttemptCreated/0', 'Running/Started/0', 'Stopping/StopRequested/0', 'Stopped/Stopped/0',
    ]);
  });

  it('when the service restarts, the timeline it answers is the one recorded before', async () => {
    service = await startTestService();
    const created = await service.request.post('/api/v1/jobs').send(aJob({ exitCodes: [1, 0] }, { backoffLimit: 1 })).expect(200);
    const job = created.body.name as string;
    await waitForJobEnd(service.request, job);
    const before = await timelineOf(service, job);
    const { dataDir } = service;
    await service.close({ keepData: true });
    service = await startTestService({ dataDir });

    assert.deepEqual(await timelineOf(service, job), before);
    assert.equal(before.timeline.length, 7);
  });

  it('when a job is retried more times than the timeline keeps, the newest 64 transitions are kept and the dropped ones counted', async () => {
    service = await startTestService();
    const created = await service.request.post('/api/v1/jobs').send(aJob({ exitCodes: [1] }, { backoffLimit: 25 })).expect(200);
    const job = created.body.name as string;
    assert.equal((await waitForJobEnd(service.request, job, 50_000)).status, 'Failed');

    const timeline = await timelineOf(service, job);
    // 26 attempts: each created and started, 25 failed and waiting for the next, then the job failed: 78 transitions.
    assert.equal(timeline.timeline.length, 1 + 64);
    assert.equal(timeline.dropped, 78 - 64);
    assert.equal(timeline.timeline[0]!.reason, 'Accepted');
    assert.equal(timeline.timeline.at(-1)!.status, 'Failed');
    assert.equal(timeline.timeline.at(-1)!.attempt, 25);
  });

  it('when the job is unknown, answers 404', async () => {
    service = await startTestService();
    const response = await service.request.get('/api/v1/jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb/timeline').expect(404);
    assert.equal(response.body.reason, 'NotFound');
  });

  it('when a batch is deleted, its jobs\' timelines go with it', async () => {
    service = await startTestService();
    const batch = await service.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob()] }).expect(200);
    const job = batch.body.jobStatuses[0].name as string;
    await waitForJobEnd(service.request, job);
    await service.request.delete(`/api/v1/batches/${batch.body.name}`).expect(200);
    await service.request.get(`/api/v1/jobs/${job}/timeline`).expect(404);
    const { dataDir } = service;
    await service.close({ keepData: true });
    const db = new Database(path.join(dataDir, 'scheduler.db'), { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM job_timeline WHERE job_name = ?').pluck().get(job), 0);
    } finally {
      db.close();
    }
    service = await startTestService({ dataDir });
  });
});

describe('job timeline in the SQLite store on a full disk', () => {
  let dir: string;
  let mounted = false;
  const created = '2026-01-01T00:00:00.000Z';
  const waiting: JobRecord = {
    name: 'batch-compute-20260101000000-cccccccc-dddddddd', batchName: 'batch-compute-20260101000000-cccccccc', index: 0, status: 'Waiting',
    created, started: null, ended: null, updated: created, message: null, failed: 0, attempts: [],
    spec: { timeLimitSeconds: 60, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: {}, command: ['true'], args: [] },
  };
  const attempt = (n: number, replicaStatus: string) => ({ name: `a${n}`, created, startTime: null, endTime: null, exitCode: null, reason: null, replicaStatus });
  const active = (count: number): JobRecord => ({ ...waiting, status: 'Active', attempts: Array.from({ length: count }, (_, i) => attempt(i, 'Pending')) });
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-timeline-full-'));
  });
  afterEach(() => {
    if (mounted) execFileSync('umount', [dir], { stdio: 'ignore' });
    mounted = false;
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a transaction holding transitions fails and the job is put back, what it numbered is forgotten: the next transitions follow the committed rows', async function () {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
      mounted = true;
    } catch {
      this.skip(); // needs root and mount (a tmpfs to fill)
    }
    const file = path.join(dir, 'scheduler.db');
    const timers = new FakeTimers();
    const store = new SqliteStore({ file, timers, retryMs: 1000, maxRetryMs: 1000 });
    try {
      await store.insertBatch({ batch: { name: waiting.batchName, type: 'batch', created }, jobs: [{ record: waiting, payload: '' }] });
      store.saveJob(active(1));
      assert.equal(store.flush(), true);
      const filler = path.join(dir, 'filler');
      mkdirSync(filler);
      for (let i = 0; ; i++) {
        try {
          writeFileSync(path.join(filler, String(i)), Buffer.alloc(64 * 1024));
        } catch {
          break;
        }
      }
      store.saveJob(active(2));
      store.saveJob(active(3));
      assert.equal(store.flush(), false);
      store.saveJob(active(1));
      rmSync(filler, { recursive: true });
      timers.advance(1000);
      assert.equal(store.health().writable, true);
      assert.equal(store.isPending(waiting.name), false);
      store.saveJob(active(3));
      assert.equal(store.flush(), true);
      assert.deepEqual(store.readTimeline(waiting).entries.map((entry) => entry.attempt), [null, 0, 2]);
      const reader = new Database(file, { readonly: true });
      try {
        assert.deepEqual(reader.prepare('SELECT n FROM job_timeline WHERE job_name = ? ORDER BY n').pluck().all(waiting.name), [1, 2]);
      } finally {
        reader.close();
      }
    } finally {
      store.close();
    }
  });
});

describe('job timeline in the SQLite store', () => {
  let dir: string;
  let store: SqliteStore;
  const created = '2026-01-01T00:00:00.000Z';
  const waiting: JobRecord = {
    name: 'batch-compute-20260101000000-aaaaaaaa-bbbbbbbb', batchName: 'batch-compute-20260101000000-aaaaaaaa', index: 0, status: 'Waiting',
    created, started: null, ended: null, updated: created, message: null, failed: 0, attempts: [],
    spec: { timeLimitSeconds: 60, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: {}, command: ['true'], args: [] },
  };
  const attempt = (n: number, replicaStatus: string) => ({ name: `a${n}`, created, startTime: null, endTime: replicaStatus === 'Failed' ? created : null, exitCode: null, reason: replicaStatus === 'Failed' ? 'Error' : null, replicaStatus });
  const withAttempts = (count: number, last: string, status: JobRecord['status'] = 'Active'): JobRecord => ({
    ...waiting, status, attempts: Array.from({ length: count }, (_, i) => attempt(i, i === count - 1 ? last : 'Failed')),
  });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-timeline-'));
    store = new SqliteStore({ file: path.join(dir, 'scheduler.db') });
    await store.insertBatch({ batch: { name: waiting.batchName, type: 'batch', created }, jobs: [{ record: waiting, payload: '' }] });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a record is put back because the new one could not be made durable, the undone transition is not kept', () => {
    store.saveJob(withAttempts(1, 'Pending'));
    assert.equal(store.flush(), true);
    store.saveJob(withAttempts(1, 'Running', 'Running'));
    store.saveJob(withAttempts(1, 'Pending'));
    assert.equal(store.flush(), true);
    assert.deepEqual(store.readTimeline(waiting).entries.map((entry) => entry.status), ['Waiting', 'Active']);
  });

  it('when more transitions than kept wait for one write, the oldest are left out and still counted as dropped', () => {
    for (let i = 1; i <= 70; i++) store.saveJob(withAttempts(i, 'Pending'));
    assert.equal(store.flush(), true);
    const timeline = store.readTimeline(waiting);
    assert.equal(timeline.entries.length, 1 + 64);
    assert.equal(timeline.dropped, 6);
    assert.equal(timeline.entries.at(-1)!.attempt, 69);
    store.saveJob(withAttempts(71, 'Pending'));
    assert.equal(store.flush(), true);
    assert.equal(store.readTimeline(waiting).dropped, 7);
  });

  const rowNumbers = () => {
    const reader = new Database(path.join(dir, 'scheduler.db'), { readonly: true });
    try {
      return reader.prepare('SELECT n FROM job_timeline WHERE job_name = ? ORDER BY n').pluck().all(waiting.name) as number[];
    } finally {
      reader.close();
    }
  };
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('when a batch is deleted, its jobs\' rows go and another batch\'s stay; a store made with the index by batch opens without it', async () => {
    const other: JobRecord = { ...waiting, name: 'batch-compute-20260101000000-eeeeeeee-ffffffff', batchName: 'batch-compute-20260101000000-eeeeeeee' };
    await store.insertBatch({ batch: { name: other.batchName, type: 'batch', created }, jobs: [{ record: other, payload: '' }] });
    store.saveJob(withAttempts(1, 'Pending'));
    store.saveJob({ ...withAttempts(1, 'Pending'), name: other.name, batchName: other.batchName });
    assert.equal(store.flush(), true);
    store.close();
    const writer = new Database(path.join(dir, 'scheduler.db'));
    writer.exec('CREATE INDEX job_timeline_by_batch ON job_timeline (batch_name)');
    writer.close();
    store = new SqliteStore({ file: path.join(dir, 'scheduler.db') });
    store.deleteBatch(waiting.batchName);
    const reader = new Database(path.join(dir, 'scheduler.db'), { readonly: true });
    try {
      assert.deepEqual(reader.prepare('SELECT job_name FROM job_timeline ORDER BY job_name').pluck().all(), [other.name]);
      assert.deepEqual(reader.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'job_timeline'").pluck().all(), []);
    } finally {
      reader.close();
    }
  });

  it('when transitions are written one transaction each past the bound, the newest 64 rows are kept, numbered on from the oldest', () => {
    for (let i = 1; i <= 70; i++) {
      store.saveJob(withAttempts(i, 'Pending'));
      assert.equal(store.flush(), true);
    }
    assert.deepEqual(rowNumbers(), range(7, 70));
    const timeline = store.readTimeline(waiting);
    assert.equal(timeline.dropped, 6);
    assert.deepEqual(timeline.entries.slice(1).map((entry) => entry.attempt), range(6, 69));
  });

  it('when the store is opened again, a job\'s next transitions are numbered after its rows, and trimmed at the bound', () => {
    for (let i = 1; i <= 63; i++) store.saveJob(withAttempts(i, 'Pending'));
    assert.equal(store.flush(), true);
    store.close();
    store = new SqliteStore({ file: path.join(dir, 'scheduler.db') });
    store.saveJob(withAttempts(63, 'Pending'));
    store.saveJob(withAttempts(64, 'Pending'));
    assert.equal(store.flush(), true);
    assert.deepEqual(rowNumbers(), range(1, 64));
    store.close();
    store = new SqliteStore({ file: path.join(dir, 'scheduler.db') });
    store.saveJob(withAttempts(65, 'Pending'));
    store.saveJob(withAttempts(66, 'Pending'));
    assert.equal(store.flush(), true);
    assert.deepEqual(rowNumbers(), range(3, 66));
    assert.equal(store.readTimeline(waiting).dropped, 2);
  });
});
