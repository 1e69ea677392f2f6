import { describeApiContract } from '../contract/api-contract.js';
import { startTestService } from './harness.js';

describeApiContract('the local runtime', {
  start: () => startTestService(),
  afterStop: async () => {},
  timeoutMs: 20_000,
});
