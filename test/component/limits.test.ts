import assert from 'node:assert/strict';
import { startTestService, type TestService, waitForJobEnd } from './harness.js';
import { ProcessServiceFixture } from './process-service.js';
import { rawRequest } from './raw-http.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function portOf(t: TestService): number {
  return Number(new URL(t.request.get('/').url).port);
}

function jobs(count: number, job: object = {}) {
  return { jobScheduleDescriptions: Array.from({ length: count }, () => job) };
}

describe('bounds on the work one request can cause', function () {
  let t: TestService;
  afterEach(async () => t?.close());

  it('when a batch holds more jobs than JOB_SCHEDULER_MAX_BATCH_JOBS, answers 413 naming the setting and records nothing', async () => {
    t = await startTestService({ component: { command: ['/bin/true'] }, env: { JOB_SCHEDULER_MAX_BATCH_JOBS: '20' } });
    const refused = await t.request.post('/api/v1/batches').send(jobs(21)).expect(413);
    assert.equal(refused.body.reason, 'RequestEntityTooLarge');
    assert.match(refused.body.message, /jobScheduleDescriptions holds 21 jobs; at most 20 .*JOB_SCHEDULER_MAX_BATCH_JOBS/);
    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
    await t.request.post('/api/v1/batches').send(jobs(20)).expect(200);
  });

  it('when a million empty jobs are posted (3 MB), the jobs-per-batch bound refuses them and the service keeps answering', async () => {
    t = await startTestService({ component: { command: ['/bin/true'] } });
    const body = `{"jobScheduleDescriptions":[${'{},'.repeat(999_999)}{}]}`;
    const refused = await t.request.post('/api/v1/batches').set('content-type', 'application/json').send(body).expect(413);
    assert.match(refused.body.message, /holds 1000000 jobs; at most 10000 .*JOB_SCHEDULER_MAX_BATCH_JOBS/);
    await t.request.get('/healthz').expect(200);
    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
  });

  it('when accepting would go over JOB_SCHEDULER_MAX_TRACKED_JOBS, answers 429 with Retry-After until finished batches are deleted', async () => {
    t = await startTestService({ component: { command: ['/bin/true'] }, env: { JOB_SCHEDULER_MAX_TRACKED_JOBS: '5', JOB_SCHEDULER_MAX_BATCH_JOBS: '5' } });
    const first = await t.request.post('/api/v1/batches').send(jobs(3)).expect(200);
    await t.request.post('/api/v1/jobs').send({}).expect(200);
    const refused = await t.request.post('/api/v1/batches').send(jobs(2)).expect(429);
    assert.equal(refused.body.reason, 'TooManyRequests');
    assert.equal(refused.body.code, 429);
    assert.match(refused.body.message, /tracks 4 jobs .* adds 2; at most 5 .*JOB_SCHEDULER_MAX_TRACKED_JOBS.*delete finished batches/);
    assert.match(refused.headers['retry-after'] ?? '', /^[1-9]\d*$/);
    await t.request.post('/api/v1/jobs').send({}).expect(200);
    await t.request.post('/api/v1/jobs').send({}).expect(429);
    await t.request.delete(`/api/v1/batches/${first.body.name}`).expect(200);
    await t.request.post('/api/v1/batches').send(jobs(3)).expect(200);
  });

  it('when a variable is over 128 KiB as NAME=value, answers 413 naming it and the setting; one at the limit runs', async () => {
    t = await startTestService();
    const atLimit = 'x'.repeat(128 * KiB - 'BIG='.length - 1);
    const refused = await t.request.post('/api/v1/jobs').send({ variables: { BIG: `${atLimit}x` } }).expect(413);
    assert.deepEqual(refused.body.details.fields.map((f: { path: string }) => f.path), ['variables.BIG']);
    assert.match(refused.body.message, /131073 bytes .* at most 131072 .*JOB_SCHEDULER_MAX_VARIABLE_BYTES/);
    const batch = await t.request.post('/api/v1/batches')
      .send({ defaultRadixJobComponentConfig: { variables: { BIG: `${atLimit}x` } }, jobScheduleDescriptions: [{}] }).expect(413);
    assert.equal(batch.body.details.fields[0].path, 'defaultRadixJobComponentConfig.variables.BIG');
    const accepted = await t.request.post('/api/v1/jobs').send({ variables: { BIG: atLimit } }).expect(200);
    assert.equal((await waitForJobEnd(t.request, accepted.body.name)).status, 'Succeeded');
  });

  it('when a job would get more variables than JOB_SCHEDULER_MAX_VARIABLES, counting those it inherits, answers 413', async () => {
    t = await startTestService({ component: { variables: { FROM_COMPONENT: 'c' } }, env: { JOB_SCHEDULER_MAX_VARIABLES: '3' } });
    await t.request.post('/api/v1/jobs').send({ variables: { A: '1', FROM_COMPONENT: 'job' } }).expect(200);
    const refused = await t.request.post('/api/v1/batches')
      .send({ defaultRadixJobComponentConfig: { variables: { A: '1' } }, jobScheduleDescriptions: [{}, { variables: { B: '2', C: '3' } }] }).expect(413);
    assert.equal(refused.body.details.fields[0].path, 'jobScheduleDescriptions[1].variables');
    assert.match(refused.body.message, /4 variables .* at most 3 .*JOB_SCHEDULER_MAX_VARIABLES/);
  });

  it('when command, args and variables together are over JOB_SCHEDULER_MAX_EXEC_BYTES, answers 413', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_EXEC_BYTES: '4096' } });
    const variables = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`V${i}`, 'v'.repeat(1000)]));
    const refused = await t.request.post('/api/v1/jobs').send({ variables }).expect(413);
    assert.match(refused.body.message, /bytes of command, args and variables .* at most 4096 .*JOB_SCHEDULER_MAX_EXEC_BYTES/);
  });
});

describe('request bodies: sizes and time', function () {
  let t: TestService;
  afterEach(async () => t?.close());

  it('when a body declares 2^53 bytes and sends two, answers 413 at once without waiting for the rest', async () => {
    t = await startTestService();
    const answer = await rawRequest(portOf(t), {
      head: `POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 ** 53}`,
      body: '{}',
    });
    assert.equal(answer.status, 413);
    assert.equal(answer.json?.reason, 'RequestEntityTooLarge');
    assert.match(String(answer.json?.message), /JOB_SCHEDULER_MAX_REQUEST_BYTES/);
    assert.equal(answer.headers.connection, 'close');
    assert.deepEqual((await t.request.get('/api/v1/jobs').expect(200)).body, []);
  });

  it('when a chunked body runs over the limit, answers 413 as soon as it does, without waiting for its end', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_REQUEST_BYTES: String(2 * MiB) } });
    const chunk = Buffer.alloc(2 * MiB + 1, 'x');
    const answer = await rawRequest(portOf(t), {
      head: 'POST /api/v1/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked',
      body: Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]),
    });
    assert.equal(answer.status, 413);
    assert.match(String(answer.json?.message), /more than 2097152 bytes/);
    await t.request.get('/healthz').expect(200);
  });
});

describe('request timeouts of the real service', function () {
  let fixture: ProcessServiceFixture;
  afterEach(() => fixture.cleanUp());

  it('when a client sends part of a body and stalls, or never ends its headers, it gets 408 after JOB_SCHEDULER_REQUEST_TIMEOUT_SECONDS', async () => {
    fixture = new ProcessServiceFixture('timeout', { name: 'compute', command: ['/bin/true'] });
    const { port } = await fixture.start({ JOB_SCHEDULER_REQUEST_TIMEOUT_SECONDS: '1' });
    const body = await rawRequest(port, { head: 'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100', body: '{"' });
    assert.equal(body.status, 408);
    assert.equal(body.json?.reason, 'Timeout');
    assert.match(String(body.json?.message), /JOB_SCHEDULER_REQUEST_TIMEOUT_SECONDS/);
    // The head is written without the blank line that would end it: the headers never end.
    const headers = await rawRequest(port, { head: 'GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nX-Slow: 1', endHead: false });
    assert.equal(headers.status, 408);
  });
});
