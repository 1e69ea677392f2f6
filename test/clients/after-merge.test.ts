// Tests of endpoints other branches of this session implement on the service: restart / rerun-failed / copy (the
// restart branch) and Idempotency-Key / dryRun (the idempotency branch). Each group probes the running service and
// is SKIPPED, saying why, until the branch that implements it is merged; after the merge it runs (`npm run test:clients`).
import assert from 'node:assert/strict';
import { type BatchStatus, JobSchedulerClient, JobSchedulerError, type JobStatus } from '@job-scheduler/client';
import { TERMINAL, waitFor } from '../component/harness.js';
import { runCli } from './cli-runner.js';
import { FlakyProxy } from './flaky-proxy.js';
import { type ClientTestService, sharedService, TOKEN } from './service.js';

let service: ClientTestService;
let client: JobSchedulerClient;
const ended = (name: string) => waitFor(() => client.getJob(name), (job: JobStatus) => TERMINAL.includes(job.status));
const batchEnded = (name: string) => waitFor(() => client.getBatchCounts(name), (batch: BatchStatus) => batch.ended !== null);
const cli = (args: string[]) => runCli(args, { JOB_SCHEDULER_URL: service.url, JOB_SCHEDULER_TOKEN: TOKEN });

before(async () => {
  service = await sharedService();
  client = new JobSchedulerClient({ url: service.url, token: TOKEN });
});

/** True when the service has a route for restart (an unknown route answers `path ... not found`). */
async function restartImplemented(): Promise<boolean> {
  const answer = await fetch(`${service.url}/api/v1/jobs/no-such-job/restart`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await answer.json()) as { message: string };
  return !(answer.status === 404 && body.message.startsWith('path '));
}

/** True when the service's own API document declares the header or parameter. */
async function documented(name: string): Promise<boolean> {
  const answer = await fetch(`${service.url}/api/v1/openapi.json`);
  return (await answer.text()).includes(`"${name}"`);
}

describe('after the restart branch is merged: restart, rerun-failed and copy through the client and the CLI', function () {
  before(async function () {
    if (!(await restartImplemented())) this.skip();
  });

  it('when a failed single job is restarted, it runs again under its name and keeps its earlier attempt', async () => {
    const job = await client.createJob({ payload: '{"exitCode": 42}' });
    assert.equal((await ended(job.name)).status, 'Failed');
    assert.equal((await client.restartJob(job.name)).status, 'Waiting');
    const again = await ended(job.name);
    assert.equal(again.podStatuses.length, 2);
  });

  it('when a mixed batch is rerun, only its failed job runs again; a job of a batch and the whole batch restart', async () => {
    const batch = await client.createBatch({ jobScheduleDescriptions: [{ jobId: 'ok', payload: '{"exitCode": 0}' }, { jobId: 'bad', payload: '{"exitCode": 42}' }] });
    await batchEnded(batch.name);
    const rerun = await client.rerunFailedJobs(batch.name);
    assert.equal(rerun.name, batch.name);
    await batchEnded(batch.name);
    const jobs = (await client.getBatch(batch.name)).jobStatuses!;
    assert.deepEqual(jobs.map((j) => [j.jobId, j.podStatuses.length]), [['ok', 1], ['bad', 2]]);
    assert.equal((await client.restartBatchJob(batch.name, jobs[0]!.name)).name, jobs[0]!.name);
    await batchEnded(batch.name);
    assert.equal((await client.restartBatch(batch.name)).name, batch.name);
    await batchEnded(batch.name);
  });

  it('when a batch and a job are copied with overrides, new ones run with the same payloads', async () => {
    const batch = await client.createBatch({ jobScheduleDescriptions: [{ jobId: 'a', payload: '{"exitCode": 0}' }] });
    const copy = await client.copyBatch(batch.name, { batchId: 'copied', defaultRadixJobComponentConfig: { timeLimitSeconds: 77 } });
    assert.notEqual(copy.name, batch.name);
    const [job] = (await client.getBatch(copy.name)).jobStatuses!;
    assert.equal(await client.getJobPayload(job!.name), '{"exitCode": 0}');
    assert.equal((await client.getJobSettings(job!.name)).settings.timeLimitSeconds, 77);
    const single = await client.createJob({ payload: 'first' });
    const copied = await client.copyJob(single.name, { payload: 'second' });
    assert.equal(await client.getJobPayload(copied.name), 'second');
  });

  it('when the CLI restarts a job and reruns a batch, each exits 0 and prints the name waiting again', async () => {
    const job = await client.createJob({ payload: '{"exitCode": 42}' });
    await ended(job.name);
    assert.deepEqual(await cli(['restart', job.name]), { code: 0, stdout: `${job.name} Waiting\n`, stderr: '' });
    const batch = await client.createBatch({ jobScheduleDescriptions: [{ payload: '{"exitCode": 42}' }] });
    await batchEnded(batch.name);
    const rerun = await cli(['rerun-failed', batch.name]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, new RegExp(`^${batch.name} \\w+\n$`));
    assert.equal((await cli(['watch', batch.name])).code, 1);
  });
});

describe('after the idempotency branch is merged: Idempotency-Key and dryRun through the client and the CLI', function () {
  before(async function () {
    if (!(await documented('Idempotency-Key')) || !(await documented('dryRun'))) this.skip();
  });

  it('when the same key is sent twice, the same body answers the first batch and another body is refused', async () => {
    const body = { batchId: 'same-key', jobScheduleDescriptions: [{ payload: 'x' }] };
    const first = await client.createBatch(body, { idempotencyKey: 'client-key-1' });
    const second = await client.createBatch(body, { idempotencyKey: 'client-key-1' });
    assert.equal(second.name, first.name);
    const refused = await client.createBatch({ ...body, batchId: 'other' }, { idempotencyKey: 'client-key-1' }).then(() => undefined, (e: unknown) => e);
    assert.ok(refused instanceof JobSchedulerError);
    assert.equal(refused.code, 422);
  });

  it('when the answer to a submit is lost, the retry with the same key answers the batch the service made, once', async () => {
    const proxy = await FlakyProxy.start(service.url);
    try {
      const flaky = new JobSchedulerClient({ url: proxy.url, token: TOKEN, retry: { sleep: async () => undefined } });
      proxy.failNext('lose-answer');
      const batch = await flaky.createBatch({ batchId: 'lost-answer', jobScheduleDescriptions: [{ payload: 'x' }] });
      assert.equal(proxy.requestsTo('POST', '/api/v1/batches').length, 2);
      assert.deepEqual((await client.getBatches({ batchId: 'lost-answer' })).items.map((b) => b.name), [batch.name]);
    } finally {
      await proxy.close();
    }
  });

  it('when a dry run is asked, answers 200 and records nothing; the CLI prints the answer as JSON', async () => {
    const planned = await client.dryRunBatch({ batchId: 'dry', jobScheduleDescriptions: [{ payload: 'x' }] });
    assert.equal(planned.jobs.length, 1);
    assert.deepEqual((await client.getBatches({ batchId: 'dry' })).items, []);
    const run = await cli(['submit', '--payload', 'x', '--dry-run', '--time-limit', '33']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /33/);
  });

  it('when the CLI submits twice with one --idempotency-key, prints the same name', async () => {
    const first = await cli(['submit', '--payload', 'x', '--idempotency-key', 'cli-key-1']);
    const second = await cli(['submit', '--payload', 'x', '--idempotency-key', 'cli-key-1']);
    assert.deepEqual([first.code, second.code, second.stdout], [0, 0, first.stdout]);
  });
});
