import assert from 'node:assert/strict';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import {ClusterActor, fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';

/** Operating features run on the Kubernetes runtime as on the local one. */
describe('operating the service on the Kubernetes runtime', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let t: KubeTestService | undefined;
  const cluster = fakeClusterFrame((each) => ({ fake } = each));

  it('when finished jobs pass the history age, their batch records go and the cluster collects the rest', async () => {
    t = await cluster.start({ env: { JOB_SCHEDULER_HISTORY_MAX_AGE_SECONDS: '0', JOB_SCHEDULER_HISTORY_KEEP: '0', JOB_SCHEDULER_HISTORY_CHECK_SECONDS: '0.1' } });
    const actor = new ClusterActor(fake);
    const { body } = await t.request.post('/api/v1/jobs').send({ payload: 'p' }).expect(200);
    await waitFor(async () => fake.get('jobs', NAMESPACE, body.name), Boolean);
    await actor.attempt(body.name, 0);
    await actor.complete(body.name);
    await waitFor(async () => (await t!.request.get(`/api/v1/jobs/${body.name}`)).status, (status) => status === 404);
    await waitFor(async () => ['configmaps', 'secrets', 'jobs', 'pods'].flatMap((resource) => fake.list(resource, NAMESPACE)), (left) => left.length === 0);
  });

  it('when the API server refuses a write, the metrics count the retry', async () => {
    t = await cluster.start();
    fake.failNext({ verb: 'create', resource: 'configmaps', status: 500 });
    await t.request.post('/api/v1/jobs').send({}).expect(200);
    const text = (await t.request.get('/metrics').expect(200)).text;
    assert.match(text, /job_scheduler_kubernetes_requests_total\{outcome="retried",code="500"\} 1/);
    assert.match(text, /job_scheduler_kubernetes_requests_total\{outcome="ok",code="none"\} [1-9]/);
  });
});
