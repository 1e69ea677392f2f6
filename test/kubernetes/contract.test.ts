import { describeApiContract } from '../contract/api-contract.js';
import type { FakeApiServer } from './fake/server.js';
import { startFakeApiServer, startKubeTestService } from './harness.js';
import { JobControllerPlayer } from './job-controller.js';

const TIMEOUT_MS = 10_000;
let fake: FakeApiServer;
let cluster: JobControllerPlayer;

describeApiContract('the Kubernetes runtime (fake API server)', {
  async start(options = {}) {
    fake = await startFakeApiServer();
    cluster = new JobControllerPlayer(fake, TIMEOUT_MS);
    const service = await startKubeTestService(fake, options.maxRunning ? { env: { JOB_SCHEDULER_MAX_RUNNING: String(options.maxRunning) } } : {});
    return {
      request: service.request,
      async close() {
        await service.close();
        await fake.close();
      },
    };
  },
  /** The payload is only mounted: the player below does what the program would. */
  payload: (behaviour) => JSON.stringify(behaviour),
  play: (jobName, behaviour) => cluster.play(jobName, behaviour),
  deadline: (jobName) => cluster.deadline(jobName),
  afterStop: (jobName) => cluster.afterStop(jobName),
  timeoutMs: TIMEOUT_MS,
});
