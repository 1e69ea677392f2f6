import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { startTestService, type TestService } from '../component/harness.js';
import { sizes } from './sizes.js';

interface Answer {
  status: number;
  body: string;
}

function send(port: number, agent: Agent, method: string, path: string, headers: Record<string, string>, body: string | Buffer | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes raw bytes to the server and reads until it closes the connection. */
function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

const names = fc.oneof(
  fc.constantFrom('../etc/passwd', '..%2F..%2Fetc', 'a/b', '%00', 'batch-compute-20260101000000-aaaaaaaa-bbbbbbbb', encodeURIComponent('Ωmega'), '-x-', 'x'.repeat(300), '.', '%2e%2e'),
  fc.string({ maxLength: 80 }).map(encodeURIComponent),
  fc.stringMatching(/^[a-z0-9-]{1,70}$/),
);
const paths = fc.oneof(
  fc.constantFrom('/api/v1/jobs', '/api/v1/batches', '/api/v1/jobs/stop', '/api/v1/batches/stop', '/api', '/api/v1', '/api/v2/jobs', '/', '/healthz'),
  names.map((name) => `/api/v1/jobs/${name}`),
  names.map((name) => `/api/v1/jobs/${name}/stop`),
  names.map((name) => `/api/v1/batches/${name}`),
  fc.tuple(names, names).map(([a, b]) => `/api/v1/batches/${a}/jobs/${b}`),
  fc.tuple(names, names).map(([a, b]) => `/api/v1/batches/${a}/jobs/${b}/stop`),
  fc.string({ maxLength: 60 }).map((s) => `/api/v1/jobs?${encodeURIComponent(s)}=1`),
);
const fieldValues = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }));
const fields = fc.constantFrom('payload', 'jobId', 'timeLimitSeconds', 'backoffLimit', 'failurePolicy', 'resources', 'node', 'runtime', 'image', 'imageTagName', 'variables', 'command', 'args', 'unknownField', '__proto__', 'constructor');
const description = fc.dictionary(fields, fieldValues, { maxKeys: 4 });
const bodies = fc.oneof(
  { weight: 3, arbitrary: description.map((d) => JSON.stringify(d)) },
  { weight: 3, arbitrary: fc.array(description, { maxLength: 4 }).map((jobs) => JSON.stringify({ jobScheduleDescriptions: jobs })) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('{', '{"payload":', '[1,2', '{"a":1}}', 'null', '""', '\u0000', '{"payload": "\\ud800"}') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => JSON.stringify({ payload: s, jobId: s })) },
  { weight: 1, arbitrary: fc.integer({ min: 1024 * 1024 - 4, max: 1024 * 1024 + 64 }).map((n) => JSON.stringify({ payload: 'é'.repeat(Math.floor(n / 2)) })) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  // What the trust model and the bounds refuse: overrides, loader variables, unsafe keys, NULs, bytes that are not UTF-8.
  { weight: 1, arbitrary: fc.constantFrom('{"command":["/bin/sh","-c","id"]}', '{"variables":{"LD_PRELOAD":"/x.so"}}', '{"variables":{"__proto__":"x"}}', '{"jobId":"a\\u0000b"}', '{"jobScheduleDescriptions":[{"args":["x"]}],"defaultRadixJobComponentConfig":{"image":"x"}}') },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"payload":"'), Buffer.from(bytes), Buffer.from('"}')])) },
);
const contentTypes = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml', '', 'application/merge-patch+json');
const methods = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');

describe('reliability: bad input', function () {
  this.timeout(sizes.testTimeoutMs);
  let t: TestService;
  afterEach(async () => t?.close());

  it(`when ${sizes.badInputs} generated requests arrive, none gets a 5xx, every error is a Status with its code, and the service stays up`, async () => {
    t = await startTestService({ component: { command: ['/bin/true'] }, env: { JOB_SCHEDULER_MAX_RUNNING: '2', JOB_SCHEDULER_MAX_REQUEST_BYTES: String(3 * 1024 * 1024) } });
    const port = Number(new URL(t.request.get('/').url).port);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const oversized = JSON.stringify({ jobScheduleDescriptions: [{ payload: 'x'.repeat(3 * 1024 * 1024) }] });
    try {
      const tooLarge = await send(port, agent, 'POST', '/api/v1/batches', { 'content-type': 'application/json' }, oversized);
      assert.equal(tooLarge.status, 413);
      // Not even HTTP: Node's parser refuses it, and the answer is still a Status body.
      const garbage = await rawExchange(port, 'DELETE /api/v1/jobs/x HTTP/1.1\r\nHost: x\r\n\r\n{"payload": 1}\r\n\r\n');
      assert.match(garbage, /HTTP\/1\.1 400 Bad Request[\s\S]*"status":"Failure"/);
      await fc.assert(
        fc.asyncProperty(methods, paths, contentTypes, bodies, async (method, path, contentType, body) => {
          const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
          const sent = method === 'GET' || method === 'HEAD' ? undefined : body;
          if (sent !== undefined) headers['content-length'] = String(Buffer.byteLength(sent));
          const answer = await send(port, agent, method, path, headers, sent);
          assert.ok(answer.status < 500, `${method} ${path} (${contentType}) → ${answer.status} ${answer.body.slice(0, 200)}`);
          if (answer.status >= 400 && method !== 'HEAD') {
            const status = JSON.parse(answer.body) as { status: string; code: number; message: string; reason: string };
            assert.equal(status.status, 'Failure');
            assert.equal(status.code, answer.status);
            assert.equal(typeof status.message, 'string');
            assert.equal(typeof status.reason, 'string');
          }
        }),
        { numRuns: sizes.badInputs },
      );
      assert.equal((await send(port, agent, 'GET', '/healthz', {}, undefined)).status, 200);
      assert.equal((await send(port, agent, 'GET', '/api/v1/jobs', {}, undefined)).status, 200);
    } finally {
      agent.destroy();
    }
  });
});
