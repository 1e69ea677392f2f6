import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { makePooledApiClient, PooledAuthentication } from '../../src/runtimes/kubernetes/connections.js';

function kubeConfig(cluster: { server: string; caData?: string; skipTLSVerify?: boolean; proxyUrl?: string }, token = 'secret-token'): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', ...cluster }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return config;
}

async function authenticate(auth: PooledAuthentication): Promise<RequestContext> {
  const context = new RequestContext('https://cluster.example:6443/api/v1/namespaces/default/pods', HttpMethod.GET);
  await auth.applySecurityAuthentication(context);
  return context;
}

const caA = Buffer.from('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n').toString('base64');
const caB = Buffer.from('-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n').toString('base64');

describe('pooled connections to the API server', () => {
  let auth: PooledAuthentication | undefined;
  afterEach(() => auth?.close());

  it('when requests are authenticated, they share one keep-alive agent with the cluster CA and still carry the token', async () => {
    auth = new PooledAuthentication(kubeConfig({ server: 'https://cluster.example:6443', caData: caA }));
    const first = await authenticate(auth);
    const second = await authenticate(auth);
    const agent = first.getAgent() as https.Agent & { options: { keepAlive?: boolean; ca?: Buffer } };
    assert.ok(agent instanceof https.Agent);
    assert.equal(second.getAgent(), agent);
    assert.equal(agent.options.keepAlive, true);
    assert.equal(String(agent.options.ca), Buffer.from(caA, 'base64').toString());
    assert.equal(second.getHeaders().Authorization, 'Bearer secret-token');
  });

  it('when the TLS settings change, a new agent replaces the old one once the credentials are read again', async () => {
    const config = kubeConfig({ server: 'https://cluster.example:6443', caData: caA });
    let now = 0;
    auth = new PooledAuthentication(config, undefined, { reuseMs: 1000, now: () => now });
    const before = (await authenticate(auth)).getAgent();
    config.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://cluster.example:6443', caData: caB }],
      users: [{ name: 'u', token: 'secret-token' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    now = 1000;
    const after = (await authenticate(auth)).getAgent() as https.Agent & { options: { ca?: Buffer } };
    assert.notEqual(after, before);
    assert.equal(String(after.options.ca), Buffer.from(caB, 'base64').toString());
    assert.equal((await authenticate(auth)).getAgent(), after);
  });

  it('when requests follow within the reuse window, the kubeconfig is read once and its token reused; after it, read again', async () => {
    const config = kubeConfig({ server: 'https://cluster.example:6443', caData: caA }, 'token-1');
    let now = 0;
    auth = new PooledAuthentication(config, undefined, { reuseMs: 1000, now: () => now });
    assert.equal((await authenticate(auth)).getHeaders().Authorization, 'Bearer token-1');
    config.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://cluster.example:6443', caData: caA }],
      users: [{ name: 'u', token: 'token-2' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    now = 999;
    const reused = await authenticate(auth);
    assert.equal(reused.getHeaders().Authorization, 'Bearer token-1');
    assert.ok(reused.getAgent() instanceof https.Agent);
    now = 1000;
    assert.equal((await authenticate(auth)).getHeaders().Authorization, 'Bearer token-2');
  });

  it('when the cluster is plain HTTP (skipTLSVerify), the pooled agent is an http one', async () => {
    auth = new PooledAuthentication(kubeConfig({ server: 'http://127.0.0.1:8001', skipTLSVerify: true }));
    const agent = (await authenticate(auth)).getAgent();
    assert.ok(agent instanceof http.Agent && !(agent instanceof https.Agent));
    assert.equal((await authenticate(auth)).getAgent(), agent);
  });

  it('when the cluster is reached through a proxy, the proxy agent is left as the kubeconfig made it', async () => {
    auth = new PooledAuthentication(kubeConfig({ server: 'https://cluster.example:6443', proxyUrl: 'http://proxy.example:3128' }));
    const agent = (await authenticate(auth)).getAgent();
    assert.ok(agent && agent.constructor !== https.Agent && agent.constructor !== http.Agent, `got ${agent?.constructor.name}`);
  });

  describe('over TLS, as to a real API server', () => {
    let dir: string;
    let server: https.Server;
    let handshakes = 0;
    const seenTokens: string[] = [];
    /** A self-signed certificate for 127.0.0.1, made with openssl. */
    const certificate = (name: string) => {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.crt`)], { stdio: 'ignore' });
      return { key: readFileSync(path.join(dir, `${name}.key`)), cert: readFileSync(path.join(dir, `${name}.crt`)) };
    };
    let serverCert: { key: Buffer; cert: Buffer };
    let otherCert: { key: Buffer; cert: Buffer };

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-tls-'));
      serverCert = certificate('apiserver');
      otherCert = certificate('other');
      server = https.createServer(serverCert, (req, res) => {
        seenTokens.push(req.headers.authorization ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] }));
      });
      server.on('secureConnection', () => handshakes++);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    });

    const clientTrusting = (ca: Buffer) => {
      const config = kubeConfig({ server: `https://127.0.0.1:${(server.address() as { port: number }).port}`, caData: ca.toString('base64') });
      auth = new PooledAuthentication(config);
      return makePooledApiClient(config, auth, CoreV1Api);
    };

    it('when 20 requests are made, they share one TLS connection and each carries the token', async () => {
      const core = clientTrusting(serverCert.cert);
      handshakes = 0;
      seenTokens.length = 0;
      for (let i = 0; i < 20; i++) await core.listNamespacedConfigMap({ namespace: 'apps' });
      assert.equal(handshakes, 1);
      assert.deepEqual(new Set(seenTokens), new Set(['Bearer secret-token']));
      assert.equal(seenTokens.length, 20);
    });

    it("when the server's certificate is not signed by the cluster CA, the request is refused", async () => {
      const core = clientTrusting(otherCert.cert);
      await assert.rejects(core.listNamespacedConfigMap({ namespace: 'apps' }), /self-signed certificate|certificate/);
    });
  });
});
