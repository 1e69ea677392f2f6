import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { aJob, jobOutput, startTestService, TERMINAL, type TestService, waitFor } from './harness.js';

const NDJSON = 'application/x-ndjson';
const lines = (...values: unknown[]) => values.map((value) => JSON.stringify(value)).join('\n');
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('batches streamed as application/x-ndjson', function () {
  let t: TestService;
  afterEach(async () => t.close());

  it('when the batch fields come first and one job per line after, answers the batch without jobStatuses, and every job runs with its own id, payload and the defaults', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_BATCH_JOBS: '3' } });
    const jobs = [aJob({}, { jobId: 'a' }), aJob({ note: 'é ✓' }, { jobId: 'b', variables: { OWN: '1' } }), aJob({}, { jobId: 'c' })];
    // CRLF line ends and a blank line are taken as they come from many tools.
    const body = `${lines({ batchId: 'streamed', labels: { team: 'vision' }, defaultRadixJobComponentConfig: { variables: { SHARED: 'yes' } } }, ...jobs).replace(/\n/g, '\r\n')}\n\n`;
    const created = await t.request.post('/api/v1/batches').set('content-type', NDJSON).send(body).expect(200);
    assert.equal(created.body.batchId, 'streamed');
    assert.deepEqual(created.body.labels, { team: 'vision' }, 'the first line takes every field of a batch description');
    assert.equal(created.body.batchType, 'batch');
    assert.equal(created.body.jobStatuses, undefined);
    const ended = await waitFor(() => t.request.get(`/api/v1/batches/${created.body.name}`), (r) => TERMINAL.includes(r.body.status));
    assert.equal(ended.body.status, 'Succeeded');
    assert.deepEqual(ended.body.jobStatuses.map((job: { jobId: string }) => job.jobId), ['a', 'b', 'c']);
    const second = ended.body.jobStatuses[1].name as string;
    const [delivered, { env }] = jobOutput(t.dataDir, second) as [{ sha256: string }, { env: Record<string, string> }];
    assert.equal(delivered.sha256, sha256(jobs[1]!.payload));
    assert.equal(env.SHARED, 'yes');
    assert.equal(env.OWN, '1');
  });

  it('when lines break the schema, answers 400 naming each line and field, and records nothing', async () => {
    t = await startTestService();
    const body = lines({}, aJob(), { payload: 7 }, aJob({}, { colour: 'red' }));
    const refused = await t.request.post('/api/v1/batches').set('content-type', NDJSON).send(body).expect(400);
    assert.equal(refused.body.reason, 'BadRequest');
    assert.match(refused.body.message, /line 3: payload must be string/);
    assert.match(refused.body.message, /line 4 has an unknown field colour/);
    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
  });

  it('when a line is not JSON, or the batch has no job line, answers 400 saying so', async () => {
    t = await startTestService();
    const notJson = await t.request.post('/api/v1/batches').set('content-type', NDJSON).send(`{}\n${JSON.stringify(aJob())}\n{"payload":`).expect(400);
    assert.match(notJson.body.message, /^line 3 is not valid JSON/);
    const empty = await t.request.post('/api/v1/batches').set('content-type', NDJSON).send('{"batchId":"x"}\n').expect(400);
    assert.match(empty.body.message, /the batch has no job/);
  });

  it('when there are more job lines than JOB_SCHEDULER_MAX_BATCH_JOBS, answers 413 and records nothing', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_BATCH_JOBS: '2' } });
    const refused = await t.request.post('/api/v1/batches').set('content-type', NDJSON).send(lines({}, aJob(), aJob(), aJob())).expect(413);
    assert.match(refused.body.message, /at most 2 are allowed in one batch \(JOB_SCHEDULER_MAX_BATCH_JOBS\)/);
    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
  });

  it('when a line overrides what the component does not allow, answers 422 as for a JSON batch', async () => {
    t = await startTestService();
    const refused = await t.request.post('/api/v1/batches').set('content-type', NDJSON).send(lines({}, aJob(), aJob({}, { command: ['/bin/sh'] }))).expect(422);
    assert.match(refused.body.message, /jobScheduleDescriptions\[1\]\.command/);
  });

  it('when a batch is larger than one part of the build (2,000 jobs), its jobs keep their order, one batch name and distinct names', async () => {
    t = await startTestService({ component: { command: ['/bin/sleep', '60'] }, env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const jobs = Array.from({ length: 4500 }, (_, i) => ({ jobId: `j-${i}` }));
    const created = await t.request.post('/api/v1/batches').set('content-type', NDJSON).send(lines({}, ...jobs)).expect(200);
    const batch = await t.request.get(`/api/v1/batches/${created.body.name}`).expect(200);
    const statuses = batch.body.jobStatuses as Array<{ name: string; jobId: string; batchName: string }>;
    assert.deepEqual(statuses.map((job) => job.jobId), jobs.map((job) => job.jobId));
    assert.ok(statuses.every((job) => job.batchName === created.body.name && job.name.startsWith(`${created.body.name}-`)));
    assert.equal(new Set(statuses.map((job) => job.name)).size, 4500);
    // The store keeps each job's place in the batch: a restart answers the same order.
    await t.close({ keepData: true });
    t = await startTestService({ component: { command: ['/bin/sleep', '60'] }, env: { JOB_SCHEDULER_MAX_RUNNING: '1' }, dataDir: t.dataDir });
    const reloaded = await t.request.get(`/api/v1/batches/${created.body.name}`).expect(200);
    assert.deepEqual(reloaded.body.jobStatuses.map((job: { name: string }) => job.name), statuses.map((job) => job.name));
  });

  it('when the body is not UTF-8, answers 400', async () => {
    t = await startTestService();
    const body = Buffer.concat([Buffer.from('{}\n{"payload":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    const refused = await t.request.post('/api/v1/batches').set('content-type', NDJSON).send(body).expect(400);
    assert.match(refused.body.message, /not valid UTF-8/);
  });
});
