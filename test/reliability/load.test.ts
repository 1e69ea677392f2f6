import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { startTestService, type TestService } from '../component/harness.js';
import { sizes } from './sizes.js';

function call(port: number, agent: Agent, method: string, path: string, body?: object): Promise<{ status: number; json: unknown }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = text === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
    });
    req.on('error', reject);
    // A request the service never answers is the fault this test is for: it fails naming it, rather than hang.
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} was not answered within 60 s`)));
    req.end(text);
  });
}

describe('reliability: load', function () {
  this.timeout(sizes.testTimeoutMs);
  let t: TestService;
  afterEach(async () => t?.close());

  it(`when ${sizes.loadClients} clients create, read, list, stop and delete for ${sizes.loadSeconds} s, nothing answers 5xx and no job is lost`, async () => {
    t = await startTestService({ component: { command: ['/bin/sleep', '0.05'] }, env: { JOB_SCHEDULER_MAX_RUNNING: '2' } });
    const port = Number(new URL(t.request.get('/').url).port);
    const agent = new Agent({ keepAlive: true, maxSockets: sizes.loadClients });
    const kept = new Set<string>();
    const deleted = new Set<string>();
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const until = Date.now() + sizes.loadSeconds * 1000;
    const client = async (id: number) => {
      for (let i = 0; Date.now() < until; i++) {
        const created = await call(port, agent, 'POST', '/api/v1/jobs', { jobId: `c${id}-${i}`, payload: 'x'.repeat(256) });
        count(created.status);
        if (created.status !== 200) continue;
        const name = (created.json as { name: string }).name;
        kept.add(name);
        count((await call(port, agent, 'GET', `/api/v1/jobs/${name}`)).status);
        if (i % 10 === 0) count((await call(port, agent, 'GET', '/api/v1/batches')).status);
        if (i % 25 === 0) count((await call(port, agent, 'GET', '/api/v1/jobs')).status);
        if (i % 3 === 0) {
          const stop = await call(port, agent, 'POST', `/api/v1/jobs/${name}/stop`);
          count(stop.status);
          assert.ok([200, 400].includes(stop.status), `stop → ${stop.status}`);
        }
        if (i % 4 === 0) {
          const gone = await call(port, agent, 'DELETE', `/api/v1/jobs/${name}`);
          count(gone.status);
          assert.equal(gone.status, 200);
          kept.delete(name);
          deleted.add(name);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: sizes.loadClients }, (_, id) => client(id)));
      assert.deepEqual([...statuses.keys()].filter((status) => status >= 500), [], JSON.stringify(Object.fromEntries(statuses)));
      assert.ok(kept.size > 0);
      const listed = new Set(((await call(port, agent, 'GET', '/api/v1/jobs')).json as Array<{ name: string }>).map((job) => job.name));
      for (const name of kept) assert.ok(listed.has(name), `${name} was created and not deleted, and is missing`);
      for (const name of deleted) assert.ok(!listed.has(name), `${name} was deleted and is still listed`);
    } finally {
      agent.destroy();
    }
  });
});
