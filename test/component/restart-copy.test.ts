import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parse as parseYaml } from 'yaml';
import { baseUrlOf, SseClient, type SseEvent } from './sse-client.js';
import { holdWriteLock } from './write-lock.js';
import { startReceiver } from './webhook-receiver.js';
import { aJob, jobOutput, type JobState, root, startTestService, TERMINAL, type TestService, waitFor, waitForJobEnd } from './harness.js';

interface Entry { status: string; reason: string | null; attempt: number | null }

const steps = (entries: Entry[]) => entries.map((entry) => `${entry.status}/${entry.reason}/${entry.attempt}`);
/** Waits until the fixture's attempt has counted itself (so that its next run is its next attempt). */
const attemptCounted = (t: TestService, name: string) => waitFor(async () => existsSync(path.join(t.dataDir, 'jobs', name, 'attempts')), Boolean);
const getJob = async (t: TestService, name: string) => (await t.request.get(`/api/v1/jobs/${name}`).expect(200)).body as JobState & { generation?: number };

describe('restart, rerun-failed and copy over the local runtime', function () {
  this.timeout(60_000);
  let t: TestService;
  let scratch: string;
  beforeEach(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'restart-copy-'));
    // The service's defaults: backoffLimit 0, and maxRunning from the cores (2 here), not the harness's 4.
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_RUNNING: undefined as unknown as string } });
  });
  afterEach(async () => {
    await t.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('when a failed job is restarted, it waits again with its attempts kept and failed back to 0, then runs under its name to Succeeded', async () => {
    const created = await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [3, 0] })).expect(200);
    const name = created.body.name as string;
    const failed = await waitForJobEnd(t.request, name);
    assert.equal(failed.status, 'Failed');
    assert.equal(failed.failed, 1);

    const restarted = await t.request.post(`/api/v1/jobs/${name}/restart`).expect(200);
    assert.equal(restarted.body.name, name);
    assert.equal(restarted.body.status, 'Waiting');
    assert.equal(restarted.body.generation, 1);
    assert.equal(restarted.body.failed, 0);
    assert.equal(restarted.body.started, null);
    assert.equal(restarted.body.ended, null);
    assert.equal(restarted.body.message, undefined);
    assert.deepEqual(restarted.body.podStatuses.map((p: { exitCode: number }) => p.exitCode), [3]);

    const ended = await waitForJobEnd(t.request, name);
    assert.equal(ended.status, 'Succeeded');
    assert.equal(ended.failed, 0);
    assert.deepEqual(ended.podStatuses.map((p) => [p.replicaStatus.status, p.exitCode]), [['Failed', 3], ['Succeeded', 0]]);
    assert.ok(ended.started! >= failed.ended!, 'started is the new run\'s start');
    assert.equal(new Set(ended.podStatuses.map((p) => p.name)).size, 2);

    const timeline = (await t.request.get(`/api/v1/jobs/${name}/timeline`).expect(200)).body.timeline as Entry[];
    assert.deepEqual(steps(timeline), [
      'Waiting/Accepted/null', 'Active/AttemptCreated/0', 'Running/Started/0', 'Failed/Error/0',
      'Waiting/Restarted/0', 'Active/AttemptCreated/1', 'Running/Started/1', 'Succeeded/Completed/1',
    ]);
  });

  it('when a stopped job and a succeeded job are restarted, each runs again (the program runs once more)', async () => {
    const runs = path.join(scratch, 'runs');
    const stopped = (await t.request.post('/api/v1/jobs').send(aJob({ sleeps: [60, 0], appendTo: runs })).expect(200)).body.name as string;
    const succeeded = (await t.request.post('/api/v1/jobs').send(aJob({ appendTo: runs })).expect(200)).body.name as string;
    await attemptCounted(t, stopped);
    await t.request.post(`/api/v1/jobs/${stopped}/stop`).expect(200);
    assert.equal((await waitForJobEnd(t.request, stopped)).status, 'Stopped');
    assert.equal((await waitForJobEnd(t.request, succeeded)).status, 'Succeeded');

    await t.request.post(`/api/v1/jobs/${stopped}/restart`).expect(200);
    await t.request.post(`/api/v1/jobs/${succeeded}/restart`).expect(200);
    const again = [await waitForJobEnd(t.request, stopped), await waitForJobEnd(t.request, succeeded)];
    assert.deepEqual(again.map((job) => [job.status, job.podStatuses.length]), [['Succeeded', 2], ['Succeeded', 2]]);
    assert.deepEqual(again[0]!.podStatuses.map((p) => p.replicaStatus.status), ['Stopped', 'Succeeded']);
    const lines = readFileSync(runs, 'utf8').trim().split('\n').sort();
    assert.deepEqual(lines, [stopped, stopped, succeeded, succeeded].sort());
  });

  it('when a job has not ended, a restart is a 400 saying what to do; a job of a batch is restarted through its batch', async () => {
    const running = (await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 })).expect(200)).body.name as string;
    const refused = await t.request.post(`/api/v1/jobs/${running}/restart`).expect(400);
    assert.equal(refused.body.reason, 'BadRequest');
    assert.match(refused.body.message, /has not ended .*stop it first/);
    await t.request.post('/api/v1/jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb/restart').expect(404);

    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob({ exitCodes: [3] })] }).expect(200);
    const inBatch = batch.body.jobStatuses[0].name as string;
    await waitForJobEnd(t.request, inBatch);
    const wrongPath = await t.request.post(`/api/v1/jobs/${inBatch}/restart`).expect(400);
    assert.match(wrongPath.body.message, new RegExp(`POST /api/v1/batches/${batch.body.name}/jobs/${inBatch}/restart`));
    const restarted = await t.request.post(`/api/v1/batches/${batch.body.name}/jobs/${inBatch}/restart`).expect(200);
    assert.equal(restarted.body.status, 'Waiting');
    assert.equal(restarted.body.batchName, batch.body.name);
    await t.request.post(`/api/v1/jobs/${running}/stop`).expect(200);
  });

  it('when the failed jobs of a mixed batch are rerun, only the failed and the stopped one run again and the batch ends Succeeded', async () => {
    const batch = await t.request.post('/api/v1/batches').send({
      jobScheduleDescriptions: [aJob({}, { jobId: 'ok' }), aJob({ exitCodes: [3, 0] }, { jobId: 'fails' }), aJob({ sleeps: [60, 0] }, { jobId: 'stopped' })],
    }).expect(200);
    const [ok, , stopped] = (batch.body.jobStatuses as JobState[]).map((job) => job.name);
    await attemptCounted(t, stopped!);
    await t.request.post(`/api/v1/batches/${batch.body.name}/jobs/${stopped}/stop`).expect(200);
    const before = await waitFor(() => t.request.get(`/api/v1/batches/${batch.body.name}`), (r) => r.body.status === 'Failed');
    const okBefore = (before.body.jobStatuses as JobState[]).find((job) => job.name === ok)!;

    const rerun = await t.request.post(`/api/v1/batches/${batch.body.name}/rerun-failed`).expect(200);
    const statuses = Object.fromEntries((rerun.body.jobStatuses as Array<JobState & { generation?: number }>).map((job) => [job.jobId, [job.status, job.generation]]));
    assert.deepEqual(statuses.ok, ['Succeeded', undefined]);
    assert.deepEqual(statuses.fails?.[1], 1);
    assert.deepEqual(statuses.stopped?.[1], 1);

    const after = await waitFor(() => t.request.get(`/api/v1/batches/${batch.body.name}`), (r) => r.body.status === 'Succeeded');
    const jobs: Record<string, JobState> = Object.fromEntries((after.body.jobStatuses as JobState[]).map((job) => [job.jobId!, job]));
    assert.deepEqual(jobs.ok, okBefore);
    assert.deepEqual(jobs.fails!.podStatuses.map((p) => p.exitCode), [3, 0]);
    assert.deepEqual(jobs.stopped!.podStatuses.map((p) => p.replicaStatus.status), ['Stopped', 'Succeeded']);

    const nothing = await t.request.post(`/api/v1/batches/${batch.body.name}/rerun-failed`).expect(400);
    assert.match(nothing.body.message, /no job of the batch .* ended Failed or Stopped/);
  });

  it('when a batch is restarted, its jobs wait for free slots: the default cap (one per core) holds', async () => {
    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [1, 2, 3].map(() => aJob({ exitCodes: [3, 0], sleeps: [0, 60] })) }).expect(200);
    await waitFor(() => t.request.get(`/api/v1/batches/${batch.body.name}`), (r) => r.body.status === 'Failed');
    await t.request.post(`/api/v1/batches/${batch.body.name}/restart`).expect(200);
    const running = await waitFor(() => t.request.get(`/api/v1/batches/${batch.body.name}`), (r) => r.body.jobCounts.Running === 2);
    assert.equal(running.body.jobCounts.Waiting, 1);
    await t.request.post(`/api/v1/batches/${batch.body.name}/stop`).expect(200);
  });

  it('when a restart is answered, it is committed in the store already, and a new instance runs the job again', async () => {
    const name = (await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [3, 0] })).expect(200)).body.name as string;
    await waitForJobEnd(t.request, name);
    await t.request.post(`/api/v1/jobs/${name}/restart`).expect(200);
    // Read by a second connection as soon as the answer is in: the new generation is on disk (Waiting, or further).
    const db = new Database(path.join(t.dataDir, 'scheduler.db'), { readonly: true });
    try {
      const state = JSON.parse(db.prepare('SELECT state FROM jobs WHERE name = ?').pluck().get(name) as string) as { generation?: number; status: string };
      assert.equal(state.generation, 1);
      assert.notEqual(state.status, 'Failed');
    } finally {
      db.close();
    }
    await t.close({ keepData: true });
    t = await startTestService({ dataDir: t.dataDir, env: { JOB_SCHEDULER_MAX_RUNNING: undefined as unknown as string } });
    const ended = await waitForJobEnd(t.request, name);
    assert.equal(ended.status, 'Succeeded');
    assert.equal((await getJob(t, name)).generation, 1);
  });

  it('when another process holds the store\'s write lock, a restart is a 503 and the job stays Failed; once released, the restart goes through', async () => {
    const name = (await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [3, 0] })).expect(200)).body.name as string;
    await waitForJobEnd(t.request, name);
    const lock = await holdWriteLock(path.join(t.dataDir, 'scheduler.db'));
    try {
      const refused = await t.request.post(`/api/v1/jobs/${name}/restart`).expect(503);
      assert.equal(refused.body.reason, 'ServiceUnavailable');
      assert.match(refused.body.message, /locked by another process/);
      const job = await getJob(t, name);
      assert.equal(job.status, 'Failed');
      assert.equal(job.generation, undefined);
    } finally {
      await lock.release();
    }
    await waitFor(() => t.request.get('/readyz'), (r) => r.status === 200, 30_000);
    await t.request.post(`/api/v1/jobs/${name}/restart`).expect(200);
    assert.equal((await waitForJobEnd(t.request, name)).status, 'Succeeded');
  });

  it('when a stopped job is restarted, the live stream and the webhook tell it with an event id of its own, each run\'s end too', async () => {
    const receiver = await startReceiver();
    const service = await startTestService({ component: { notifications: { webhook: receiver.url } } });
    const stream = await SseClient.open(baseUrlOf(service.request), '/api/v1/events');
    try {
      // Stopped, restarted, stopped again: a stop before the job starts shows the same status and attempts both times.
      const name = (await service.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob({ sleepSeconds: 60 })] }).expect(200)).body.jobStatuses[0].name as string;
      const batch = name.slice(0, -9);
      const updates = (events: SseEvent[]) => events.filter((event) => event.event === 'Update').map((event) => JSON.parse(event.data!) as { jobStatuses: Array<{ status: string; generation?: number }> });
      await service.request.post(`/api/v1/batches/${batch}/stop`).expect(200);
      // A job whose start was already asked of the spawner is Stopping until its process has ended.
      await waitFor(() => service.request.get(`/api/v1/jobs/${name}`), (r) => r.body.status === 'Stopped');
      await service.request.post(`/api/v1/batches/${batch}/jobs/${name}/restart`).expect(200);
      await service.request.post(`/api/v1/batches/${batch}/jobs/${name}/stop`).expect(200);
      const events = await stream.waitFor((all) => updates(all).filter((u) => u.jobStatuses[0]!.status === 'Stopped').length >= 2);
      const told = events.filter((event) => event.event === 'Update');
      assert.ok(updates(events).some((u) => u.jobStatuses[0]!.status === 'Waiting' && u.jobStatuses[0]!.generation === 1), 'the restart is told');
      assert.equal(new Set(told.map((event) => event.id)).size, told.length, 'every transition has an id of its own');
      await waitFor(async () => receiver.received.filter((event) => event.body.event === 'Update').length, (n) => n >= told.length);
      assert.deepEqual(receiver.received.filter((event) => event.body.event === 'Update').map((event) => event.id).sort(), told.map((event) => event.id!).sort());
    } finally {
      stream.drop();
      await service.close();
      await receiver.close();
    }
  });

  it('when a job is copied with an override, the copy is a new single job with the payload and settings, the override winning', async () => {
    const original = (await t.request.post('/api/v1/batches').send({
      labels: { team: 'a' },
      jobScheduleDescriptions: [aJob({}, { jobId: 'j1', variables: { KEEP: 'k', CHANGE: 'old' }, labels: { own: 'x' } })],
    }).expect(200)).body.jobStatuses[0].name as string;
    await waitForJobEnd(t.request, original);

    const copy = await t.request.post(`/api/v1/jobs/${original}/copy`).send({ variables: { CHANGE: 'new' } }).expect(200);
    assert.notEqual(copy.body.name, original);
    assert.equal(copy.body.jobId, 'j1');
    assert.equal(copy.body.batchName, undefined);
    assert.deepEqual(copy.body.labels, { team: 'a', own: 'x' });
    await waitForJobEnd(t.request, copy.body.name);
    const [digest, env] = jobOutput(t.dataDir, copy.body.name);
    assert.deepEqual(digest, jobOutput(t.dataDir, original)[0]);
    assert.equal((env!.env as Record<string, string>).KEEP, 'k');
    assert.equal((env!.env as Record<string, string>).CHANGE, 'new');

    const refused = await t.request.post(`/api/v1/jobs/${original}/copy`).send({ command: ['/bin/sh'] }).expect(422);
    assert.match(refused.body.message, /command/);
  });

  it('when the component\'s own args changed since a job ran, a copy that would keep the old args is refused (422, naming the field): args are the owner\'s on the local runtime', async () => {
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    t = await startTestService({ dataDir, component: { args: ['first'] } });
    const single = (await t.request.post('/api/v1/jobs').send(aJob({})).expect(200)).body.name as string;
    const batch = (await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob({}), aJob({})] }).expect(200)).body.name as string;
    await waitForJobEnd(t.request, single);
    await waitFor(() => t.request.get(`/api/v1/batches/${batch}`), (r) => TERMINAL.includes(r.body.status));
    assert.equal((await t.request.post(`/api/v1/jobs/${single}/copy`).send({}).expect(200)).body.status, 'Waiting', 'an unchanged component lets the copy run');

    await t.close({ keepData: true });
    t = await startTestService({ dataDir, component: { args: ['second'] } });
    const refused = await t.request.post(`/api/v1/jobs/${single}/copy`).send({}).expect(422);
    assert.deepEqual(refused.body.details.fields.map((d: { path: string }) => d.path), ['args']);
    assert.match(refused.body.message, /args.*original job/);
    const refusedBatch = await t.request.post(`/api/v1/batches/${batch}/copy`).send({}).expect(422);
    assert.match(refusedBatch.body.message, /jobScheduleDescriptions\[0\]\.args/);
    const jobs = (await t.request.get('/api/v1/jobs').expect(200)).body as unknown[];
    assert.equal(jobs.length, 2, 'nothing was accepted for the refused copies');
  });

  it('when a batch is copied with a default override, the new batch has new names, the same ids and payloads, and the override', async () => {
    const source = await t.request.post('/api/v1/batches').send({
      batchId: 'nightly',
      defaultRadixJobComponentConfig: { timeLimitSeconds: 600 },
      jobScheduleDescriptions: [aJob({ n: 1 }, { jobId: 'a' }), aJob({ n: 2 }, { jobId: 'b', backoffLimit: 2 })],
    }).expect(200);
    const copy = await t.request.post(`/api/v1/batches/${source.body.name}/copy`).send({ batchId: 'nightly-again', defaultRadixJobComponentConfig: { backoffLimit: 1 } }).expect(200);
    assert.notEqual(copy.body.name, source.body.name);
    assert.equal(copy.body.batchId, 'nightly-again');
    const copied = copy.body.jobStatuses as JobState[];
    assert.deepEqual(copied.map((job) => job.jobId), ['a', 'b']);
    for (const job of copied) assert.ok(job.name.startsWith(copy.body.name));
    const settings = await Promise.all(copied.map(async (job) => (await t.request.get(`/api/v1/jobs/${job.name}/settings`).expect(200)).body.settings));
    assert.deepEqual(settings.map((s: { timeLimitSeconds: number; backoffLimit: number }) => [s.timeLimitSeconds, s.backoffLimit]), [[600, 1], [600, 1]]);
    await waitFor(() => t.request.get(`/api/v1/batches/${copy.body.name}`), (r) => r.body.status === 'Succeeded');
    const sourceJobs = source.body.jobStatuses as JobState[];
    await waitFor(() => t.request.get(`/api/v1/batches/${source.body.name}`), (r) => r.body.status === 'Succeeded');
    copied.forEach((job, i) => assert.deepEqual(jobOutput(t.dataDir, job.name)[0], jobOutput(t.dataDir, sourceJobs[i]!.name)[0]));
    await t.request.post('/api/v1/batches/batch-compute-20260101000000-aaaaaaaa/copy').send({}).expect(404);
  });
});

describe("the README tour's step: rerun the failed jobs of a batch", function () {
  this.timeout(60_000);
  let t: TestService;
  before(async () => {
    const component = parseYaml(readFileSync(path.join(root, 'examples/compute/component.yaml'), 'utf8')) as Record<string, unknown>;
    t = await startTestService({ component: { ...component, command: [process.execPath, path.join(root, 'examples/compute/job.js')] } });
  });
  after(async () => t.close());

  it('when the tour\'s batch has ended and its failed jobs are rerun as the README does, the answers are those the README shows', async () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const previous = readme.slice(readme.indexOf("Follow a batch's progress."));
    const body = JSON.parse(/-d '(\{"labels".*\})' \\\n/.exec(previous)![1]!) as object;
    const step = readme.slice(readme.indexOf('Rerun the failed jobs of a batch.'));
    const output = /```sh\n[\s\S]*?\n```\n```\n([\s\S]*?)\n```/.exec(step)![1]!;
    const name = (await t.request.post('/api/v1/batches').send(body).expect(200)).body.name as string;
    await waitFor(() => t.request.get(`/api/v1/batches/${name}`), (r) => r.body.status === 'Failed');

    type Shown = JobState & { generation?: number };
    const rerun = await t.request.post(`/api/v1/batches/${name}/rerun-failed`).expect(200);
    const answered = (rerun.body.jobStatuses as Shown[]).map((j) => `${j.jobId} ${j.status} generation=${j.generation ?? 0} attempts=${j.podStatuses.length}`);
    const ended = await waitFor(() => t.request.get(`/api/v1/batches/${name}`), (r) => r.body.status === 'Failed' && r.body.jobStatuses.every((j: Shown) => j.status !== 'Waiting' && j.podStatuses.length > 0 && TERMINAL.includes(j.status)) && r.body.jobStatuses.some((j: Shown) => j.podStatuses.length === 2));
    const after = [ended.body.status, ...(ended.body.jobStatuses as Shown[]).map((j) => `${j.jobId} ${j.status} generation=${j.generation ?? 0} exitCodes=${j.podStatuses.map((p) => p.exitCode).join(',')}`)];
    assert.equal(output, [...answered, ...after].join('\n'));
  });
});
