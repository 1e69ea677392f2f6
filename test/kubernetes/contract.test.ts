import { describeApiContract } from '../contract/api-contract.js';
import type { FakeApiServer } from './fake/server.js';
import { ClusterActor, NAMESPACE, startFakeApiServer, startKubeTestService } from './harness.js';

let fake: FakeApiServer;

describeApiContract('the Kubernetes runtime (fake API server)', {
  async start() {
    fake = await startFakeApiServer();
    const service = await startKubeTestService(fake);
    return {
      request: service.request,
      async close() {
        await service.close();
        await fake.close();
      },
    };
  },
  /** The job controller's part: a suspended Job's pods are ended and the Job marked suspended. */
  async afterStop(jobName) {
    if (fake.get('jobs', NAMESPACE, jobName)) await new ClusterActor(fake).suspend(jobName);
  },
  timeoutMs: 10_000,
});
