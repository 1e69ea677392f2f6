import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isRunning } from '../../src/runtimes/local/processes.js';
import { aJob, fixtureJob, startTestService, type TestService, waitFor, waitForJobEnd } from './harness.js';
import { ProcessServiceFixture } from './process-service.js';

/** The pids of the spawners the runtime said it started, in order (its own log: nothing is scanned). */
function spawnerPids(t: TestService): number[] {
  return t.logs.map((line) => JSON.parse(line) as { message?: string; pid?: number })
    .filter((entry) => entry.message === 'spawner started').map((entry) => entry.pid!);
}

/** The pids the fixture job wrote for its attempts, and the one of the child it left in its group. */
function jobPids(t: TestService, jobName: string): { attempts: number[]; child: number } {
  const dir = path.join(t.dataDir, 'jobs', jobName);
  return {
    attempts: readFileSync(path.join(dir, 'pids'), 'utf8').split('\n').filter(Boolean).map(Number),
    child: Number(readFileSync(path.join(dir, 'child.pid'), 'utf8')),
  };
}

async function runningBatch(t: TestService, jobs: number): Promise<string[]> {
  const descriptions = Array.from({ length: jobs }, () => aJob({ sleeps: [60, 0], spawnChild: true }));
  const created = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: descriptions }).expect(200);
  const batch = await waitFor(() => t.request.get(`/api/v1/batches/${created.body.name}`),
    (r) => r.body.jobStatuses?.length === jobs && r.body.jobStatuses.every((job: { status: string }) => job.status === 'Running'));
  const names = (batch.body.jobStatuses as Array<{ name: string }>).map((job) => job.name);
  // Running is recorded once the spawner reported the pid; the fixture writes its files a moment later.
  await waitFor(async () => names.every((name) => { try { return jobPids(t, name).child > 0; } catch { return false; } }), Boolean);
  return names;
}

describe('the spawner of the local runtime', function () {
  let t: TestService;
  afterEach(async () => t?.close());

  it('when the spawner is SIGKILLed while jobs run, their processes are ended, they run again and end Succeeded (default backoffLimit)', async () => {
    t = await startTestService({ captureLogs: true });
    const names = await runningBatch(t, 2);
    const [spawner] = spawnerPids(t);
    const first = names.map((name) => jobPids(t, name));
    assert.ok(spawner !== undefined && first.every(({ attempts }) => attempts.length === 1));

    process.kill(spawner, 'SIGKILL');

    for (const name of names) {
      const ended = await waitForJobEnd(t.request, name);
      assert.equal(ended.status, 'Succeeded');
      assert.equal(ended.failed, 0, 'an attempt the service lost does not count toward backoffLimit');
      assert.deepEqual(ended.podStatuses.map((p) => [p.reason, p.replicaStatus.status]), [['Interrupted', 'Failed'], ['Completed', 'Succeeded']]);
    }
    for (const { attempts, child } of first) {
      assert.equal(isRunning(attempts[0]!), false, 'the lost attempt was ended');
      assert.equal(isRunning(child), false, 'and what it left in its process group');
    }
    const spawners = spawnerPids(t);
    assert.equal(spawners.length, 2, 'a new spawner started the attempts that followed');
    assert.notEqual(spawners[1], spawner);
    assert.ok(t.logs.some((line) => line.includes('"the spawner ended; its unfinished attempts are ended and run again"')));
    // Its lines (and those of the jobs it reports on) belong to no request, not to the one that first started a job.
    const started = t.logs.map((line) => JSON.parse(line) as { message?: string; requestId?: string }).filter((entry) => entry.message === 'spawner started');
    assert.deepEqual(started.map((entry) => entry.requestId), [undefined, undefined]);
  });

  it('when the component is not safe to restart, an attempt lost with the spawner counts, and with backoffLimit 0 the job Failed', async () => {
    t = await startTestService({ captureLogs: true, component: { safeToRestart: false } });
    const [name] = await runningBatch(t, 1);
    process.kill(spawnerPids(t)[0]!, 'SIGKILL');
    const ended = await waitForJobEnd(t.request, name!);
    assert.equal(ended.status, 'Failed');
    assert.equal(ended.podStatuses.length, 1);
    assert.equal(ended.podStatuses[0]?.reason, 'Interrupted');
    assert.match(ended.message ?? '', /BackoffLimitExceeded/);
    // The service goes on: the next job runs on a new spawner.
    const next = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    assert.equal((await waitForJobEnd(t.request, next.body.name)).status, 'Succeeded');
  });

  it('when a job is stopped before the spawner has started it, its process is ended as soon as it starts, and it ends Stopped', async () => {
    t = await startTestService({ captureLogs: true });
    const first = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await waitForJobEnd(t.request, first.body.name);
    const [spawner] = spawnerPids(t);
    // A paused spawner holds the request: the attempt is recorded, its process not started yet.
    process.kill(spawner!, 'SIGSTOP');
    let name: string;
    try {
      const created = await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 })).expect(200);
      name = created.body.name;
      await waitFor(() => t.request.get(`/api/v1/jobs/${name}`), (r) => r.body.podStatuses?.length === 1);
      await t.request.post(`/api/v1/jobs/${name}/stop`).expect(200);
    } finally {
      process.kill(spawner!, 'SIGCONT');
    }
    const ended = await waitForJobEnd(t.request, name);
    assert.equal(ended.status, 'Stopped');
    assert.equal(ended.podStatuses[0]?.reason, 'Stopped');
    assert.equal(ended.podStatuses[0]?.exitCode, 143, 'ended by the SIGTERM the stop asked for');
  });

  it('when the spawner hangs (SIGSTOP), the service still shuts down, and the spawner is ended', async () => {
    const service = await startTestService({ captureLogs: true });
    const created = await service.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await waitForJobEnd(service.request, created.body.name);
    const [spawner] = spawnerPids(service);
    process.kill(spawner!, 'SIGSTOP');

    await service.close();

    assert.equal(isRunning(spawner!), false);
  });

  it('when the command is not executable, the attempt fails with StartError saying EACCES', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-spawner-'));
    try {
      const program = path.join(dir, 'program');
      writeFileSync(program, '#!/bin/sh\nexit 0\n');
      chmodSync(program, 0o644);
      t = await startTestService({ component: { command: [program] } });
      const created = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
      const ended = await waitForJobEnd(t.request, created.body.name);
      assert.equal(ended.status, 'Failed');
      assert.equal(ended.podStatuses[0]?.reason, 'StartError');
      assert.match(ended.message ?? '', /EACCES/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the service is SIGKILLed, its spawner exits and the job runs on until the next start ends it and runs it again', async () => {
    const fixture = new ProcessServiceFixture('spawner', { name: 'compute', command: [process.execPath, fixtureJob] });
    try {
      const service = await fixture.start();
      const spawner = new Promise<number>((resolve) => createInterface({ input: service.child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { message?: string; pid?: number };
        if (entry.message === 'spawner started') resolve(entry.pid!);
      }));
      const created = await service.request.post('/api/v1/jobs').send(aJob({ sleeps: [60, 0] })).expect(200);
      const pid = await spawner;
      await waitFor(() => service.request.get(`/api/v1/jobs/${created.body.name}`), (r) => r.body.status === 'Running');
      const [job] = await waitFor(async () => fixture.ownJobProcesses(), (pids) => pids.length === 1);

      service.child.kill('SIGKILL');

      await waitFor(async () => isRunning(pid), (running) => !running);
      assert.equal(isRunning(job!), true, 'the job process outlives the service, as before');
      const again = await fixture.start();
      const ended = await waitForJobEnd(again.request, created.body.name);
      assert.equal(ended.status, 'Succeeded');
      assert.deepEqual(ended.podStatuses.map((p) => p.reason), ['Interrupted', 'Completed']);
      assert.equal(isRunning(job!), false);
    } finally {
      fixture.cleanUp();
    }
  });
});
