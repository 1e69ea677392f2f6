import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PermanentRefusal, post } from '../../src/notifications/delivery.js';

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` })));
}

describe('webhook delivery and redirects', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((server) => server.close()));

  it('when the receiver answers with a redirect, the signed event is not carried to the other address, and the refusal is permanent', async () => {
    let elsewhere = 0;
    const other = await listen((_req, res) => {
      elsewhere++;
      res.end();
    });
    const receiver = await listen((_req, res) => {
      res.writeHead(307, { location: other.url }).end();
    });
    servers.push(other.server, receiver.server);
    const sent = post({ url: receiver.url, secret: 's3cret', timeoutMs: 5000 }, 'event-1', '{"event":"Create"}', { signal: new AbortController().signal, now: Date.now() });
    await assert.rejects(sent, (error) => error instanceof PermanentRefusal && error.status === 307);
    assert.equal(elsewhere, 0);
  });
});
