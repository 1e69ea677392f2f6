import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isRunning } from '../../src/runtimes/local/processes.js';
import { aJob, startTestService, TERMINAL, type TestService, waitFor, waitForJobEnd } from './harness.js';
import type { FailurePolicy } from '../../src/core/model.js';

describe('job rules of the local runtime', function () {
  let t: TestService;
  afterEach(async () => t?.close());

  it('when a job sleeps past timeLimitSeconds, its whole process group is ended and it Failed with DeadlineExceeded', async () => {
    t = await startTestService();
    const created = await t.request.post('/api/v1/jobs')
      .send(aJob({ sleepSeconds: 60, spawnChild: true, ignoreTerm: true }, { timeLimitSeconds: 1, backoffLimit: 3 })).expect(200);
    const ended = await waitForJobEnd(t.request, created.body.name);
    assert.equal(ended.status, 'Failed');
    assert.match(ended.message ?? '', /DeadlineExceeded/);
    assert.equal(ended.podStatuses.length, 1, 'a deadline is not retried');
    assert.equal(ended.podStatuses[0]?.reason, 'DeadlineExceeded');
    assert.equal(ended.podStatuses[0]?.exitCode, 137, 'TERM was ignored, so KILL ended it');
    const childPid = Number(readFileSync(path.join(t.dataDir, 'jobs', created.body.name, 'child.pid'), 'utf8'));
    await waitFor(async () => isRunning(childPid), (running) => !running);
  });

  it('when a job fails and retries, each attempt shows in podStatuses with its exit code', async () => {
    t = await startTestService();
    const created = await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [3, 4, 0] }, { backoffLimit: 2 })).expect(200);
    const ended = await waitForJobEnd(t.request, created.body.name);
    assert.equal(ended.status, 'Succeeded');
    assert.equal(ended.failed, 2);
    assert.deepEqual(ended.podStatuses.map((p) => [p.exitCode, p.reason, p.replicaStatus.status]), [
      [3, 'Error', 'Failed'], [4, 'Error', 'Failed'], [0, 'Completed', 'Succeeded'],
    ]);
    assert.deepEqual(ended.podStatuses.map((p) => p.name), [0, 1, 2].map((i) => `${created.body.name}-${i}`));
  });

  it('when retries run out, the job Failed with BackoffLimitExceeded after backoffLimit + 1 attempts', async () => {
    t = await startTestService();
    const created = await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [1] }, { backoffLimit: 2 })).expect(200);
    const ended = await waitForJobEnd(t.request, created.body.name);
    assert.equal(ended.status, 'Failed');
    assert.equal(ended.failed, 3);
    assert.equal(ended.podStatuses.length, 3);
    assert.match(ended.message ?? '', /BackoffLimitExceeded/);
  });

  describe('failurePolicy', () => {
    const policy: FailurePolicy = {
      rules: [
        { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } },
        { action: 'Ignore', onExitCodes: { operator: 'In', values: [7] } },
        { action: 'Count', onExitCodes: { operator: 'In', values: [1] } },
      ],
    };
    beforeEach(async () => {
      t = await startTestService({ component: { failurePolicy: policy, backoffLimit: 1 } });
    });

    it('when an exit code matches FailJob, the job fails at once with retries left', async () => {
      const created = await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [42, 0] }, { backoffLimit: 5 })).expect(200);
      const ended = await waitForJobEnd(t.request, created.body.name);
      assert.equal(ended.status, 'Failed');
      assert.equal(ended.podStatuses.length, 1);
      assert.match(ended.message ?? '', /PodFailurePolicy/);
    });

    it('when an exit code matches Ignore, the attempt is retried without counting', async () => {
      const created = await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [7, 7, 7, 0] }, { backoffLimit: 0 })).expect(200);
      const ended = await waitForJobEnd(t.request, created.body.name);
      assert.equal(ended.status, 'Succeeded');
      assert.equal(ended.failed, 0);
      assert.equal(ended.podStatuses.length, 4);
    });

    it('when an exit code matches Count, it counts toward backoffLimit', async () => {
      const created = await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [1, 7, 1, 0] })).expect(200);
      const ended = await waitForJobEnd(t.request, created.body.name);
      assert.equal(ended.status, 'Failed');
      assert.equal(ended.failed, 2);
      assert.deepEqual(ended.podStatuses.map((p) => p.exitCode), [1, 7, 1]);
    });
  });

  it('when more jobs are accepted than may run, the rest wait and start in order', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const created = await t.request.post('/api/v1/batches')
      .send({ jobScheduleDescriptions: [aJob({ sleepSeconds: 60 }), aJob(), aJob()] }).expect(200);
    const batch = created.body.name as string;
    // The first runs until stopped: what waits meanwhile does not depend on how fast the machine is.
    const first = await waitFor(() => t.request.get(`/api/v1/batches/${batch}`), (r) => r.body.jobStatuses[0].status === 'Running');
    assert.deepEqual(first.body.jobStatuses.slice(1).map((j: { status: string }) => j.status), ['Waiting', 'Waiting']);
    await t.request.post(`/api/v1/batches/${batch}/jobs/${first.body.jobStatuses[0].name}/stop`).expect(200);
    const ended = await waitFor(() => t.request.get(`/api/v1/batches/${batch}`), (r) => r.body.jobStatuses.every((j: { status: string }) => TERMINAL.includes(j.status)));
    assert.deepEqual(ended.body.jobStatuses.map((j: { status: string }) => j.status), ['Stopped', 'Succeeded', 'Succeeded']);
    const starts = ended.body.jobStatuses.map((j: { started: string }) => j.started);
    assert.deepEqual([...starts].sort(), starts);
    assert.ok(ended.body.jobStatuses[1].started >= ended.body.jobStatuses[0].ended, 'the second started once the first had ended');
  });

  it('when a waiting job is stopped, it never starts', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const blocker = await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 })).expect(200);
    const waiting = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await waitFor(() => t.request.get(`/api/v1/jobs/${blocker.body.name}`), (r) => r.body.status === 'Running');
    await t.request.post(`/api/v1/jobs/${waiting.body.name}/stop`).expect(200);
    const stopped = await t.request.get(`/api/v1/jobs/${waiting.body.name}`).expect(200);
    assert.equal(stopped.body.status, 'Stopped');
    await t.request.post(`/api/v1/jobs/${blocker.body.name}/stop`).expect(200);
    await waitForJobEnd(t.request, blocker.body.name);
    const after = await t.request.get(`/api/v1/jobs/${waiting.body.name}`).expect(200);
    assert.equal(after.body.status, 'Stopped');
    assert.deepEqual(after.body.podStatuses, []);
    assert.equal(existsSync(path.join(t.dataDir, 'jobs', waiting.body.name, 'payload')), false);
  });

  it('when the command cannot be started, the attempt fails with StartError and the job Failed', async () => {
    t = await startTestService({ component: { command: ['/nonexistent/program'] } });
    const created = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    const ended = await waitForJobEnd(t.request, created.body.name);
    assert.equal(ended.status, 'Failed');
    assert.equal(ended.podStatuses[0]?.reason, 'StartError');
    assert.match(ended.message ?? '', /ENOENT/);
  });
});
