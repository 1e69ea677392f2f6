import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type supertest from 'supertest';
import { aJob, startTestService, TERMINAL, type TestService, waitFor } from './harness.js';
import { deduplicated, type Receiver, startReceiver, transitionsOf } from './webhook-receiver.js';

// After a restart, batches whose jobs had all finished are read after the service answers. These tests read
// before anything of them was read (no background load): every answer must be the one before the restart.

interface Seen {
  singles: string[];
  batches: string[];
  jobsOfA: string[];
  answers: Map<string, unknown>;
}

/** The reads compared before and after the restart. */
const READS = [
  '/api/v1/jobs', '/api/v1/batches', '/api/v1/jobs?labelSelector=team%3Da', '/api/v1/jobs?status=Failed', '/api/v1/jobs?jobId=one',
  '/api/v1/batches?labelSelector=kind%3Dbig', '/api/v1/batches?status=Succeeded', '/api/v1/batches?jobId=a-2', '/api/v1/batches?batchId=bee',
];

async function allPages(request: supertest.Agent, url: string): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const separator = url.includes('?') ? '&' : '?';
    const response = await request.get(token ? `${url}${separator}continue=${encodeURIComponent(token)}` : url).expect(200);
    const items = (Array.isArray(response.body) ? response.body : response.body.jobStatuses) as Array<{ name: string }>;
    names.push(...items.map((item) => item.name));
    token = response.headers['x-continue'] as string | undefined;
  } while (token);
  return names;
}

describe('finished batches read after the start (local runtime)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let seen: Seen;
  let t: TestService | undefined;

  const restart = async (env: Record<string, string> = {}) => {
    t = await startTestService({ dataDir, backgroundLoad: false, env });
    return t.request;
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-deferred-'));
    const first = await startTestService({ dataDir });
    const { request } = first;
    const s1 = await request.post('/api/v1/jobs').send(aJob({}, { jobId: 'one', labels: { team: 'a' } })).expect(200);
    const s2 = await request.post('/api/v1/jobs').send(aJob({ exitCodes: [1] }, { labels: { team: 'b' } })).expect(200);
    const jobs = Array.from({ length: 6 }, (_, i) => aJob({}, { jobId: `a-${i}`, labels: { parity: i % 2 ? 'odd' : 'even' } }));
    const a = await request.post('/api/v1/batches').send({ labels: { kind: 'big' }, jobScheduleDescriptions: jobs }).expect(200);
    const b = await request.post('/api/v1/batches').set('Idempotency-Key', 'key-b').send({ batchId: 'bee', jobScheduleDescriptions: [aJob(), aJob()] }).expect(200);
    const singles = [s1.body.name as string, s2.body.name as string];
    const batches = [a.body.name as string, b.body.name as string];
    for (const name of batches) await waitFor(() => request.get(`/api/v1/batches/${name}`), (r) => TERMINAL.includes(r.body.status));
    for (const name of singles) await waitFor(() => request.get(`/api/v1/jobs/${name}`), (r) => TERMINAL.includes(r.body.status));
    const answers = new Map<string, unknown>();
    for (const url of [...READS, ...singles.map((name) => `/api/v1/jobs/${name}`), ...batches.map((name) => `/api/v1/batches/${name}`)]) {
      answers.set(url, (await request.get(url).expect(200)).body);
    }
    answers.set('pages of jobs', await allPages(request, '/api/v1/jobs?limit=1'));
    answers.set('pages of A', await allPages(request, `/api/v1/batches/${a.body.name}?labelSelector=parity%3Deven&limit=2`));
    seen = { singles, batches, jobsOfA: (a.body.jobStatuses as Array<{ name: string }>).map((job) => job.name), answers };
    await first.close({ keepData: true });
  });

  afterEach(async () => {
    await t?.close({ keepData: true });
    t = undefined;
  });

  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('when a finished single job is read first, it is answered as before the restart; an unknown name is still 404', async () => {
    const request = await restart();
    for (const name of seen.singles) assert.deepEqual((await request.get(`/api/v1/jobs/${name}`).expect(200)).body, seen.answers.get(`/api/v1/jobs/${name}`));
    await request.get('/api/v1/jobs/no-such-job').expect(404);
  });

  it('when a job of a finished batch is read first, it is answered as before, and only in its own batch', async () => {
    const request = await restart();
    const [a, b] = seen.batches;
    const job = seen.jobsOfA[3]!;
    const before = (seen.answers.get(`/api/v1/batches/${a}`) as { jobStatuses: Array<{ name: string }> }).jobStatuses[3];
    assert.deepEqual((await request.get(`/api/v1/batches/${a}/jobs/${job}`).expect(200)).body, before);
    await request.get(`/api/v1/batches/${b}/jobs/${job}`).expect(404);
  });

  it('when a finished batch is read first, its status, counts and every job are as before', async () => {
    const request = await restart();
    for (const name of seen.batches) assert.deepEqual((await request.get(`/api/v1/batches/${name}`).expect(200)).body, seen.answers.get(`/api/v1/batches/${name}`));
    const counts = await request.get(`/api/v1/batches/${seen.batches[0]}?jobStatuses=false`).expect(200);
    assert.deepEqual(counts.body.jobCounts, (seen.answers.get(`/api/v1/batches/${seen.batches[0]}`) as { jobCounts: unknown }).jobCounts);
  });

  for (const url of READS) {
    it(`when ${url} is the first read, it answers as before the restart`, async () => {
      const request = await restart();
      assert.deepEqual((await request.get(url).expect(200)).body, seen.answers.get(url));
    });
  }

  it('when lists are read a page at a time first, every page follows as before, and a batch page filters as before', async () => {
    const request = await restart();
    assert.deepEqual(await allPages(request, '/api/v1/jobs?limit=1'), seen.answers.get('pages of jobs'));
    await t!.close({ keepData: true });
    const restarted = await restart();
    assert.deepEqual(await allPages(restarted, `/api/v1/batches/${seen.batches[0]}?labelSelector=parity%3Deven&limit=2`), seen.answers.get('pages of A'));
  });

  it('when the finished jobs fill the tracked-jobs bound, a new submission gets 429 before any was read, and a replay is still answered', async () => {
    const request = await restart({ JOB_SCHEDULER_MAX_TRACKED_JOBS: '10', JOB_SCHEDULER_MAX_BATCH_JOBS: '10' });
    const refused = await request.post('/api/v1/jobs').send(aJob()).expect(429);
    assert.equal(refused.body.reason, 'TooManyRequests');
    const replay = await request.post('/api/v1/batches').set('Idempotency-Key', 'key-b').send({ batchId: 'bee', jobScheduleDescriptions: [aJob(), aJob()] }).expect(200);
    assert.equal(replay.body.name, seen.batches[1]);
    assert.deepEqual(replay.body.jobStatuses, (seen.answers.get(`/api/v1/batches/${seen.batches[1]}`) as { jobStatuses: unknown }).jobStatuses);
  });

  it('when a finished batch is deleted first, it and its jobs are gone, also from lists and after the next restart', async () => {
    const request = await restart();
    const [a, b] = seen.batches;
    await request.delete(`/api/v1/batches/${b}`).expect(200);
    await request.get(`/api/v1/batches/${b}`).expect(404);
    assert.deepEqual((await request.get('/api/v1/batches').expect(200)).body.map((batch: { name: string }) => batch.name), [a]);
    await t!.close({ keepData: true });
    const again = await restart();
    await again.get(`/api/v1/batches/${b}`).expect(404);
    assert.deepEqual((await again.get(`/api/v1/batches/${a}`).expect(200)).body, seen.answers.get(`/api/v1/batches/${a}`));
  });
});

describe('webhooks of finished batches read after the start (local runtime)', function () {
  this.timeout(120_000);
  let t: TestService | undefined;
  let hook: Receiver | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await hook?.close();
    hook = undefined;
  });

  it('when a finished batch is restarted before it was read, its Create is not sent again, and only the restarted job is told, each transition once', async () => {
    hook = await startReceiver();
    const options = { component: { notifications: { webhook: hook.url } }, env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.02', JOB_SCHEDULER_WEBHOOK_MAX_RETRY_SECONDS: '0.2' } };
    t = await startTestService(options);
    const batch = (await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob(), aJob()] }).expect(200)).body as { name: string; jobStatuses: Array<{ name: string }> };
    const [rerun, other] = batch.jobStatuses.map((job) => job.name) as [string, string];
    await waitFor(async () => [rerun, other].map((name) => transitionsOf(hook!.received, name)), (seen) => seen.every((keys) => keys.some((key) => key.startsWith('Succeeded'))));
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    const toldBefore = { rerun: transitionsOf(hook.received, rerun), other: transitionsOf(hook.received, other) };

    t = await startTestService({ ...options, dataDir, backgroundLoad: false });
    await t.request.post(`/api/v1/batches/${batch.name}/jobs/${rerun}/restart`).expect(200);
    const told = await waitFor(async () => transitionsOf(hook!.received, rerun), (keys) => keys.length > toldBefore.rerun.length && keys.at(-1)!.startsWith('Succeeded'));

    const creates = deduplicated(hook.received).filter((event) => event.body.event === 'Create');
    assert.equal(creates.length, 1, 'one Create, never repeated');
    assert.deepEqual(transitionsOf(hook.received, other), toldBefore.other, 'nothing told again for the job not restarted');
    assert.equal(new Set(told).size, told.length, `a transition told twice: ${told.join(', ')}`);
  });

  it('when a finished job\'s end was never told before the restart, it is told once its batch is read in the background, without any request', async () => {
    hook = await startReceiver();
    const options = { component: { notifications: { webhook: hook.url } }, env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.02', JOB_SCHEDULER_WEBHOOK_MAX_RETRY_SECONDS: '0.2' } };
    t = await startTestService(options);
    const batch = (await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob(), aJob()] }).expect(200)).body as { name: string; jobStatuses: Array<{ name: string }> };
    const [untold, told] = batch.jobStatuses.map((job) => job.name) as [string, string];
    await waitFor(async () => [untold, told].map((name) => transitionsOf(hook!.received, name)), (seen) => seen.every((keys) => keys.some((key) => key.startsWith('Succeeded'))));
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    // As if the service had died between committing the job's end and recording it as told.
    const outbox = new Database(path.join(dataDir, 'notifications.db'));
    const last = transitionsOf(hook.received, untold).at(-1)!;
    const earlier = transitionsOf(hook.received, untold).find((key) => !key.startsWith('Succeeded'))!;
    assert.equal(outbox.prepare('UPDATE told SET key = ? WHERE job = ?').run(earlier, untold).changes, 1);
    outbox.close();
    const requestsBefore = hook.requests.length;

    t = await startTestService({ ...options, dataDir, captureLogs: true, logLevel: 'info' });
    await waitFor(async () => hook!.requests.slice(requestsBefore), (after) => after.some((event) => event.body.jobStatuses?.some((job) => job.name === untold)));
    await waitFor(async () => t!.logs.filter((line) => JSON.parse(line).message === 'finished jobs read'), (lines) => lines.length === 1);
    const after = hook.requests.slice(requestsBefore);
    assert.deepEqual(transitionsOf(after.filter((event) => event.answered < 300), untold), [last]);
    assert.deepEqual(transitionsOf(after, told), [], 'nothing told again for the job whose end was told');
  });
});
