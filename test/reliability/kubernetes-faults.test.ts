import assert from 'node:assert/strict';
import type { BatchStatusView } from '../../src/core/view.js';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from '../kubernetes/fake/server.js';
import { ClusterActor, type KubeTestService, NAMESPACE, startFakeApiServer, startKubeTestService } from '../kubernetes/harness.js';
import { sizes } from './sizes.js';

describe('reliability: Kubernetes faults', function () {
  this.timeout(sizes.testTimeoutMs);
  let fake: FakeApiServer;
  let t: KubeTestService | undefined;
  let dropping: NodeJS.Timeout | undefined;
  afterEach(async () => {
    clearInterval(dropping);
    fake.chaos(undefined);
    await t?.close();
    await fake.close();
  });

  it(`when 10% of the runtime's requests fail with 429 or 500, the rest are slowed and watches drop, all ${sizes.kubernetesJobs} jobs succeed and no Job is created twice`, async () => {
    fake = await startFakeApiServer();
    const actor = new ClusterActor(fake);
    t = await startKubeTestService(fake);
    fake.chaos({ failureRate: 0.1, maxDelayMs: 20, forUser: '' });
    dropping = setInterval(() => fake.dropWatches(), 400);
    const perBatch = sizes.kubernetesJobs / 4;
    const batches: string[] = [];
    for (let b = 0; b < 4; b++) {
      const created: { status: number; body: { name: string } } = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: perBatch }, (_, i) => ({ jobId: `${b}-${i}`, payload: `p${i}` })) });
      // An answer of 503 means the batch was not recorded (the runtime gave up after its retries): ask again, as a client would.
      if (created.status === 503) {
        b--;
        continue;
      }
      assert.equal(created.status, 200, JSON.stringify(created.body));
      batches.push(created.body.name);
    }
    // The job controller and kubelet: run each Job once it exists.
    const done = new Set<string>();
    const finished = await waitFor(async () => {
      for (const job of fake.list('jobs', NAMESPACE)) {
        if (done.has(job.metadata.name)) continue;
        done.add(job.metadata.name);
        await actor.attempt(job.metadata.name, 0);
        await actor.complete(job.metadata.name);
      }
      return Promise.all(batches.map(async (name) => (await t!.request.get(`/api/v1/batches/${name}`).expect(200)).body as BatchStatusView));
    }, (states) => states.every((batch) => batch.status === 'Succeeded'), 120_000);
    assert.equal(finished.flatMap((batch) => batch.jobStatuses!).length, sizes.kubernetesJobs);
    const failures = fake.requests.filter((entry) => entry.user === '' && [429, 500].includes(entry.status)).length;
    assert.ok(failures > 0, 'faults were injected');
    assert.equal(fake.list('jobs', NAMESPACE).length, sizes.kubernetesJobs);
    assert.equal(fake.requests.filter((entry) => entry.user === '' && entry.verb === 'create' && entry.resource === 'jobs' && entry.status === 201).length, sizes.kubernetesJobs, 'one successful create per Job');
  });
});
