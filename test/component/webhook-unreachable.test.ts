import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { aJob, startTestService, type TestService, waitFor } from './harness.js';

/** A port this test opened and closed again: nothing of ours listens there, so a connection is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('a dead webhook receiver', function () {
  let t: TestService | undefined;
  afterEach(async () => t?.close());

  it('when the receiver cannot be reached, the log line names its host and the cause, never its path', async () => {
    const port = await closedPort();
    t = await startTestService({
      captureLogs: true,
      logLevel: 'info',
      component: { notifications: { webhook: `http://127.0.0.1:${port}/hook/secret-path` } },
      env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '60' },
    });
    await t.request.post('/api/v1/jobs').send(aJob({})).expect(200);
    const line = await waitFor(
      async () => t!.logs.map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry.message === 'webhook delivery failing; retrying'),
      (found) => found !== undefined,
    );
    assert.equal(line!.host, `127.0.0.1:${port}`);
    assert.equal(line!.error, `the receiver could not be reached (127.0.0.1:${port}: ECONNREFUSED)`);
    assert.doesNotMatch(JSON.stringify(line), /secret-path/);
  });
});
