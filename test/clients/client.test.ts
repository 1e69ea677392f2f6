import assert from 'node:assert/strict';
import { JobSchedulerClient, JobSchedulerError, type JobStatus, type LiveEvent } from '@job-scheduler/client';
import { TERMINAL, waitFor } from '../component/harness.js';
import { type ClientTestService, sharedService, TOKEN } from './service.js';

/** Runs `call` and answers the `JobSchedulerError` it must throw. */
async function refusal(call: () => Promise<unknown>): Promise<JobSchedulerError> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof JobSchedulerError, `a JobSchedulerError, not ${String(error)}`);
    return error;
  }
  assert.fail('the call was answered without an error');
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('the typed client against the real service', function () {
  let service: ClientTestService;
  let client: JobSchedulerClient;
  const ended = (name: string) => waitFor(() => client.getJob(name), (job: JobStatus) => TERMINAL.includes(job.status));

  before(async () => {
    service = await sharedService();
    client = new JobSchedulerClient({ url: service.url, token: TOKEN });
  });

  it('when a single job is started, reads it back: state, list pages, log, payload, settings and timeline', async () => {
    const first = await client.createJob({ payload: '{"exitCode": 0}', jobId: 'one', backoffLimit: 1, labels: { test: 'read-back' } });
    const second = await client.createJob({ payload: '{"exitCode": 0}', jobId: 'two', labels: { test: 'read-back' } });
    assert.equal(first.status, 'Waiting');
    assert.equal((await ended(first.name)).status, 'Succeeded');
    await ended(second.name);
    assert.equal((await client.getJob(first.name)).jobId, 'one');

    const page = await client.getJobs({ labelSelector: 'test=read-back', limit: 1 });
    assert.equal(page.items.length, 1);
    assert.ok(page.continue, 'a continue token for the next page');
    const paged = await collect(client.listJobs({ labelSelector: 'test=read-back', limit: 1 }));
    assert.deepEqual(paged.map((j) => j.name), [first.name, second.name]);
    assert.deepEqual((await client.getJobs({ labelSelector: 'test=read-back', jobId: 'two', status: ['Succeeded'] })).items.map((j) => j.name), [second.name]);

    const log = await client.getJobLog(first.name);
    assert.match(log, /^hello from .* \(jobId: one\)\npayload: \{"exitCode": 0\}\nexiting with 0\n$/);
    assert.equal(await client.getJobLog(first.name, { tail: 1 }), 'exiting with 0\n');
    assert.equal(await client.getJobPayload(first.name), '{"exitCode": 0}');
    const settings = await client.getJobSettings(first.name);
    assert.equal(settings.settings.backoffLimit, 1);
    assert.equal(settings.settings.timeLimitSeconds, 300);
    const timeline = await client.getJobTimeline(first.name);
    assert.deepEqual([timeline.timeline[0]!.reason, timeline.timeline.at(-1)!.status], ['Accepted', 'Succeeded']);
  });

  it('when a job is followed, its log arrives as it is written and the stream ends with the attempt', async () => {
    const job = await client.createJob({ payload: '{"sleepSeconds": 1}' });
    await waitFor(() => client.getJob(job.name), (j: JobStatus) => j.status === 'Running');
    const chunks = await collect(client.followJobLog(job.name));
    assert.match(chunks.join(''), /payload: \{"sleepSeconds": 1\}\nexiting with 0\n$/);
    assert.equal((await client.getJob(job.name)).status, 'Succeeded');
  });

  it('when single jobs are stopped and deleted, answers each with its Status, then 404 as a typed error', async () => {
    const job = await client.createJob({ payload: '{"sleepSeconds": 60}' });
    assert.equal((await client.stopJob(job.name)).status, 'Success');
    assert.equal((await ended(job.name)).status, 'Stopped');
    const other = await client.createJob({ payload: '{"sleepSeconds": 60}' });
    assert.equal((await client.stopAllJobs()).code, 200);
    assert.equal((await ended(other.name)).status, 'Stopped');
    assert.equal((await client.deleteJob(job.name)).status, 'Success');
    const gone = await refusal(() => client.getJob(job.name));
    assert.deepEqual([gone.code, gone.reason, gone.message], [404, 'NotFound', `job ${job.name} not found`]);
  });

  it('when a batch is started with labels and defaults, reads its counts, filters, pages, jobs and events until it ends', async () => {
    const events: LiveEvent[] = [];
    const stop = new AbortController();
    const batch = await client.createBatch({
      batchId: 'client-batch',
      labels: { team: 'client-test' },
      defaultRadixJobComponentConfig: { backoffLimit: 0 },
      jobScheduleDescriptions: [{ jobId: 'a', payload: '{"exitCode": 0}' }, { jobId: 'b', payload: '{"exitCode": 3}' }, { jobId: 'c', payload: '{"sleepSeconds": 1}' }],
    });
    const following = (async () => {
      for await (const event of client.events({ batch: batch.name, signal: stop.signal })) {
        events.push(event);
        if (event.event === 'Update' && event.data.ended) stop.abort();
      }
    })();
    assert.equal(batch.jobStatuses?.length, 3);
    const counts = await waitFor(() => client.getBatchCounts(batch.name), (b) => b.ended !== null);
    assert.deepEqual([counts.status, counts.jobCounts?.Succeeded, counts.jobCounts?.Failed, 'jobStatuses' in counts], ['Failed', 2, 1, false]);
    await following;
    assert.ok(events.length > 0 && events.every((e) => e.event === 'Update' && e.data.batchName === batch.name));

    assert.deepEqual((await client.getBatches({ labelSelector: 'team=client-test', status: 'Failed' })).items.map((b) => b.name), [batch.name]);
    assert.deepEqual((await collect(client.listBatches({ batchId: 'client-batch', limit: 1 }))).map((b) => b.name), [batch.name]);
    const jobs = await collect(client.listBatchJobs(batch.name, { limit: 1 }));
    assert.deepEqual(jobs.map((j) => j.jobId), ['a', 'b', 'c']);
    const failed = await client.getBatch(batch.name, { status: 'Failed' });
    assert.deepEqual(failed.jobStatuses?.map((j) => j.jobId), ['b']);
    const b = jobs[1]!;
    assert.equal((await client.getBatchJob(batch.name, b.name)).status, 'Failed');
    assert.equal((await client.getJob(b.name)).labels?.team, 'client-test');
  });

  it('when a batch and its jobs are stopped and deleted, answers each with its Status', async () => {
    const batch = await client.createBatch({ jobScheduleDescriptions: [{ payload: '{"sleepSeconds": 60}' }, { payload: '{"sleepSeconds": 60}' }] });
    const [first, second] = batch.jobStatuses!;
    assert.equal((await client.stopBatchJob(batch.name, first!.name)).status, 'Success');
    assert.equal((await ended(first!.name)).status, 'Stopped');
    assert.equal((await client.stopBatch(batch.name)).status, 'Success');
    assert.equal((await ended(second!.name)).status, 'Stopped');
    const more = await client.createBatch({ jobScheduleDescriptions: [{ payload: '{"sleepSeconds": 60}' }] });
    assert.equal((await client.stopAllBatches()).code, 200);
    assert.equal((await ended(more.jobStatuses![0]!.name)).status, 'Stopped');
    assert.equal((await client.deleteBatch(batch.name)).status, 'Success');
    assert.equal((await refusal(() => client.getBatch(batch.name))).code, 404);
    assert.deepEqual(await client.getDeadLetters(10), []);
  });

  it('when the request is bad, throws the Status as a typed error naming the field', async () => {
    const error = await refusal(() => client.createJob({ backoffLimit: 'three' as unknown as number }));
    assert.deepEqual([error.code, error.reason, error.retryable], [400, 'BadRequest', false]);
    assert.deepEqual(error.fields, [{ path: 'backoffLimit', message: 'must be integer' }]);
  });

  it('when no token or a wrong one is given, throws 401', async () => {
    for (const token of [undefined, 'wrong']) {
      const error = await refusal(() => new JobSchedulerClient({ url: service.url, token }).getJobs());
      assert.deepEqual([error.code, error.reason], [401, 'Unauthorized']);
    }
  });
});
