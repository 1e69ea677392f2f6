import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isRunning } from '../../src/runtimes/local/processes.js';
import { aJob, jobOutput, startTestService, type TestService, waitFor, waitForJobEnd } from './harness.js';

const MiB = 1024 * 1024;

describe('single jobs over the local runtime', function () {
  let t: TestService;
  beforeEach(async () => {
    t = await startTestService({ component: { variables: { FROM_COMPONENT: 'c', SHARED: 'component' } } });
  });
  afterEach(async () => t.close());

  it('when a job is posted, answers its Waiting state with a Radix name and runs it to Succeeded', async () => {
    const created = await t.request.post('/api/v1/jobs').send(aJob({}, { jobId: 'job-1' })).expect(200);
    assert.match(created.body.name, /^batch-compute-\d{14}-[a-z0-9]{8}-[a-z0-9]{8}$/);
    assert.equal(created.body.jobId, 'job-1');
    assert.equal(created.body.status, 'Waiting');
    assert.equal(created.body.started, null);
    assert.equal(created.body.ended, null);
    assert.equal(created.body.batchName, undefined);
    const ended = await waitForJobEnd(t.request, created.body.name);
    assert.equal(ended.status, 'Succeeded');
    assert.ok(ended.started && ended.ended && ended.ended >= ended.started);
    assert.equal(ended.podStatuses.length, 1);
    assert.equal(ended.podStatuses[0]?.exitCode, 0);
    assert.equal(ended.podStatuses[0]?.replicaStatus.status, 'Succeeded');
    assert.equal(ended.podStatuses[0]?.reason, 'Completed');
  });

  it('when the payload is exactly 1 MiB, delivers it byte-exact as a 0600 file named payload', async () => {
    const payload = 'é'.repeat(MiB / 4) + 'x'.repeat(MiB / 2);
    assert.equal(Buffer.byteLength(payload), MiB);
    const created = await t.request.post('/api/v1/jobs').send({ payload }).expect(200);
    const ended = await waitForJobEnd(t.request, created.body.name);
    assert.equal(ended.status, 'Succeeded');
    const [digest] = jobOutput(t.dataDir, created.body.name);
    assert.deepEqual(digest, { sha256: createHash('sha256').update(payload, 'utf8').digest('hex'), length: MiB });
    const file = path.join(t.dataDir, 'jobs', created.body.name, 'payload');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('when the payload is one byte over 1 MiB, answers 413 naming the field and records nothing', async () => {
    const response = await t.request.post('/api/v1/jobs').send({ payload: 'x'.repeat(MiB + 1) }).expect(413);
    assert.equal(response.body.status, 'Failure');
    assert.equal(response.body.code, 413);
    assert.equal(response.body.reason, 'RequestEntityTooLarge');
    assert.match(response.body.message, /payload/);
    assert.deepEqual((await t.request.get('/api/v1/jobs').expect(200)).body, []);
  });

  it('when a job runs, its environment has the merged variables and the scheduler variables, and nothing secret', async () => {
    process.env.JOB_SCHEDULER_TEST_SECRET = 'do-not-leak';
    try {
      const created = await t.request.post('/api/v1/jobs')
        .send(aJob({}, { jobId: 'env-job', variables: { SHARED: 'job', FROM_JOB: 'j' } })).expect(200);
      await waitForJobEnd(t.request, created.body.name);
      const env = jobOutput(t.dataDir, created.body.name)[1]?.env as Record<string, string>;
      assert.equal(env.FROM_COMPONENT, 'c');
      assert.equal(env.SHARED, 'job');
      assert.equal(env.FROM_JOB, 'j');
      assert.equal(env.JOB_NAME, created.body.name);
      assert.equal(env.JOB_ID, 'env-job');
      assert.equal(env.BATCH_NAME, created.body.name.slice(0, -9));
      assert.equal(env.PAYLOAD_PATH, path.join(t.dataDir, 'jobs', created.body.name));
      assert.equal(env.JOB_SCHEDULER_TEST_SECRET, undefined);
    } finally {
      delete process.env.JOB_SCHEDULER_TEST_SECRET;
    }
  });

  it('when jobs are listed, answers single jobs only, and any job by name', async () => {
    const single = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob()] }).expect(200);
    const list = await t.request.get('/api/v1/jobs').expect(200);
    assert.deepEqual(list.body.map((j: { name: string }) => j.name), [single.body.name]);
    const batchJob = batch.body.jobStatuses[0].name;
    const one = await t.request.get(`/api/v1/jobs/${batchJob}`).expect(200);
    assert.equal(one.body.batchName, batch.body.name);
  });

  it('when a name is unknown or malformed, answers 404 or 400 with a Status body', async () => {
    const missing = await t.request.get('/api/v1/jobs/batch-compute-20240101000000-aaaaaaaa-bbbbbbbb').expect(404);
    assert.deepEqual(
      { status: missing.body.status, code: missing.body.code, reason: missing.body.reason },
      { status: 'Failure', code: 404, reason: 'NotFound' },
    );
    await t.request.delete('/api/v1/jobs/nope').expect(404);
    await t.request.post('/api/v1/jobs/nope/stop').expect(404);
    const bad = await t.request.get('/api/v1/jobs/..%2F..%2Fetc').expect(400);
    assert.equal(bad.body.code, 400);
  });

  it('when a field has the wrong type or is unknown, answers 400 naming it', async () => {
    const wrongType = await t.request.post('/api/v1/jobs').send({ timeLimitSeconds: 'soon' }).expect(400);
    assert.match(wrongType.body.message, /timeLimitSeconds/);
    const unknown = await t.request.post('/api/v1/jobs').send({ payload: 'x', colour: 'red' }).expect(400);
    assert.match(unknown.body.message, /colour/);
    const reserved = await t.request.post('/api/v1/jobs').send({ variables: { JOB_NAME: 'mine' } }).expect(422);
    assert.match(reserved.body.message, /variables\.JOB_NAME/);
    const malformed = await t.request.post('/api/v1/jobs').set('content-type', 'application/json').send('{"payload":').expect(400);
    assert.equal(malformed.body.reason, 'BadRequest');
  });

  it('when a running job is stopped, its process group ends and it is Stopped', async () => {
    const created = await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60, spawnChild: true })).expect(200);
    const dir = path.join(t.dataDir, 'jobs', created.body.name);
    await waitFor(async () => existsSync(path.join(dir, 'child.pid')), Boolean);
    const childPid = Number(readFileSync(path.join(dir, 'child.pid'), 'utf8'));
    const stop = await t.request.post(`/api/v1/jobs/${created.body.name}/stop`).expect(200);
    assert.deepEqual(stop.body, { status: 'Success', message: `job ${created.body.name} successfully stopped`, code: 200 });
    const ended = await waitForJobEnd(t.request, created.body.name);
    assert.equal(ended.status, 'Stopped');
    assert.equal(ended.podStatuses[0]?.replicaStatus.status, 'Stopped');
    await waitFor(async () => isRunning(childPid), (running) => !running);
  });

  it('when a finished job is stopped, answers 400; when a stopped job is stopped again, answers 200', async () => {
    const done = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await waitForJobEnd(t.request, done.body.name);
    const refused = await t.request.post(`/api/v1/jobs/${done.body.name}/stop`).expect(400);
    assert.match(refused.body.message, /already ended/);
    const sleeper = await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 })).expect(200);
    await t.request.post(`/api/v1/jobs/${sleeper.body.name}/stop`).expect(200);
    await waitForJobEnd(t.request, sleeper.body.name);
    await t.request.post(`/api/v1/jobs/${sleeper.body.name}/stop`).expect(200);
  });

  it('when all single jobs are stopped, every unfinished single job ends Stopped and batches are untouched', async () => {
    const a = await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 })).expect(200);
    const b = await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 })).expect(200);
    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob({ sleepSeconds: 60 })] }).expect(200);
    const stop = await t.request.post('/api/v1/jobs/stop').expect(200);
    assert.equal(stop.body.status, 'Success');
    assert.equal((await waitForJobEnd(t.request, a.body.name)).status, 'Stopped');
    assert.equal((await waitForJobEnd(t.request, b.body.name)).status, 'Stopped');
    const batchJob = await t.request.get(`/api/v1/jobs/${batch.body.jobStatuses[0].name}`).expect(200);
    assert.notEqual(batchJob.body.status, 'Stopped');
  });

  it('when a job is deleted, its process ends, its files go, and its name is unknown', async () => {
    const created = await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 })).expect(200);
    const dir = path.join(t.dataDir, 'jobs', created.body.name);
    await waitFor(() => t.request.get(`/api/v1/jobs/${created.body.name}`), (r) => r.body.status === 'Running');
    const deleted = await t.request.delete(`/api/v1/jobs/${created.body.name}`).expect(200);
    assert.deepEqual(deleted.body, { status: 'Success', message: `job ${created.body.name} successfully deleted`, code: 200 });
    assert.equal(existsSync(dir), false);
    await t.request.get(`/api/v1/jobs/${created.body.name}`).expect(404);
  });

  it('when a job of a batch is deleted or stopped through /jobs, answers 400 pointing at the batch', async () => {
    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob()] }).expect(200);
    const job = batch.body.jobStatuses[0].name;
    const response = await t.request.delete(`/api/v1/jobs/${job}`).expect(400);
    assert.match(response.body.message, new RegExp(batch.body.name));
    await t.request.post(`/api/v1/jobs/${job}/stop`).expect(400);
  });

  it('when the component names resources and node, the job message says the local runtime does not enforce them (a memory limit it enforces)', async () => {
    const created = await t.request.post('/api/v1/jobs')
      .send(aJob({}, { resources: { limits: { cpu: '300m', memory: '1Gi' } }, node: { gpu: 'gpu1', gpuCount: '1' } })).expect(200);
    const ended = await waitForJobEnd(t.request, created.body.name);
    assert.equal(ended.status, 'Succeeded');
    assert.match(ended.message ?? '', /not enforced by the local runtime: resources\.limits\.cpu, node\.gpu, node\.gpuCount/);
  });
});

