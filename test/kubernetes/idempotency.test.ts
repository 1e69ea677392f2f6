import assert from 'node:assert/strict';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import {fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';

const KEY = 'Idempotency-Key';
const REPLAYED = 'idempotency-replayed';
const ALL = ['configmaps', 'secrets', 'jobs', 'pods'];

/** Idempotent submissions and dry runs on the Kubernetes runtime, against the fake API server. */
describe('idempotent submissions on the Kubernetes runtime', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let t: KubeTestService | undefined;
  const cluster = fakeClusterFrame((each) => ({ fake } = each));

  const aBatch = (note = 'first') => ({ batchId: 'orders', jobScheduleDescriptions: [{ jobId: 'a', payload: `secret-${note}` }, { jobId: 'b' }] });
  const batchRecords = () => fake.list('configmaps', NAMESPACE).filter((object) => object.metadata?.labels?.['job-scheduler.io/role'] === 'batch');
  const restart = async () => {
    await t!.close();
    t = await cluster.start();
  };

  it('when the same key and body come twice, also after a new runtime instance starts, answers the first batch; another body gets 422', async () => {
    t = await cluster.start();
    const first = await t.request.post('/api/v1/batches').set(KEY, 'order-7-key').send(aBatch()).expect(200);
    const again = await t.request.post('/api/v1/batches').set(KEY, 'order-7-key').send(aBatch()).expect(200);
    assert.equal(again.headers[REPLAYED], 'true');
    assert.equal(again.body.name, first.body.name);
    const [record] = batchRecords();
    assert.equal(batchRecords().length, 1);
    const annotation = record!.metadata!.annotations!['job-scheduler.io/idempotency'];
    assert.ok(annotation, 'the batch record carries its key');
    assert.ok(!JSON.stringify(record).includes('order-7-key') && !JSON.stringify(record).includes('secret-first'), 'neither the key nor a payload is in the record');

    await restart();
    const replay = await t.request.post('/api/v1/batches').set(KEY, 'order-7-key').send(aBatch()).expect(200);
    assert.equal(replay.headers[REPLAYED], 'true');
    assert.equal(replay.body.name, first.body.name);
    const other = await t.request.post('/api/v1/batches').set(KEY, 'order-7-key').send(aBatch('second')).expect(422);
    assert.equal(other.body.reason, 'Invalid');
    assert.equal(batchRecords().length, 1);
  });

  it('when six requests with one key arrive at once, the cluster gets one batch', async () => {
    t = await cluster.start();
    const answers = await Promise.all(Array.from({ length: 6 }, () => t!.request.post('/api/v1/jobs').set(KEY, 'same').send({ payload: 'x' })));
    assert.deepEqual(answers.map((r) => r.status), Array(6).fill(200));
    assert.equal(new Set(answers.map((r) => r.body.name)).size, 1);
    assert.equal(batchRecords().length, 1);
  });

  it('when the cluster fails the record\'s create, the client gets 503 and a retry with the key makes the one batch', async () => {
    t = await cluster.start();
    fake.failNext({ verb: 'create', resource: 'configmaps', status: 503, times: 5 }); // every try of one request (requestRetry: 5)
    const failed = await t.request.post('/api/v1/batches').set(KEY, 'retry-me').send(aBatch()).expect(503);
    assert.equal(failed.body.reason, 'ServiceUnavailable');
    assert.equal(batchRecords().length, 0);
    const retried = await t.request.post('/api/v1/batches').set(KEY, 'retry-me').send(aBatch()).expect(200);
    assert.equal(retried.headers[REPLAYED], undefined);
    await t.request.post('/api/v1/batches').set(KEY, 'retry-me').send(aBatch()).expect(200).expect(REPLAYED, 'true');
    assert.equal(batchRecords().length, 1);
  });

  it('when the key\'s batch was deleted, answers 409, also from a new runtime instance; the key object outlives the batch', async () => {
    t = await cluster.start();
    const first = await t.request.post('/api/v1/batches').set(KEY, 'gone').send(aBatch()).expect(200);
    await t.request.delete(`/api/v1/batches/${first.body.name}`).expect(200);
    const conflict = await t.request.post('/api/v1/batches').set(KEY, 'gone').send(aBatch()).expect(409);
    assert.match(conflict.body.message, new RegExp(`created batch ${first.body.name}, which has since been deleted`));
    const kept = fake.get('configmaps', NAMESPACE, `${first.body.name}-key`);
    assert.ok(kept, 'the key is kept in its own object');
    assert.equal(kept.metadata?.ownerReferences, undefined);
    await restart();
    await t.request.post('/api/v1/batches').set(KEY, 'gone').send(aBatch()).expect(409);
    assert.equal(batchRecords().length, 0);
  });

  it('when the key object cannot be written, the batch is not deleted and its key still answers it', async () => {
    t = await cluster.start();
    const first = await t.request.post('/api/v1/batches').set(KEY, 'keep').send(aBatch()).expect(200);
    // Once the jobs are launched (their Jobs and state object made), the next ConfigMap create is the key object's.
    await waitFor(async () => fake.list('configmaps', NAMESPACE).filter((object) => object.metadata?.labels?.['job-scheduler.io/role'] === 'state').length + fake.list('jobs', NAMESPACE).length, (count) => count === 3);
    fake.failNext({ verb: 'create', resource: 'configmaps', status: 503, times: 5 }); // every try of one request (requestRetry: 5)
    const refused = await t.request.delete(`/api/v1/batches/${first.body.name}`).expect(503);
    assert.equal(refused.body.reason, 'ServiceUnavailable');
    assert.equal(batchRecords().length, 1);
    await t.request.post('/api/v1/batches').set(KEY, 'keep').send(aBatch()).expect(200).expect(REPLAYED, 'true');
  });

  it('when a batch is posted with dryRun=true, answers its settings and creates no object in the cluster', async () => {
    t = await cluster.start();
    const answer = await t.request.post('/api/v1/batches?dryRun=true').set(KEY, 'dry').send(aBatch()).expect(200);
    assert.equal(answer.body.jobs.length, 2);
    assert.equal(answer.body.jobs[0].settings.image, 'registry.example.com/compute:1.0');
    await t.request.post('/api/v1/jobs?dryRun=true').send({ payload: 'p' }).expect(200);
    assert.deepEqual(ALL.flatMap((resource) => fake.list(resource, NAMESPACE)), []);
    assert.ok(!fake.requests.some((request) => request.verb === 'create'), 'nothing was created');
  });
});
