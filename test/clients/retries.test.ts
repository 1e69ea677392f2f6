import assert from 'node:assert/strict';
import { type BatchStatus, JobSchedulerClient, JobSchedulerError, type LiveEvent } from '@job-scheduler/client';
import { FlakyProxy } from './flaky-proxy.js';
import { type ClientTestService, sharedService, TOKEN } from './service.js';

describe('the typed client under faults (a real proxy in front of the real service)', function () {
  let service: ClientTestService;
  let proxy: FlakyProxy;
  let waits: number[];
  let client: JobSchedulerClient;
  let stop: AbortController;

  before(async () => {
    service = await sharedService();
  });

  beforeEach(async () => {
    proxy = await FlakyProxy.start(service.url);
    waits = [];
    stop = new AbortController();
    // A clock the test controls: each wait is recorded and returns at once.
    client = new JobSchedulerClient({ url: proxy.url, token: TOKEN, retry: { sleep: async (ms) => void waits.push(ms) } });
  });

  afterEach(async () => {
    stop.abort();
    await proxy.close();
  });

  async function refusal(call: () => Promise<unknown>): Promise<JobSchedulerError> {
    const error = await call().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof JobSchedulerError, `a JobSchedulerError, not ${String(error)}`);
    return error;
  }

  it('when a read meets a dropped connection, tries again with backoff and answers', async () => {
    const job = await client.createJob({ payload: 'x' });
    proxy.failNext('reset', 'reset');
    assert.equal((await client.getJob(job.name)).name, job.name);
    assert.equal(proxy.requestsTo('GET', `/api/v1/jobs/${job.name}`).length, 3);
    assert.deepEqual(waits, [250, 500]);
  });

  it('when every attempt meets a dropped connection, throws a NetworkError after 4 attempts with capped backoff', async () => {
    proxy.failNext('reset', 'reset', 'reset', 'reset');
    const error = await refusal(() => client.getJobs());
    assert.deepEqual([error.code, error.reason, error.retryable], [0, 'NetworkError', true]);
    assert.match(error.message, /could not reach the job scheduler at http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(proxy.requestsTo('GET', '/api/v1/jobs').length, 4);
    assert.deepEqual(waits, [250, 500, 1000]);
  });

  it('when the service answers 503 with Retry-After, waits that long, then answers; a stop is retried too', async () => {
    const job = await client.createJob({ payload: '{"sleepSeconds": 60}' });
    proxy.failNext({ status: 503, retryAfter: 2 });
    assert.equal((await client.getJob(job.name)).name, job.name);
    assert.deepEqual(waits, [2000]);
    proxy.failNext({ status: 503 });
    assert.equal((await client.stopJob(job.name)).status, 'Success');
    assert.equal(proxy.requestsTo('POST', `/api/v1/jobs/${job.name}/stop`).length, 2);
  });

  it('when a 429 asks for a longer wait than the client takes, throws it at once with its Retry-After', async () => {
    proxy.failNext({ status: 429, retryAfter: 60 });
    const error = await refusal(() => client.getBatches());
    assert.deepEqual([error.code, error.reason, error.retryAfterSeconds], [429, 'TooManyRequests', 60]);
    assert.equal(proxy.seen.length, 1);
  });

  it('when a submit meets a dropped connection, sends it again with the same Idempotency-Key, and one job is recorded', async () => {
    proxy.failNext('reset');
    const job = await client.createJob({ payload: 'once', jobId: 'keyed-submit' });
    const posts = proxy.requestsTo('POST', '/api/v1/jobs');
    assert.equal(posts.length, 2);
    assert.match(String(posts[0]!.headers['idempotency-key']), /^[0-9a-f-]{36}$/);
    assert.equal(posts[1]!.headers['idempotency-key'], posts[0]!.headers['idempotency-key']);
    assert.deepEqual((await client.getJobs({ jobId: 'keyed-submit' })).items.map((j) => j.name), [job.name]);
  });

  it('when a submit has no Idempotency-Key (false), or is a restart, a 503 is not retried', async () => {
    proxy.failNext({ status: 503 });
    const error = await refusal(() => client.createBatch({ jobScheduleDescriptions: [{}] }, { idempotencyKey: false }));
    assert.equal(error.code, 503);
    assert.equal(proxy.requestsTo('POST', '/api/v1/batches')[0]!.headers['idempotency-key'], undefined);
    proxy.failNext({ status: 503 });
    assert.equal((await refusal(() => client.restartJob('batch-compute-20261122101500-k3x9a0bq-p2m7c1ds'))).code, 503);
    assert.equal(proxy.seen.length, 2);
    assert.deepEqual(waits, []);
  });

  it('when the event stream drops after an event, reconnects with Last-Event-ID and receives every later event once', async () => {
    const events: LiveEvent[] = [];
    const mineOnly: { batch?: string } = {};
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    proxy.failNext('cut-after-first-event');
    const following = (async () => {
      for await (const event of client.events({ signal: stop.signal, onOpen: opened })) {
        events.push(event);
        if (event.event === 'Update' && event.data.name === mineOnly.batch && event.data.ended) stop.abort();
      }
    })();
    await open;
    const job = await client.createJob({ payload: '{"exitCode": 0}' }, { idempotencyKey: false });
    const batchName = job.name.slice(0, job.name.lastIndexOf('-'));
    mineOnly.batch = batchName;
    await following;
    // The stream carries every job's events (other tests' jobs may still end): this job's are checked.
    const mine = events.filter((e) => (e.event === 'Create' || e.event === 'Update' || e.event === 'Delete') && e.data.name === batchName);
    const streams = proxy.requestsTo('GET', '/api/v1/events');
    assert.equal(streams.length, 2);
    assert.equal(streams[0]!.headers['last-event-id'], undefined);
    assert.equal(streams[1]!.headers['last-event-id'], events[0]!.id);
    assert.equal(mine[0]!.event, 'Create');
    assert.equal((mine.at(-1)!.data as BatchStatus).jobStatuses?.[0]?.status, 'Succeeded');
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'no event twice');
    assert.deepEqual(waits, [2000], 'waited the retry the service asked for');
  });
});
