import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BatchStatusView, JobStatusView } from '../../src/core/view.js';
import { aJob, fixtureJob, waitFor } from '../component/harness.js';
import { ProcessServiceFixture } from '../component/process-service.js';
import { sizes } from './sizes.js';

type Agent = Awaited<ReturnType<ProcessServiceFixture['start']>>['request'];

const ended = (batch: BatchStatusView) => batch.jobStatuses!.every((job) => ['Succeeded', 'Failed', 'Stopped'].includes(job.status));
const untilEnded = (request: Agent, name: string) =>
  waitFor(async () => (await request.get(`/api/v1/batches/${name}`).expect(200)).body as BatchStatusView, ended, 120_000);

describe('reliability: killed anywhere during restarts and copies', function () {
  this.timeout(sizes.testTimeoutMs);
  let fixture: ProcessServiceFixture;
  before(() => {
    // The default backoffLimit (0): an attempt the service's own death interrupted must not count against a job.
    fixture = new ProcessServiceFixture('kill-actions', { name: 'compute', command: [process.execPath, fixtureJob] });
  });
  after(() => fixture.cleanUp());

  it(`when the service is SIGKILLed at a random moment ${sizes.killRounds} times while a batch is restarted and copied, no answered restart or copy is lost, no copy is partial, and no job ran without its attempt on record`, async () => {
    const runs = path.join(fixture.dir, 'runs.txt');
    writeFileSync(runs, '');
    const first = await fixture.start({ JOB_SCHEDULER_MAX_RUNNING: '4' });
    const original = (await first.request.post('/api/v1/batches').send({
      jobScheduleDescriptions: Array.from({ length: 8 }, (_, i) => ({ jobId: `j${i}`, ...aJob({ appendTo: runs, sleeps: [Math.random() * 0.2] }) })),
    }).expect(200)).body as BatchStatusView;
    await untilEnded(first.request, original.name);
    first.child.kill('SIGTERM');
    await new Promise((resolve) => first.child.once('exit', resolve));

    let restartsAnswered = 0;
    const copiesAnswered = new Set<string>();
    for (let round = 0; round < sizes.killRounds; round++) {
      const service = await fixture.start({ JOB_SCHEDULER_MAX_RUNNING: '4' });
      // The jobs of an earlier round's restart may still be running again: a restart needs them ended.
      await untilEnded(service.request, original.name);
      const killed = new Promise<void>((resolve) => setTimeout(() => {
        service.child.kill('SIGKILL');
        service.child.once('exit', () => resolve());
      }, Math.random() * 400));
      // Either may be answered, or lost with the process before it was answered (then the client cannot know).
      const [restart, copy] = await Promise.all([
        service.request.post(`/api/v1/batches/${original.name}/restart`).then((r) => r, () => undefined),
        service.request.post(`/api/v1/batches/${original.name}/copy`).send({}).then((r) => r, () => undefined),
      ]);
      if (restart?.status === 200) restartsAnswered++;
      if (copy?.status === 200) copiesAnswered.add((copy.body as BatchStatusView).name);
      await killed;
    }

    const last = await fixture.start({ JOB_SCHEDULER_MAX_RUNNING: '8' });
    const batches = (await last.request.get('/api/v1/batches').expect(200)).body as BatchStatusView[];
    const copies = batches.filter((batch) => batch.name !== original.name);
    for (const name of copiesAnswered) assert.ok(copies.some((batch) => batch.name === name), `the answered copy ${name} is missing`);
    const runCounts = new Map<string, number>();
    const countRuns = () => {
      runCounts.clear();
      for (const name of readFileSync(runs, 'utf8').split('\n').filter(Boolean)) runCounts.set(name, (runCounts.get(name) ?? 0) + 1);
    };
    const originalJobs = (await untilEnded(last.request, original.name)).jobStatuses!;
    const copyJobs: JobStatusView[] = [];
    for (const copy of copies) {
      // A copy is all or nothing: every job of the original, in order, with its jobId and its payload.
      const done = await untilEnded(last.request, copy.name);
      copyJobs.push(...done.jobStatuses!);
      assert.deepEqual(done.jobStatuses!.map((job) => job.jobId), originalJobs.map((job) => job.jobId), `${copy.name} is not a whole copy`);
      for (const [i, job] of done.jobStatuses!.entries()) {
        assert.equal(job.status, 'Succeeded', `${job.name}: ${job.status} ${job.message ?? ''}`);
        const payload = (await last.request.get(`/api/v1/jobs/${job.name}/payload`).expect(200)).text;
        const theirs = (await last.request.get(`/api/v1/jobs/${originalJobs[i]!.name}/payload`).expect(200)).text;
        assert.equal(payload, theirs, `${job.name} has another payload than the job it copies`);
      }
    }
    countRuns();
    for (const job of [...originalJobs, ...copyJobs]) {
      const attempts = ((await last.request.get(`/api/v1/jobs/${job.name}`).expect(200)).body as JobStatusView).podStatuses;
      const count = runCounts.get(job.name) ?? 0;
      assert.ok(count >= 1, `${job.name} never ran`);
      // Every start is on record before its process exists: a job never runs more often than its recorded attempts.
      assert.ok(count <= attempts.length, `${job.name} ran ${count} times in ${attempts.length} recorded attempts`);
    }
    for (const job of originalJobs) {
      // Each answered restart ran each job of the batch once more (at least); earlier runs stay in podStatuses.
      assert.ok((runCounts.get(job.name) ?? 0) >= 1 + restartsAnswered, `${job.name} ran ${runCounts.get(job.name)} times after ${restartsAnswered} answered restarts`);
      assert.equal(job.status, 'Succeeded', `${job.name}: ${job.status} ${job.message ?? ''}`);
    }
    last.child.kill('SIGTERM');
    await new Promise((resolve) => last.child.once('exit', resolve));
  });
});
