import { describeApiContract } from '../contract/api-contract.js';
import { startTestService } from './harness.js';

describeApiContract('the local runtime', {
  start: (options = {}) => startTestService(options.maxRunning ? { env: { JOB_SCHEDULER_MAX_RUNNING: String(options.maxRunning) } } : {}),
  /** The fixture job (test/fixtures/job.mjs) reads what to do from its payload. */
  payload: (behaviour) => JSON.stringify({ exitCodes: [behaviour.exitCode], sleepSeconds: behaviour.seconds, allocateMiB: behaviour.allocateMiB }),
  play: async () => {},
  deadline: async () => {},
  afterStop: async () => {},
  timeoutMs: 20_000,
});
