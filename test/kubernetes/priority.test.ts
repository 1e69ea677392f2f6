import assert from 'node:assert/strict';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import { type ClusterActor, fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';

/**
 * The run queue's cap and order on the Kubernetes runtime. The default cap there is 1,000,000 (the cluster's
 * quota decides), so a cap of 2 is set to make jobs wait.
 */
describe('priority and fair order on the Kubernetes runtime', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let actor: ClusterActor;
  let t: KubeTestService | undefined;
  const cluster = fakeClusterFrame((each) => ({ fake, actor } = each));

  const start = () => cluster.start({ env: { JOB_SCHEDULER_MAX_RUNNING: '2' } });
  /** The Jobs the service created, in no particular order. */
  const created = () => fake.list('jobs', NAMESPACE).map((job) => (job as { metadata: { name: string } }).metadata.name);

  async function waitForCreated(count: number): Promise<string[]> {
    return waitFor(async () => created(), (names) => names.length >= count);
  }

  /** Runs the Jobs in flight to success one at a time, oldest first, answering the Job created in each freed slot. */
  async function nextStarts(running: string[], count: number): Promise<string[]> {
    const next: string[] = [];
    for (let i = 0; i < count; i++) {
      const before = new Set(created());
      const oldest = running.shift()!;
      await actor.attempt(oldest, 0);
      await actor.complete(oldest);
      const after = await waitForCreated(before.size + 1);
      const started = after.find((name) => !before.has(name))!;
      assert.equal(after.length, before.size + 1, 'one slot freed, one Job created');
      next.push(started);
      running.push(started);
    }
    return next;
  }

  it('when a single job is posted behind a 1,000-job batch, its Job is created within the next two free slots', async () => {
    t = await start();
    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 1000 }, () => ({})) }).expect(200);
    const batchJobs = (batch.body.jobStatuses as Array<{ name: string }>).map((job) => job.name);
    const running = await waitForCreated(2);
    assert.deepEqual(new Set(running), new Set(batchJobs.slice(0, 2)));
    const single = await t.request.post('/api/v1/jobs').send({}).expect(200);

    assert.deepEqual(await nextStarts(running, 2), [batchJobs[2], single.body.name]);
    assert.equal(fake.count('jobs', NAMESPACE), 4);
  });

  it('when the service restarts with jobs waiting, it rebuilds their order: higher priority first, then batches take turns', async () => {
    t = await start();
    const low = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 6 }, () => ({})) }).expect(200);
    const b = (low.body.jobStatuses as Array<{ name: string }>).map((job) => job.name);
    const running = await waitForCreated(2);
    const single = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body.name as string;
    const high = await t.request.post('/api/v1/batches').send({ priority: 5, jobScheduleDescriptions: [{}, {}, { priority: -1 }] }).expect(200);
    const h = (high.body.jobStatuses as Array<{ name: string }>).map((job) => job.name);
    const urgent = (await t.request.post('/api/v1/jobs').send({ priority: 10 }).expect(200)).body.name as string;
    await t.close();
    t = undefined;

    t = await start();
    const state = (await t.request.get(`/api/v1/batches/${high.body.name}`).expect(200)).body;
    assert.deepEqual(state.jobStatuses.map((job: { priority?: number }) => job.priority), [5, 5, -1]);
    assert.equal((await t.request.get(`/api/v1/jobs/${urgent}`).expect(200)).body.priority, 10);
    assert.equal(fake.count('jobs', NAMESPACE), 2, 'the cap holds after the restart');

    const next = await nextStarts(running, 9);

    assert.deepEqual(next, [urgent, h[0], h[1], b[2], single, b[3], b[4], b[5], h[2]]);
  });
});
