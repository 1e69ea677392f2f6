import assert from 'node:assert/strict';
import type { JobStatusView } from '../../src/core/view.js';
import { waitFor } from '../component/harness.js';
import { deduplicated, type Receiver, startReceiver, transitionOf, transitionsOf } from '../component/webhook-receiver.js';
import type { FakeApiServer } from './fake/server.js';
import { ClusterActor, type KubeTestService, NAMESPACE, startFakeApiServer, startKubeTestService } from './harness.js';

/** The webhook on the Kubernetes runtime, whose outbox lives in memory only. */
describe('webhook notifications on the Kubernetes runtime', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let t: KubeTestService | undefined;
  let receiver: Receiver | undefined;
  beforeEach(async () => {
    fake = await startFakeApiServer();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await receiver?.close();
    receiver = undefined;
    await fake.close();
  });

  it('when a job runs, the webhook is told of its creation and each change, each under an id of its own', async () => {
    const hook = await startReceiver();
    receiver = hook;
    t = await startKubeTestService(fake, { component: { notifications: { webhook: hook.url } }, env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.01' } });
    const actor = new ClusterActor(fake);
    const job = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body as JobStatusView;
    await waitFor(async () => fake.get('jobs', NAMESPACE, job.name), Boolean);
    await actor.attempt(job.name, 0);
    await actor.complete(job.name);
    await waitFor(async () => transitionsOf(hook.received, job.name), (keys) => keys.some((key) => key.startsWith('Succeeded')));
    assert.equal(hook.received[0]!.body.event, 'Create');
    const told = transitionsOf(hook.received, job.name);
    assert.ok(told.some((key) => key.startsWith('Running')), told.join(', '));
    assert.equal(deduplicated(hook.received).length, hook.received.length, 'no id was used twice');
  });

  it('when the job ends while the service is down, the restarted service tells it under a new id after the Create it tells again', async () => {
    const hook = await startReceiver();
    receiver = hook;
    const options = { component: { notifications: { webhook: hook.url } }, env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.01' } };
    t = await startKubeTestService(fake, options);
    const actor = new ClusterActor(fake);
    const job = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body as JobStatusView;
    await waitFor(async () => fake.get('jobs', NAMESPACE, job.name), Boolean);
    const pod = await actor.startPod(job.name);
    await actor.running(pod);
    await waitFor(async () => transitionsOf(hook.received, job.name), (keys) => keys.some((key) => key.startsWith('Running')));
    const before = new Map(hook.received.map((event) => [event.id, event.raw]));
    await t.close();
    t = undefined;

    await actor.exited(pod, 0);
    await actor.complete(job.name);
    t = await startKubeTestService(fake, options);
    await waitFor(async () => transitionsOf(hook.received, job.name), (keys) => keys.some((key) => key.startsWith('Succeeded')));
    const retold = hook.received.slice(before.size);
    assert.equal(retold[0]!.body.event, 'Create');
    assert.ok(before.has(retold[0]!.id), 'the Create is told again under its own id');
    const ended = retold.find((event) => event.body.event === 'Update' && event.body.jobStatuses!.some((view) => transitionOf(view).startsWith('Succeeded')));
    assert.ok(ended && !before.has(ended.id), 'the end is told under an id not used before');
  });
});
