import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { aJob, startTestService, TERMINAL, type TestService, waitFor } from './harness.js';

const KEY = 'Idempotency-Key';
const REPLAYED = 'idempotency-replayed';
const NDJSON = 'application/x-ndjson';

describe('idempotent submissions over the local runtime', function () {
  this.timeout(60_000);
  let t: TestService | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const aBatch = (note = 'first') => ({ batchId: 'orders', jobScheduleDescriptions: [aJob({ note }, { jobId: 'a' }), aJob({}, { jobId: 'b' })] });
  const batchNames = async (s: TestService) => ((await s.request.get('/api/v1/batches').expect(200)).body as Array<{ name: string }>).map((b) => b.name);

  it('when the same key and body come twice, answers the first batch as it is now, marked replayed, and records nothing new', async () => {
    t = await startTestService();
    const key = randomUUID();
    const first = await t.request.post('/api/v1/batches').set(KEY, key).send(aBatch()).expect(200);
    assert.equal(first.headers[REPLAYED], undefined);
    await waitFor(() => t!.request.get(`/api/v1/batches/${first.body.name}`), (r) => TERMINAL.includes(r.body.status));
    const again = await t.request.post('/api/v1/batches').set(KEY, key).send(aBatch()).expect(200);
    assert.equal(again.headers[REPLAYED], 'true');
    assert.equal(again.body.name, first.body.name);
    assert.equal(again.body.status, 'Succeeded');
    assert.deepEqual(again.body.jobStatuses.map((job: { name: string }) => job.name), first.body.jobStatuses.map((job: { name: string }) => job.name));
    assert.deepEqual(await batchNames(t), [first.body.name]);
  });

  it('when the service tracks all the jobs it may, a replay is still answered (not 429), another body still gets 422, and a new key gets 429', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_TRACKED_JOBS: '3', JOB_SCHEDULER_MAX_BATCH_JOBS: '2' } });
    const single = await t.request.post('/api/v1/jobs').set(KEY, 'single').send(aJob({}, { jobId: 'one' })).expect(200);
    const batch = await t.request.post('/api/v1/batches').set(KEY, 'batch').send(aBatch()).expect(200);
    const full = await t.request.post('/api/v1/jobs').send(aJob()).expect(429);
    assert.match(full.body.message, /JOB_SCHEDULER_MAX_TRACKED_JOBS/);

    const singleAgain = await t.request.post('/api/v1/jobs').set(KEY, 'single').send(aJob({}, { jobId: 'one' })).expect(200);
    assert.equal(singleAgain.headers[REPLAYED], 'true');
    assert.equal(singleAgain.body.name, single.body.name);
    const batchAgain = await t.request.post('/api/v1/batches').set(KEY, 'batch').send(aBatch()).expect(200);
    assert.equal(batchAgain.headers[REPLAYED], 'true');
    const { jobScheduleDescriptions: jobs, ...own } = aBatch();
    const streamed = await t.request.post('/api/v1/batches').set(KEY, 'batch').set('content-type', NDJSON)
      .send([own, ...jobs].map((line) => JSON.stringify(line)).join('\n')).expect(200);
    assert.equal(streamed.headers[REPLAYED], 'true');
    assert.equal(streamed.body.name, batch.body.name);

    await t.request.post('/api/v1/batches').set(KEY, 'batch').send(aBatch('second')).expect(422);
    await t.request.post('/api/v1/jobs').set(KEY, 'new').send(aJob()).expect(429);
    assert.deepEqual(await batchNames(t), [batch.body.name]);
  });

  it('when the same key comes with another body, or on the other endpoint, answers 422 and records nothing', async () => {
    t = await startTestService();
    const key = randomUUID();
    await t.request.post('/api/v1/batches').set(KEY, key).send(aBatch('first')).expect(200);
    const other = await t.request.post('/api/v1/batches').set(KEY, key).send(aBatch('second')).expect(422);
    assert.equal(other.body.reason, 'Invalid');
    assert.match(other.body.message, /Idempotency-Key was already used with another request/);
    const single = await t.request.post('/api/v1/jobs').set(KEY, key).send(aJob()).expect(422);
    assert.equal(single.body.code, 422);
    assert.equal((await batchNames(t)).length, 1);
    assert.deepEqual((await t.request.get('/api/v1/jobs').expect(200)).body, []);
  });

  it('when a single job is posted twice with one key, answers the same job, marked replayed', async () => {
    t = await startTestService();
    const first = await t.request.post('/api/v1/jobs').set(KEY, 'job-1').send(aJob({}, { jobId: 'x' })).expect(200);
    const again = await t.request.post('/api/v1/jobs').set(KEY, 'job-1').send(aJob({}, { jobId: 'x' })).expect(200);
    assert.equal(again.headers[REPLAYED], 'true');
    assert.equal(again.body.name, first.body.name);
    assert.equal((await t.request.get('/api/v1/jobs').expect(200)).body.length, 1);
  });

  it('when the key is malformed (too long, or not printable ASCII), answers 400 naming the rule', async () => {
    t = await startTestService();
    for (const bad of ['x'.repeat(256), 'tab\there']) {
      const response: { body: { reason: string } } = await t.request.post('/api/v1/batches').set(KEY, bad).send(aBatch()).expect(400);
      assert.equal(response.body.reason, 'BadRequest');
    }
    const streamed = await t.request.post('/api/v1/batches').set(KEY, 'x'.repeat(256)).set('content-type', NDJSON).send('{}\n{}\n').expect(400);
    assert.match(streamed.body.message, /Idempotency-Key header must be 1 to 255 printable ASCII characters/);
    assert.deepEqual(await batchNames(t), []);
  });

  it('when eight requests with one key arrive at once, makes exactly one batch and answers it to all', async () => {
    t = await startTestService();
    const answers = await Promise.all(Array.from({ length: 8 }, () => t!.request.post('/api/v1/batches').set(KEY, 'together').send(aBatch())));
    assert.deepEqual(answers.map((r) => r.status), Array(8).fill(200));
    assert.equal(new Set(answers.map((r) => r.body.name)).size, 1);
    assert.equal(answers.filter((r) => r.headers[REPLAYED] === undefined).length, 1);
    assert.equal((await batchNames(t)).length, 1);
  });

  it('when the service restarts on the same data, the key still answers its batch, and another body still gets 422', async () => {
    t = await startTestService();
    const first = await t.request.post('/api/v1/batches').set(KEY, 'durable').send(aBatch()).expect(200);
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    t = await startTestService({ dataDir });
    const again = await t.request.post('/api/v1/batches').set(KEY, 'durable').send(aBatch()).expect(200);
    assert.equal(again.headers[REPLAYED], 'true');
    assert.equal(again.body.name, first.body.name);
    await t.request.post('/api/v1/batches').set(KEY, 'durable').send(aBatch('other')).expect(422);
    assert.deepEqual(await batchNames(t), [first.body.name]);
  });

  it('when the key\'s batch was deleted, answers 409 naming the batch, also after a restart', async () => {
    t = await startTestService();
    const first = await t.request.post('/api/v1/batches').set(KEY, 'gone').send(aBatch()).expect(200);
    await t.request.delete(`/api/v1/batches/${first.body.name}`).expect(200);
    const conflict = await t.request.post('/api/v1/batches').set(KEY, 'gone').send(aBatch()).expect(409);
    assert.equal(conflict.body.reason, 'Conflict');
    assert.match(conflict.body.message, new RegExp(`created batch ${first.body.name}, which has since been deleted`));
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    t = await startTestService({ dataDir });
    await t.request.post('/api/v1/batches').set(KEY, 'gone').send(aBatch()).expect(409);
    assert.deepEqual(await batchNames(t), []);
  });

  it('when the same batch comes as JSON and then as NDJSON with one key, the second is a replay (one request, two forms)', async () => {
    t = await startTestService();
    const batch = aBatch();
    const first = await t.request.post('/api/v1/batches').set(KEY, 'forms').send(batch).expect(200);
    const { jobScheduleDescriptions: jobs, ...own } = batch;
    const body = [own, ...jobs].map((line) => JSON.stringify(line)).join('\n');
    const again = await t.request.post('/api/v1/batches').set(KEY, 'forms').set('content-type', NDJSON).send(body).expect(200);
    assert.equal(again.headers[REPLAYED], 'true');
    assert.equal(again.body.name, first.body.name);
    assert.equal(again.body.jobStatuses, undefined);
  });

  it('when the component makes batchId the key, a repeated batchId answers its batch, and with another body 422; otherwise it makes a second batch', async () => {
    t = await startTestService({ component: { idempotentBatchId: true } });
    const first = await t.request.post('/api/v1/batches').send(aBatch()).expect(200);
    const again = await t.request.post('/api/v1/batches').send(aBatch()).expect(200);
    assert.equal(again.headers[REPLAYED], 'true');
    assert.equal(again.body.name, first.body.name);
    const other = await t.request.post('/api/v1/batches').send(aBatch('other')).expect(422);
    assert.match(other.body.message, /this batchId/);
    await t.close();
    t = await startTestService();
    await t.request.post('/api/v1/batches').send(aBatch()).expect(200);
    const second = await t.request.post('/api/v1/batches').send(aBatch()).expect(200);
    assert.equal(second.headers[REPLAYED], undefined);
    assert.equal((await batchNames(t)).length, 2);
  });
});
