import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { PooledAuthentication } from '../../src/runtimes/kubernetes/connections.js';
import { DirectCreate } from '../../src/runtimes/kubernetes/direct-create.js';
import { isQuotaExceeded, retriable, retryAfterMs } from '../../src/runtimes/kubernetes/retry.js';

/** A server on loopback that answers each request as `answer` says, and keeps what it was sent. */
async function startServer(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; received: Array<{ path: string; body: string; auth?: string }>; server: Server }> {
  const received: Array<{ path: string; body: string; auth?: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ path: req.url ?? '', body, auth: req.headers.authorization });
      answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received, server };
}

function directCreate(url: string): { create: DirectCreate; close(): void } {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'the-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  const authentication = new PooledAuthentication(kubeConfig);
  return { create: new DirectCreate({ kubeConfig, authentication }), close: () => authentication.close() };
}

describe('creating objects from serialised bodies', () => {
  let server: Server | undefined;
  let client: { create: DirectCreate; close(): void } | undefined;

  afterEach(async () => {
    client?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('when the server answers 201, the body went as sent, with the credentials, and the create resolves', async () => {
    const started = await startServer((_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"kind":"Job"}'));
    server = started.server;
    client = directCreate(started.url);
    await client.create.create('/apis/batch/v1/namespaces/apps/jobs', '{"metadata":{"name":"ü"}}');
    assert.deepEqual(started.received, [{ path: '/apis/batch/v1/namespaces/apps/jobs', body: '{"metadata":{"name":"ü"}}', auth: 'Bearer the-token' }]);
  });

  it('when the server refuses, the error carries its code, text and headers as the generated client\'s does', async () => {
    const started = await startServer((_req, res) => res.writeHead(403, { 'content-type': 'application/json', 'retry-after': '3' }).end('{"kind":"Status","message":"jobs \\"x\\" is forbidden: exceeded quota: q"}'));
    server = started.server;
    client = directCreate(started.url);
    const error = await client.create.create('/api/v1/namespaces/apps/secrets', '{}').then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ApiException);
    assert.equal(error.code, 403);
    assert.ok(isQuotaExceeded(error), 'read as an exceeded quota');
    assert.ok(retriable(error));
    assert.equal(retryAfterMs(error), 3000);
  });

  it('when the connection drops in the middle of the answer, the create fails as a lost answer instead of hanging', async () => {
    const started = await startServer((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"kind":"Jo');
      setImmediate(() => res.socket?.destroy());
    });
    server = started.server;
    client = directCreate(started.url);
    const error = await client.create.create('/apis/batch/v1/namespaces/apps/jobs', '{}').then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof Error && !(error instanceof ApiException), `got ${String(error)}`);
    assert.ok(retriable(error), 'a lost answer is retried (the retry answers 409 if the create landed)');
  });
});
