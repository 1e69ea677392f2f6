import type { Server } from 'node:http';
import supertest from 'supertest';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { defaultKubeConfig, kubernetesRuntimeFor } from '../../src/runtimes/kubernetes/service-runtime.js';
import { startService } from '../../src/service.js';
import { apiDocument, root } from '../component/harness.js';
import { describeApiContract } from '../contract/api-contract.js';

/**
 * The same API scenarios against a real cluster: `KUBECONFIG=... npm run test:cluster`. Jobs go to
 * `JOB_SCHEDULER_NAMESPACE` (default `default`); every batch a test makes is deleted after it.
 */
/**
 * The job's program on the cluster: busybox reading the same JSON payload as the local fixture job
 * (test/fixtures/job.mjs): `exitCodes` (the first is used), `sleepSeconds`, `allocateMiB`. It exits 143 on SIGTERM,
 * as the fixture job does.
 */
const PROGRAM = [
  'field() { sed -n "s/.*\\"$1\\":\\[\\{0,1\\}\\([0-9]*\\).*/\\1/p" /var/job-payload/payload; }',
  "trap 'exit 143' TERM",
  // dd's block is a buffer it fills: resident memory of that size, in the container's main process.
  'm=$(field allocateMiB); if [ -n "$m" ]; then exec dd if=/dev/zero of=/dev/null bs="${m}M" count=1; fi',
  's=$(field sleepSeconds); sleep "${s:-0}" & wait $!',
  'c=$(field exitCodes); exit "${c:-0}"',
].join('\n');

if (!process.env.KUBECONFIG) {
  describe('the v1 API contract on a real cluster', () => {
    it('runs only when KUBECONFIG is set');
  });
} else {
  describeApiContract('a real cluster', {
    async start(options = {}) {
      const config = loadConfig({
        env: {
          JOB_SCHEDULER_RUNTIME: 'kubernetes',
          JOB_SCHEDULER_NAMESPACE: process.env.JOB_SCHEDULER_NAMESPACE ?? 'default',
          ...(options.maxRunning ? { JOB_SCHEDULER_MAX_RUNNING: String(options.maxRunning) } : {}),
        },
        componentYaml: JSON.stringify({ name: 'compute', image: 'busybox:1.36', command: ['sh', '-c', PROGRAM], payload: { path: '/var/job-payload' } }),
        componentPath: 'component.yaml',
        apiDocument,
        cpus: 2,
      });
      const logger = silentLogger();
      const kubernetes = kubernetesRuntimeFor(config, logger, defaultKubeConfig());
      const service = await startService({ config, logger, apiDocument, componentDir: root, hostEnv: {}, kubernetes, validateResponses: true });
      const server: Server = await new Promise((resolve) => {
        const listening = service.app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      const request = supertest.agent(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
      return {
        request,
        async close() {
          for (const batch of (await request.get('/api/v1/batches')).body ?? []) await request.delete(`/api/v1/batches/${batch.name}`);
          for (const job of (await request.get('/api/v1/jobs')).body ?? []) await request.delete(`/api/v1/jobs/${job.name}`);
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await service.close();
        },
      };
    },
    payload: (behaviour) => JSON.stringify({ exitCodes: [behaviour.exitCode], sleepSeconds: behaviour.seconds, allocateMiB: behaviour.allocateMiB }),
    play: async () => {},
    deadline: async () => {},
    afterStop: async () => {},
    timeoutMs: 120_000,
  });
}
