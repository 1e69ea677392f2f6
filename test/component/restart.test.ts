import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isRunning } from '../../src/runtimes/local/processes.js';
import { aJob, fixtureJob, waitFor } from './harness.js';
import { ProcessServiceFixture } from './process-service.js';

describe('restart after SIGKILL', function () {
  this.timeout(120_000);
  let fixture: ProcessServiceFixture;
  before(() => {
    fixture = new ProcessServiceFixture('restart', { name: 'compute', command: [process.execPath, fixtureJob], backoffLimit: 3 });
  });
  after(() => fixture.cleanUp());

  it('when the service is killed partway through 200 jobs, a new instance ends all of them: none lost, none finished run again, no old process left', async () => {
    const runs = path.join(fixture.dir, 'runs.txt');
    writeFileSync(runs, '');
    const first = await fixture.start();
    // Two jobs outlive the first instance (60 s on their first attempt): the second must end them.
    const jobs = Array.from({ length: 200 }, (_, i) => aJob({ appendTo: runs, sleeps: i < 2 ? [60, 0.05] : [0.05] }));
    const created = await first.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).expect(200);
    const batch = created.body.name as string;

    const before = await waitFor(() => first.request.get(`/api/v1/batches/${batch}`), (r) => {
      const done = r.body.jobStatuses.filter((j: { status: string }) => j.status === 'Succeeded').length;
      return done >= 20 && r.body.jobStatuses.some((j: { status: string }) => j.status === 'Running');
    }, 60_000);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const succeededBefore = new Set<string>(before.body.jobStatuses
      .filter((j: { status: string }) => j.status === 'Succeeded').map((j: { name: string }) => j.name));
    const leftovers = fixture.ownJobProcesses();
    assert.ok(leftovers.length >= 2, 'the long jobs outlived the killed instance');

    const second = await fixture.start();
    for (const pid of leftovers) assert.equal(isRunning(pid), false, `process ${pid} of the old instance is still running`);
    const after = await waitFor(() => second.request.get(`/api/v1/batches/${batch}`), (r) => r.body.status === 'Succeeded', 90_000);

    const runCounts = new Map<string, number>();
    for (const name of readFileSync(runs, 'utf8').split('\n').filter(Boolean)) runCounts.set(name, (runCounts.get(name) ?? 0) + 1);
    assert.equal(after.body.jobStatuses.length, 200);
    for (const job of after.body.jobStatuses as Array<{ name: string; status: string; podStatuses: unknown[] }>) {
      assert.equal(job.status, 'Succeeded', job.name);
      const count = runCounts.get(job.name) ?? 0;
      assert.ok(count >= 1, `${job.name} never ran`);
      assert.ok(count <= job.podStatuses.length, `${job.name} ran ${count} times in ${job.podStatuses.length} attempts`);
      if (succeededBefore.has(job.name)) assert.equal(count, 1, `${job.name} had succeeded before the kill and ran again`);
    }
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.once('exit', resolve));
  });
});
