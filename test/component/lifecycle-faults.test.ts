import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JobStatusView } from '../../src/core/view.js';
import { aJob, fixtureJob, startTestService, type TestService, waitFor, waitForJobEnd } from './harness.js';
import { ProcessServiceFixture } from './process-service.js';

function runsIn(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('lifecycle under faults (local runtime)', function () {
  this.timeout(90_000);

  describe('deleting a batch', () => {
    let t: TestService;
    afterEach(async () => t?.close());

    it('when a slot frees while DELETE waits for a running job to stop, none of the batch\'s waiting jobs starts, and nothing of it runs after the answer', async () => {
      t = await startTestService({ env: { JOB_SCHEDULER_MAX_RUNNING: '2', JOB_SCHEDULER_KILL_GRACE_SECONDS: '3' } });
      const runs = path.join(t.dataDir, 'runs.txt');
      // Another batch's job holds one slot and ends by itself while the DELETE below waits.
      const other = await t.request.post('/api/v1/jobs').send(aJob({ appendTo: runs, sleeps: [1] })).expect(200);
      const jobs = [aJob({ appendTo: runs, sleeps: [30], ignoreTerm: true }), ...Array.from({ length: 3 }, () => aJob({ appendTo: runs, sleeps: [30] }))];
      const created = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).expect(200);
      const first = created.body.jobStatuses[0].name as string;
      await waitFor(async () => runsIn(runs), (names) => names.includes(first) && names.includes(other.body.name));

      await t.request.delete(`/api/v1/batches/${created.body.name}`).expect(200);
      await t.request.get(`/api/v1/batches/${created.body.name}`).expect(404);
      assert.equal((await waitForJobEnd(t.request, other.body.name)).status, 'Succeeded');
      // A job started by the freed slot writes its name at once; give the queue a few turns to try.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(runsIn(runs).sort(), [first, other.body.name].sort(), 'only the two running jobs ever ran');
      assert.equal(existsSync(path.join(t.dataDir, 'jobs', first)), false);
    });

    it('when a batch is deleted while others wait, the slot goes to the next batch\'s job', async () => {
      t = await startTestService({ env: { JOB_SCHEDULER_MAX_RUNNING: '1', JOB_SCHEDULER_KILL_GRACE_SECONDS: '1' } });
      const doomed = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob({ sleeps: [30] }), aJob({ sleeps: [30] })] }).expect(200);
      const next = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
      await waitFor(async () => (await t.request.get(`/api/v1/batches/${doomed.body.name}`)).body.status, (s) => s === 'Running');
      await t.request.delete(`/api/v1/batches/${doomed.body.name}`).expect(200);
      assert.equal((await waitForJobEnd(t.request, next.body.name)).status, 'Succeeded');
    });
  });

  describe('time limits', () => {
    let t: TestService;
    afterEach(async () => t?.close());

    it('when timeLimitSeconds is above what one Node timer can hold (2,147,483 s), the job runs and succeeds', async () => {
      t = await startTestService();
      const created = await t.request.post('/api/v1/jobs').send(aJob({ sleeps: [0.3] }, { timeLimitSeconds: 31_536_000 })).expect(200);
      const ended = await waitForJobEnd(t.request, created.body.name);
      assert.equal(ended.status, 'Succeeded', ended.message);
    });

    it('when a job runs past a short time limit, it is ended with DeadlineExceeded', async () => {
      t = await startTestService();
      const created = await t.request.post('/api/v1/jobs').send(aJob({ sleeps: [30] }, { timeLimitSeconds: 1 })).expect(200);
      const ended = await waitForJobEnd(t.request, created.body.name);
      assert.equal(ended.status, 'Failed');
      assert.equal(ended.podStatuses[0]!.reason, 'DeadlineExceeded');
    });
  });

  describe('restarts with the default backoffLimit (0)', () => {
    let fixture: ProcessServiceFixture;
    beforeEach(() => {
      fixture = new ProcessServiceFixture('lifecycle', { name: 'compute', command: [process.execPath, fixtureJob] });
    });
    afterEach(() => fixture.cleanUp());

    it('when the component says safeToRestart: false, an attempt interrupted by a SIGKILL restart counts, and with backoffLimit 0 the job fails', async () => {
      const unsafe = new ProcessServiceFixture('unsafe', { name: 'compute', command: [process.execPath, fixtureJob], safeToRestart: false });
      try {
        const first = await unsafe.start();
        const created = await first.request.post('/api/v1/jobs').send(aJob({ sleeps: [30] })).expect(200);
        await waitFor(async () => (await first.request.get(`/api/v1/jobs/${created.body.name}`)).body.status, (s) => s === 'Running');
        first.child.kill('SIGKILL');
        await new Promise((resolve) => first.child.once('exit', resolve));
        const second = await unsafe.start();
        const ended = await waitForJobEnd(second.request, created.body.name);
        assert.equal(ended.status, 'Failed');
        assert.equal(ended.failed, 1);
        assert.equal(ended.podStatuses[0]!.reason, 'Interrupted');
        second.child.kill('SIGTERM');
        await new Promise((resolve) => second.child.once('exit', resolve));
      } finally {
        unsafe.cleanUp();
      }
    });

    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      it(`when the service gets ${signal} while 2 s jobs run, every job still ends Succeeded, after at most one interrupted attempt`, async () => {
        const runs = path.join(fixture.dir, 'runs.txt');
        writeFileSync(runs, '');
        const first = await fixture.start({ JOB_SCHEDULER_MAX_RUNNING: '4', JOB_SCHEDULER_KILL_GRACE_SECONDS: '2' });
        const created = await first.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 6 }, () => aJob({ appendTo: runs, sleeps: [2] })) }).expect(200);
        await waitFor(async () => (await first.request.get(`/api/v1/batches/${created.body.name}`)).body.jobStatuses as JobStatusView[], (jobs) => jobs.filter((j) => j.status === 'Running').length === 4);
        const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)));
        first.child.kill(signal);
        const code = await exited;
        if (signal === 'SIGTERM') {
          assert.equal(code, 0);
          assert.deepEqual(fixture.ownJobProcesses(), [], 'a graceful shutdown ends its jobs');
        }

        const second = await fixture.start();
        const batch = await waitFor(async () => (await second.request.get(`/api/v1/batches/${created.body.name}`)).body, (b) => ['Succeeded', 'Failed'].includes(b.status), 60_000);
        for (const job of batch.jobStatuses as JobStatusView[]) {
          assert.equal(job.status, 'Succeeded', `${job.name}: ${job.message ?? ''}`);
          assert.equal(job.failed, 0);
          const interrupted = job.podStatuses.filter((p) => p.reason === 'Interrupted');
          assert.ok(interrupted.length <= 1, `${job.name} was interrupted ${interrupted.length} times`);
          assert.equal(job.podStatuses.length, interrupted.length + 1);
        }
        second.child.kill('SIGTERM');
        await new Promise((resolve) => second.child.once('exit', resolve));
      });
    }
  });
});
