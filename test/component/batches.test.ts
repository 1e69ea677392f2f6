import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { aJob, root, startTestService, TERMINAL, type TestService, waitFor } from './harness.js';

const guide = JSON.parse(readFileSync(path.join(root, 'test/fixtures/radix-guide-bodies.json'), 'utf8')) as {
  jobs: object[];
  batches: object[];
};

describe('batches over the local runtime', function () {
  let t: TestService;
  beforeEach(async () => {
    t = await startTestService({ component: { timeLimitSeconds: 600, backoffLimit: 1, resources: { requests: { cpu: '50m' } } } });
  });
  afterEach(async () => t.close());

  const batchEnded = (name: string) =>
    waitFor(() => t.request.get(`/api/v1/batches/${name}`), (r) => TERMINAL.includes(r.body.status) && r.body.ended !== null);

  it('when a batch is posted, answers its state with every job, and all run to Succeeded', async () => {
    const created = await t.request.post('/api/v1/batches')
      .send({ batchId: 'b-1', jobScheduleDescriptions: [aJob({}, { jobId: 'a' }), aJob({}, { jobId: 'b' }), aJob()] }).expect(200);
    assert.match(created.body.name, /^batch-compute-\d{14}-[a-z0-9]{8}$/);
    assert.equal(created.body.batchName, created.body.name);
    assert.equal(created.body.batchId, 'b-1');
    assert.equal(created.body.batchType, 'batch');
    assert.equal(created.body.jobStatuses.length, 3);
    for (const job of created.body.jobStatuses) {
      assert.ok(job.name.startsWith(`${created.body.name}-`));
      assert.equal(job.batchName, created.body.name);
    }
    assert.deepEqual(created.body.jobStatuses.map((j: { jobId?: string }) => j.jobId), ['a', 'b', undefined]);
    const ended = await batchEnded(created.body.name);
    assert.equal(ended.body.status, 'Succeeded');
    assert.ok(ended.body.started <= ended.body.ended);
    const list = await t.request.get('/api/v1/batches').expect(200);
    assert.deepEqual(list.body.map((b: { name: string }) => b.name), [created.body.name]);
    assert.equal(list.body[0].jobStatuses, undefined);
  });

  it('when one job of a batch fails, the batch ends Failed once all are done', async () => {
    const created = await t.request.post('/api/v1/batches')
      .send({ jobScheduleDescriptions: [aJob(), aJob({ exitCodes: [1] }, { backoffLimit: 0 }), aJob({ sleepSeconds: 0.3 })] }).expect(200);
    const ended = await batchEnded(created.body.name);
    assert.equal(ended.body.status, 'Failed');
    assert.deepEqual(ended.body.jobStatuses.map((j: { status: string }) => j.status), ['Succeeded', 'Failed', 'Succeeded']);
    // The cached JSON the route sends outside tests is the same as the view it validates here.
    const scheduler = t.service.scheduler;
    assert.deepEqual(JSON.parse(scheduler.getBatchJson(created.body.name)), scheduler.getBatch(created.body.name));
    assert.deepEqual(JSON.parse(scheduler.getBatchJson(created.body.name)), ended.body);
  });

  it('when a job is stopped inside a batch, the others go on and the batch ends Stopped', async () => {
    const created = await t.request.post('/api/v1/batches')
      .send({ jobScheduleDescriptions: [aJob(), aJob({ sleepSeconds: 60 })] }).expect(200);
    const [first, second] = created.body.jobStatuses.map((j: { name: string }) => j.name);
    await waitFor(() => t.request.get(`/api/v1/batches/${created.body.name}/jobs/${second}`), (r) => r.body.status === 'Running');
    const stop = await t.request.post(`/api/v1/batches/${created.body.name}/jobs/${second}/stop`).expect(200);
    assert.equal(stop.body.message, `job ${second} in the batch ${created.body.name} successfully stopped`);
    const ended = await batchEnded(created.body.name);
    assert.equal(ended.body.status, 'Stopped');
    assert.equal((await t.request.get(`/api/v1/batches/${created.body.name}/jobs/${first}`).expect(200)).body.status, 'Succeeded');
  });

  it('when a batch is stopped, its unfinished jobs (running and waiting) end Stopped', async () => {
    const jobs = Array.from({ length: 6 }, () => aJob({ sleepSeconds: 60 }));
    const created = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).expect(200);
    await waitFor(() => t.request.get(`/api/v1/batches/${created.body.name}`), (r) => r.body.status === 'Running');
    const stop = await t.request.post(`/api/v1/batches/${created.body.name}/stop`).expect(200);
    assert.equal(stop.body.message, `batch ${created.body.name} successfully stopped`);
    const ended = await batchEnded(created.body.name);
    assert.equal(ended.body.status, 'Stopped');
    const statuses = ended.body.jobStatuses.map((j: { status: string; podStatuses: unknown[] }) => [j.status, j.podStatuses.length > 0]);
    assert.ok(statuses.every(([status]: [string]) => status === 'Stopped'));
    assert.ok(statuses.some(([, started]: [string, boolean]) => !started), 'some jobs were still waiting (cap 4)');
  });

  it('when all batches are stopped, single jobs are untouched', async () => {
    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob({ sleepSeconds: 60 })] }).expect(200);
    const single = await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 })).expect(200);
    await t.request.post('/api/v1/batches/stop').expect(200);
    assert.equal((await batchEnded(batch.body.name)).body.status, 'Stopped');
    const job = await t.request.get(`/api/v1/jobs/${single.body.name}`).expect(200);
    assert.ok(!TERMINAL.includes(job.body.status));
  });

  it('when a batch is deleted, its jobs and their files are gone', async () => {
    const created = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob(), aJob({ sleepSeconds: 60 })] }).expect(200);
    const names = created.body.jobStatuses.map((j: { name: string }) => j.name);
    await waitFor(() => t.request.get(`/api/v1/jobs/${names[1]}`), (r) => r.body.status === 'Running');
    const deleted = await t.request.delete(`/api/v1/batches/${created.body.name}`).expect(200);
    assert.equal(deleted.body.message, `batch ${created.body.name} successfully deleted`);
    for (const name of names) {
      await t.request.get(`/api/v1/jobs/${name}`).expect(404);
      assert.equal(existsSync(path.join(t.dataDir, 'jobs', name)), false);
    }
    await t.request.get(`/api/v1/batches/${created.body.name}`).expect(404);
  });

  it('when names are unknown, batch routes answer 404; a single job is not a batch', async () => {
    await t.request.get('/api/v1/batches/batch-compute-20240101000000-aaaaaaaa').expect(404);
    await t.request.delete('/api/v1/batches/batch-compute-20240101000000-aaaaaaaa').expect(404);
    await t.request.post('/api/v1/batches/batch-compute-20240101000000-aaaaaaaa/stop').expect(404);
    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob()] }).expect(200);
    await t.request.get(`/api/v1/batches/${batch.body.name}/jobs/${batch.body.name}-zzzzzzzz`).expect(404);
    const single = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await t.request.get(`/api/v1/batches/${single.body.name.slice(0, -9)}`).expect(404);
  });

  it('when batch defaults and job settings are given, the effective spec follows component < batch < job', async () => {
    const created = await t.request.post('/api/v1/batches').send({
      defaultRadixJobComponentConfig: { backoffLimit: 3, variables: { LEVEL: 'batch' }, resources: { limits: { memory: '1Gi', cpu: '250m' } } },
      jobScheduleDescriptions: [
        aJob({ exitCodes: [1, 1, 1, 0] }),
        aJob({ exitCodes: [1, 1, 0] }, { backoffLimit: 1 }),
      ],
    }).expect(200);
    const ended = await batchEnded(created.body.name);
    const [a, b] = ended.body.jobStatuses;
    assert.equal(a.status, 'Succeeded');
    assert.equal(a.podStatuses.length, 4);
    assert.equal(b.status, 'Failed');
    assert.equal(b.podStatuses.length, 2);
    // The batch's limits merged with the component's requests (the memory limit is enforced, so not named).
    assert.match(a.message, /not enforced by the local runtime: resources\.limits\.cpu, resources\.requests\.cpu$/);
  });

  it('when the Radix guide example bodies are posted exactly as printed, they are accepted', async () => {
    for (const body of guide.jobs) await t.request.post('/api/v1/jobs').send(body).expect(200);
    for (const body of guide.batches) {
      const response = await t.request.post('/api/v1/batches').send(body).expect(200);
      assert.equal(response.body.jobStatuses.length, (body as { jobScheduleDescriptions: unknown[] }).jobScheduleDescriptions.length);
    }
    await t.request.post('/api/v1/batches/stop').expect(200);
    await t.request.post('/api/v1/jobs/stop').expect(200);
  });

  it('when a batch has no jobs or a job has a bad field, answers 400 naming the field', async () => {
    const empty = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [] }).expect(400);
    assert.match(empty.body.message, /jobScheduleDescriptions/);
    const bad = await t.request.post('/api/v1/batches')
      .send({ jobScheduleDescriptions: [aJob(), { backoffLimit: -1 }] }).expect(400);
    assert.match(bad.body.message, /jobScheduleDescriptions\[1\]\.backoffLimit/);
    const big = await t.request.post('/api/v1/batches')
      .send({ jobScheduleDescriptions: [aJob(), { payload: 'x'.repeat(1024 * 1024 + 1) }] }).expect(413);
    assert.match(big.body.message, /jobScheduleDescriptions\[1\]\.payload/);
    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
  });
});
