import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { JobStatusView } from '../../src/core/view.js';
import { aJob, startTestService, type TestService, waitFor, waitForJobEnd } from './harness.js';

const TOKEN = 's3cr3t-token-for-tests';

/** Prometheus text format: comments, or `name{labels} value`. Returns the samples by series. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/i.exec(line);
    assert.ok(match, `not Prometheus text: ${line}`);
    samples.set(match[1]!, Number(match[3]));
  }
  return samples;
}

describe('operating the service', function () {
  let t: TestService;
  afterEach(async () => t?.close());

  it('when an API token is configured, /api needs it as a bearer token; probes, metrics and the API document stay open', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_API_TOKEN: TOKEN } });
    const missing = await t.request.get('/api/v1/jobs').expect(401);
    assert.deepEqual(missing.body, { status: 'Failure', message: 'a valid bearer token is required', code: 401, reason: 'Unauthorized' });
    await t.request.get('/api/v1/jobs').set('Authorization', `Bearer ${TOKEN}x`).expect(401);
    await t.request.get('/api/v1/jobs').set('Authorization', `Basic ${TOKEN}`).expect(401);
    await t.request.post('/api/v1/jobs').send({}).expect(401);
    await t.request.get('/api/v1/jobs').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    // The API document follows one rule wherever it is served: open, like the UI that shows it.
    const documented = (await t.request.get('/api/v1/openapi.json').expect(200)).body as object;
    assert.deepEqual((await t.request.get('/swaggerui/openapi.json').expect(200)).body, documented);
    await t.request.get('/api/v1/openapi.yaml').expect(200);
    await t.request.get('/healthz').expect(200);
    await t.request.get('/readyz').expect(200);
    await t.request.get('/metrics').expect(200);
  });

  it('when no token is configured, /api is open (as inside a Radix environment)', async () => {
    t = await startTestService();
    await t.request.get('/api/v1/jobs').expect(200);
  });

  it('when a request carries X-Request-Id, it is echoed and on every log line of that request; otherwise one is made', async () => {
    t = await startTestService({ captureLogs: true });
    const answered = await t.request.post('/api/v1/jobs').set('X-Request-Id', 'req-abc-123').send(aJob({})).expect(200);
    assert.equal(answered.headers['x-request-id'], 'req-abc-123');
    const lines = t.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.requestId === 'req-abc-123');
    assert.ok(lines.some((line) => line.message === 'batch accepted'), 'the scheduler line carries the id');
    assert.ok(lines.some((line) => line.message === 'request' && line.status === 200 && line.method === 'POST' && line.path === '/api/v1/jobs'), 'one access line, with the whole path');
    const generated = await t.request.get('/api/v1/jobs').expect(200);
    assert.match(generated.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
    const odd = await t.request.get('/api/v1/jobs').set('X-Request-Id', 'a b\tc').expect(200);
    assert.notEqual(odd.headers['x-request-id'], 'a b\tc');
  });

  it('when the logger is at the default level (info), each request has an access line and each ended job an outcome line', async () => {
    t = await startTestService({ captureLogs: true, logLevel: 'info' });
    const job = await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [1, 1] }, { backoffLimit: 1 })).expect(200);
    await waitForJobEnd(t.request, job.body.name);
    const lines = t.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(lines.some((line) => line.message === 'request' && line.method === 'POST' && line.status === 200 && line.level === 'info'), 'an access line');
    const ended = lines.filter((line) => line.message === 'job ended');
    assert.equal(ended.length, 1, 'one outcome line');
    assert.equal(ended[0]!.level, 'info');
    assert.equal(ended[0]!.job, job.body.name);
    assert.match(String(ended[0]!.batch), /^batch-compute-/);
    assert.equal(ended[0]!.status, 'Failed');
    assert.equal(ended[0]!.reason, 'BackoffLimitExceeded');
    assert.equal(ended[0]!.attempts, 2);
    assert.equal(typeof ended[0]!.durationSeconds, 'number');
  });

  it('when a full scenario runs, no log line holds a payload or the token', async () => {
    t = await startTestService({ captureLogs: true, env: { JOB_SCHEDULER_API_TOKEN: TOKEN } });
    const secret = 'PAYLOAD-MARKER-7f3a9c';
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const job = await t.request.post('/api/v1/jobs').set(auth).send(aJob({ exitCodes: [1, 0], marker: secret }, { backoffLimit: 1, variables: { SECRET_VALUE: secret } })).expect(200);
    await waitFor(async () => (await t.request.get(`/api/v1/jobs/${job.body.name}`).set(auth)).body as JobStatusView, (j) => j.status === 'Succeeded');
    const batch = await t.request.post('/api/v1/batches').set(auth).send({ jobScheduleDescriptions: [{ payload: secret }, { payload: `${secret}-2` }] }).expect(200);
    await t.request.post(`/api/v1/batches/${batch.body.name}/stop`).set(auth).expect(200);
    await t.request.post('/api/v1/jobs').set(auth).send({ payload: secret, backoffLimit: 'bad' }).expect(400);
    await t.request.post('/api/v1/jobs').set('Authorization', `Bearer ${secret}`).send({}).expect(401);
    await t.request.delete(`/api/v1/batches/${batch.body.name}`).set(auth).expect(200);
    assert.ok(t.logs.length > 5);
    for (const line of t.logs) {
      assert.ok(!line.includes(secret), `a log line holds the payload: ${line}`);
      assert.ok(!line.includes(TOKEN), `a log line holds the token: ${line}`);
    }
  });

  it('when probed, /healthz answers alive and /readyz ready once the store is open and the runtime synced', async () => {
    t = await startTestService();
    assert.deepEqual((await t.request.get('/healthz').expect(200)).body, { status: 'ok' });
    assert.deepEqual((await t.request.get('/readyz').expect(200)).body, { status: 'ready' });
    await t.service.scheduler.close();
    await t.request.get('/readyz').expect(503);
  });

  it('when /metrics is scraped, it parses as Prometheus text and its counters move with the requests', async () => {
    t = await startTestService();
    const before = parsePrometheus((await t.request.get('/metrics').expect(200)).text);
    const job = await t.request.post('/api/v1/jobs').send(aJob({})).expect(200);
    await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: '{}' }, { payload: '{}' }] }).expect(200);
    await waitForJobEnd(t.request, job.body.name);
    await t.request.get('/api/v1/jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb').expect(404);
    const after = parsePrometheus((await t.request.get('/metrics').expect(200)).text);
    const delta = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
    assert.equal(delta('job_scheduler_submissions_total{type="job"}'), 1);
    assert.equal(delta('job_scheduler_submissions_total{type="batch"}'), 1);
    assert.equal(delta('job_scheduler_submitted_jobs_total{type="batch"}'), 2);
    assert.equal(delta('job_scheduler_http_request_duration_seconds_count{method="POST",route="/api/v1/jobs",code="200"}'), 1);
    assert.equal(delta('job_scheduler_http_request_duration_seconds_count{method="GET",route="/api/v1/jobs/{jobName}",code="404"}'), 1);
    assert.ok((after.get('job_scheduler_job_duration_seconds_count{status="Succeeded"}') ?? 0) >= 1);
    const known = [...after.entries()].filter(([series]) => series.startsWith('job_scheduler_jobs{')).reduce((sum, [, value]) => sum + value, 0);
    assert.equal(known, 3);
  });

  it('when the API document is asked for, it is served as YAML and JSON, and Swagger UI shows it unless switched off', async () => {
    t = await startTestService();
    const yaml = parseYaml((await t.request.get('/api/v1/openapi.yaml').expect(200)).text) as { openapi: string; paths: object };
    assert.equal(yaml.openapi, '3.0.3');
    const json = (await t.request.get('/api/v1/openapi.json').expect(200)).body as { paths: object };
    assert.deepEqual(Object.keys(json.paths), Object.keys(yaml.paths));
    assert.match((await t.request.get('/swaggerui/').expect(200)).text, /swagger-ui-bundle\.js/);
    await t.request.get('/swaggerui/swagger-ui-bundle.js').expect(200);
    await t.request.get('/swaggerui/openapi.json').expect(200);
    await t.close();
    t = await startTestService({ env: { JOB_SCHEDULER_SWAGGER_UI: 'false' } });
    await t.request.get('/swaggerui/').expect(404);
  });

  it('when batchStatusRules are configured, they decide the batch status over the default', async () => {
    t = await startTestService({
      component: { batchStatusRules: [{ condition: 'Any', operator: 'In', jobStatuses: ['Failed'], batchStatus: 'Succeeded' }, { condition: 'All', operator: 'In', jobStatuses: ['Waiting', 'Stopped'], batchStatus: 'Stopped' }] },
    });
    const mixed = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: JSON.stringify({ exitCodes: [1] }) }, { payload: '{}' }] }).expect(200);
    const ended = await waitFor(async () => (await t.request.get(`/api/v1/batches/${mixed.body.name}`)).body, (b) => b.jobStatuses.every((j: JobStatusView) => ['Succeeded', 'Failed'].includes(j.status)));
    assert.deepEqual(ended.jobStatuses.map((j: JobStatusView) => j.status).sort(), ['Failed', 'Succeeded']);
    assert.equal(ended.status, 'Succeeded', 'the first rule (Any Failed → Succeeded) wins over the default Failed');
  });
});

describe('history cleanup', function () {
  let t: TestService;
  afterEach(async () => t?.close());

  it('when finished jobs pass the age, all but the newest of each kind are deleted with their files', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_RUNNING: '1', JOB_SCHEDULER_HISTORY_MAX_AGE_SECONDS: '0', JOB_SCHEDULER_HISTORY_KEEP: '1', JOB_SCHEDULER_HISTORY_CHECK_SECONDS: '0.1' } });
    const post = async (exitCodes: number[]) => (await t.request.post('/api/v1/jobs').send(aJob({ exitCodes })).expect(200)).body.name as string;
    const names = [await post([0]), await post([1]), await post([0]), await post([1]), await post([0])];
    const batch = (await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: '{}' }] }).expect(200)).body.name as string;
    const left = await waitFor(async () => ((await t.request.get('/api/v1/jobs').expect(200)).body as JobStatusView[]).map((job) => job.name), (jobs) => jobs.length === 2, 30_000);
    assert.deepEqual(left.sort(), [names[3], names[4]].sort(), 'the newest succeeded and the newest failed single job stay');
    await t.request.get(`/api/v1/batches/${batch}`).expect(200);
    for (const name of [names[0], names[1], names[2]]) {
      await t.request.get(`/api/v1/jobs/${name}`).expect(404);
      assert.equal(existsSync(path.join(t.dataDir, 'jobs', name!)), false, `${name}'s files are gone`);
    }
  });
});
