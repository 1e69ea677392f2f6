import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HIDDEN_VALUE } from '../../src/scheduler/job-output.js';
import { aJob, startTestService, type TestService, waitFor } from './harness.js';
import { type Receiver, startReceiver } from './webhook-receiver.js';

const NDJSON = 'application/x-ndjson';

describe('dry run of submissions over the local runtime', function () {
  this.timeout(60_000);
  let t: TestService | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await receiver?.close();
    receiver = undefined;
  });

  it('when a batch is posted with dryRun=true, answers every job\'s merged settings, and records, starts and notifies nothing', async () => {
    receiver = await startReceiver();
    t = await startTestService({
      component: { variables: { OWNER_SECRET: 's3cret', MODE: 'slow' }, timeLimitSeconds: 300, notifications: { webhook: receiver.url } },
      env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.02' },
    });
    const runs = path.join(t.dataDir, 'runs.txt');
    writeFileSync(runs, '');
    const batch = {
      batchId: 'try', labels: { team: 'a' },
      defaultRadixJobComponentConfig: { backoffLimit: 2, variables: { MODE: 'fast' } },
      jobScheduleDescriptions: [aJob({ appendTo: runs }, { jobId: 'one', timeLimitSeconds: 60 }), aJob({ appendTo: runs })],
    };
    const answer = await t.request.post('/api/v1/batches?dryRun=true').set('Idempotency-Key', 'not-kept').send(batch).expect(200);
    assert.equal(answer.body.dryRun, true);
    assert.equal(answer.body.type, 'batch');
    assert.equal(answer.body.batchId, 'try');
    assert.deepEqual(answer.body.jobs.map((job: { index: number; jobId?: string }) => [job.index, job.jobId]), [[0, 'one'], [1, undefined]]);
    const [first, second] = answer.body.jobs.map((job: { settings: Record<string, unknown> }) => job.settings);
    assert.equal(first.timeLimitSeconds, 60);
    assert.equal(second.timeLimitSeconds, 300);
    assert.equal(second.backoffLimit, 2);
    assert.deepEqual(second.variables, { OWNER_SECRET: HIDDEN_VALUE, MODE: 'fast' });
    assert.deepEqual(second.labels, { team: 'a' });
    assert.ok(!JSON.stringify(answer.body).includes('appendTo'), 'no payload is answered');

    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
    // The key was not kept: a real submission with it is new, and it is the only thing the webhook hears of.
    const real = await t.request.post('/api/v1/batches').set('Idempotency-Key', 'not-kept').send(batch).expect(200);
    assert.equal(real.headers['idempotency-replayed'], undefined);
    await waitFor(async () => readFileSync(runs, 'utf8').split('\n').filter(Boolean), (names) => names.length === 2);
    await waitFor(async () => receiver!.received.filter((event) => event.body.event === 'Create'), (events) => events.length >= 1);
    const creates = receiver.received.filter((event) => event.body.event === 'Create');
    assert.deepEqual(creates.map((event) => event.body.name), [real.body.name]);
    assert.ok(receiver.received.every((event) => event.body.name === real.body.name));
    assert.deepEqual(readFileSync(runs, 'utf8').split('\n').filter(Boolean).sort(), real.body.jobStatuses.map((job: { name: string }) => job.name).sort());
  });

  it('when a single job is posted with dryRun=true, answers its settings and no job exists', async () => {
    t = await startTestService({ component: { backoffLimit: 1 } });
    const answer = await t.request.post('/api/v1/jobs').query({ dryRun: true }).send(aJob({}, { jobId: 'single', variables: { A: '1' } })).expect(200);
    assert.equal(answer.body.type, 'job');
    assert.equal(answer.body.jobs.length, 1);
    assert.equal(answer.body.jobs[0].jobId, 'single');
    assert.equal(answer.body.jobs[0].settings.backoffLimit, 1);
    assert.deepEqual(answer.body.jobs[0].settings.variables, { A: '1' });
    assert.deepEqual((await t.request.get('/api/v1/jobs').expect(200)).body, []);
    const jobsDir = path.join(t.dataDir, 'jobs');
    assert.deepEqual(existsSync(jobsDir) ? readdirSync(jobsDir) : [], [], 'no job folder was made');
  });

  it('when a dry run is wrong, answers as a real submission would: 400, 413 and 422', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_BATCH_JOBS: '2' } });
    const bad = await t.request.post('/api/v1/batches?dryRun=true').send({ jobScheduleDescriptions: [{ backoffLimit: 'x' }] }).expect(400);
    assert.match(bad.body.message, /backoffLimit/);
    const big = await t.request.post('/api/v1/batches?dryRun=true').send({ jobScheduleDescriptions: [{}, {}, {}] }).expect(413);
    assert.match(big.body.message, /JOB_SCHEDULER_MAX_BATCH_JOBS/);
    const refused = await t.request.post('/api/v1/jobs?dryRun=true').send({ command: ['/bin/sh'] }).expect(422);
    assert.match(refused.body.message, /command cannot be set by a client/);
    await t.request.post('/api/v1/jobs?dryRun=maybe').send({}).expect(400);
    await t.request.post('/api/v1/batches?dryRun=maybe').set('content-type', NDJSON).send('{}\n{}\n').expect(400);
    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
  });

  it('when an NDJSON batch is posted with dryRun=true, answers the settings of every line and records nothing', async () => {
    t = await startTestService();
    const body = [{ defaultRadixJobComponentConfig: { backoffLimit: 3 } }, { jobId: 'l1' }, { jobId: 'l2', backoffLimit: 0 }].map((line) => JSON.stringify(line)).join('\n');
    const answer = await t.request.post('/api/v1/batches?dryRun=true').set('content-type', NDJSON).send(body).expect(200);
    assert.deepEqual(answer.body.jobs.map((job: { jobId: string; settings: { backoffLimit: number } }) => [job.jobId, job.settings.backoffLimit]), [['l1', 3], ['l2', 0]]);
    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
  });
});
