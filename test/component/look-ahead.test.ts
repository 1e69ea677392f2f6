import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aJob, type JobState, startTestService, type TestService, waitFor, waitForJobEnd } from './harness.js';

/** The service's default `maxRunning` (the harness's machine has 2 CPUs), not the harness's 4. */
const DEFAULT_MAX_RUNNING = { JOB_SCHEDULER_MAX_RUNNING: undefined as unknown as string };

interface Batch {
  name: string;
  jobStatuses: JobState[];
}

/**
 * A batch whose first two jobs start at once: L runs long and S ends at once, so S's slot goes to X, and a start is
 * handed ahead to Y, which then waits for a free process slot behind L and X. Answers the jobs by their jobId once
 * Y is Active.
 */
async function oneWaitingAhead(t: TestService, x: Record<string, unknown>, y: Record<string, unknown> = {}): Promise<Record<'L' | 'S' | 'X' | 'Y', JobState>> {
  const jobs = [
    aJob({ sleepSeconds: 60 }, { jobId: 'L' }),
    aJob({}, { jobId: 'S' }),
    aJob(x, { jobId: 'X' }),
    aJob({}, { jobId: 'Y', ...y }),
  ];
  const created = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).expect(200);
  const batch = await waitFor(() => t.request.get(`/api/v1/batches/${created.body.name}`), (r) => {
    const byId = Object.fromEntries((r.body as Batch).jobStatuses.map((job) => [job.jobId, job.status]));
    return byId.Y === 'Active' && byId.X === 'Running';
  });
  return Object.fromEntries((batch.body as Batch).jobStatuses.map((job) => [job.jobId, job])) as Record<'L' | 'S' | 'X' | 'Y', JobState>;
}

/** Whether any attempt of the job ever ran: the fixture writes its pid first thing (its folder is made at its start). */
function ran(t: TestService, jobName: string): boolean {
  return existsSync(path.join(t.dataDir, 'jobs', jobName, 'pids'));
}

describe('starts handed ahead to the local runtime (look-ahead)', function () {
  let t: TestService;
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'job-scheduler-ahead-'));
  });
  afterEach(async () => {
    await t?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('when short jobs follow one another, no more processes than maxRunning ever run at once (the default, 2)', async () => {
    t = await startTestService({ env: DEFAULT_MAX_RUNNING });
    const runningDir = path.join(scratch, 'running');
    mkdirSync(runningDir);
    const jobs = Array.from({ length: 20 }, () => aJob({ runningDir, sleepSeconds: 0.2 }));
    const created = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).expect(200);
    const done = await waitFor(() => t.request.get(`/api/v1/batches/${created.body.name}`), (r) => r.body.status === 'Succeeded', 60_000);
    assert.equal((done.body as Batch).jobStatuses.filter((job) => job.status === 'Succeeded').length, 20);
    const seen = readFileSync(`${runningDir}.seen`, 'utf8').split('\n').filter(Boolean).map(Number);
    assert.equal(seen.length, 20);
    assert.ok(Math.max(...seen) <= 2, `at most 2 at once; seen ${JSON.stringify(seen)}`);
    assert.ok(seen.includes(2), 'two ran at once: the cap is reached, not undercut');
  });

  it('when a start is handed ahead, the job waits Active with no process, and its time limit starts with its process', async () => {
    t = await startTestService({ env: DEFAULT_MAX_RUNNING });
    const { L, X, Y } = await oneWaitingAhead(t, { sleepSeconds: 2 }, { timeLimitSeconds: 1 });
    assert.equal(L.status, 'Running');
    assert.deepEqual(Y.podStatuses.map((pod) => [pod.replicaStatus.status, pod.startTime]), [['Pending', null]]);
    assert.equal(ran(t, Y.name), false, 'nothing of it runs while it waits');

    const y = await waitForJobEnd(t.request, Y.name);
    const x = await waitForJobEnd(t.request, X.name);
    assert.equal(x.status, 'Succeeded');
    // Handed ahead as X started, it started once X had ended: it waited all of X's 2 s, twice its own limit.
    assert.ok(y.podStatuses[0]!.created <= x.podStatuses[0]!.startTime!, 'Y was handed ahead before X started');
    assert.ok(y.podStatuses[0]!.startTime! >= x.podStatuses[0]!.endTime!, 'Y started after X ended');
    assert.equal(y.status, 'Succeeded', `the wait did not count toward its time limit: ${y.message}`);
    assert.deepEqual([y.failed, y.podStatuses.length], [0, 1]);
  });

  it('when a job handed ahead is stopped, it is withdrawn: Stopped before it started, nothing of it ran, the others run on', async () => {
    t = await startTestService({ env: DEFAULT_MAX_RUNNING });
    const { L, X, Y } = await oneWaitingAhead(t, { sleepSeconds: 60 });
    await t.request.post(`/api/v1/batches/${Y.batchName}/jobs/${Y.name}/stop`).expect(200);

    const y = await waitForJobEnd(t.request, Y.name);
    assert.deepEqual([y.status, y.message, y.failed], ['Stopped', 'stopped before it started', 0]);
    assert.deepEqual(y.podStatuses.map((pod) => [pod.replicaStatus.status, pod.reason, pod.startTime]), [['Stopped', 'Stopped', null]]);
    assert.equal(ran(t, Y.name), false);
    for (const name of [L.name, X.name]) assert.equal((await t.request.get(`/api/v1/jobs/${name}`).expect(200)).body.status, 'Running');
  });

  it('when the service shuts down gracefully with a job handed ahead, its attempt is interrupted before it started, not counted, and it runs after the restart', async () => {
    t = await startTestService({ env: DEFAULT_MAX_RUNNING });
    const { L, Y } = await oneWaitingAhead(t, { sleepSeconds: 60 });
    await t.close({ keepData: true });
    assert.equal(ran(t, Y.name), false);

    t = await startTestService({ dataDir: t.dataDir, env: DEFAULT_MAX_RUNNING });
    const y = (await t.request.get(`/api/v1/jobs/${Y.name}`).expect(200)).body as JobState;
    assert.equal(y.failed, 0);
    assert.deepEqual([y.podStatuses[0]!.reason, y.podStatuses[0]!.replicaStatus.status, y.podStatuses[0]!.startTime], ['Interrupted', 'Failed', null]);
    // L and X were interrupted too and run again first (60 s each): stop them, and Y gets a slot.
    await t.request.post(`/api/v1/batches/${y.batchName}/jobs/${L.name}/stop`).expect(200);
    const ended = await waitForJobEnd(t.request, Y.name);
    assert.deepEqual([ended.status, ended.failed], ['Succeeded', 0]);
    assert.equal(ran(t, Y.name), true);
  });
});
