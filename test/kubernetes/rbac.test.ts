import assert from 'node:assert/strict';
import { chartPermissions } from '../shipping/chart-role.js';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import { ClusterActor, type KubeTestService, NAMESPACE, startFakeApiServer, startKubeTestService } from './harness.js';

describe("the chart's Role against what the runtime does", function () {
  this.timeout(60_000);
  let fake: FakeApiServer;
  let t: KubeTestService | undefined;
  afterEach(async () => {
    await t?.close();
    await fake.close();
  });

  it('when every runtime path runs, the requests it makes are exactly the Role: nothing missing, nothing unused', async () => {
    fake = await startFakeApiServer();
    const actor = new ClusterActor(fake);
    t = await startKubeTestService(fake, { env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const batch = (await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: 'a' }, { payload: 'b' }] }).expect(200)).body;
    const [running, waiting] = batch.jobStatuses.map((job: { name: string }) => job.name) as [string, string];
    await waitFor(async () => fake.get('jobs', NAMESPACE, running), Boolean);
    const pod = await actor.startPod(running);
    await actor.running(pod);
    fake.podLogs.write(NAMESPACE, pod.metadata!.name!, 'working\n');
    await waitFor(async () => (await t!.request.get(`/api/v1/jobs/${running}`)).body.status, (status) => status === 'Running');
    await t.request.get(`/api/v1/jobs/${running}/logs`).expect(200);
    await t.request.get(`/api/v1/jobs/${running}/payload`).expect(200);
    await t.request.post(`/api/v1/batches/${batch.name}/jobs/${running}/stop`).expect(200);
    await actor.suspend(running);
    await waitFor(async () => (await t!.request.get(`/api/v1/jobs/${running}`)).body.status, (status) => status === 'Stopped');
    await t.request.get(`/api/v1/jobs/${running}/logs`).expect(200);
    await t.request.post(`/api/v1/batches/${batch.name}/jobs/${waiting}/stop`).expect(200);
    await t.request.delete(`/api/v1/batches/${batch.name}`).expect(200);
    await t.request.post('/api/v1/jobs').send({ payload: 'c' }).expect(200);
    await t.close();
    // A batch record left half-written by a crash is taken back by the next instance.
    fake.store.create({ resource: 'configmaps', group: '', version: 'v1', kind: 'ConfigMap', hasStatus: false, defaultPropagation: 'Background' }, NAMESPACE, {
      metadata: { name: 'batch-compute-20260101000000-halfdone', labels: fake.list('configmaps', NAMESPACE)[0].metadata.labels, annotations: { 'job-scheduler.io/state': 'accepting' } },
    });
    t = await startKubeTestService(fake);
    await waitFor(async () => fake.get('configmaps', NAMESPACE, 'batch-compute-20260101000000-halfdone'), (record) => record === undefined);

    const used = new Set(fake.requests.filter((entry) => entry.user === '').map((entry) => `${entry.group}/${entry.resource}${entry.subresource ? `/${entry.subresource}` : ''} ${entry.verb}`));
    const granted = await chartPermissions();
    assert.deepEqual([...used].filter((permission) => !granted.has(permission)).sort(), [], 'used but not granted');
    assert.deepEqual([...granted].filter((permission) => !used.has(permission)).sort(), [], 'granted but never used');
  });
});
