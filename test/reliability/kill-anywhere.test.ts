import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JobStatusView } from '../../src/core/view.js';
import { aJob, fixtureJob, waitFor } from '../component/harness.js';
import { ProcessServiceFixture } from '../component/process-service.js';
import { KeyedClient } from './keyed-submits.js';
import { sizes } from './sizes.js';

describe('reliability: killed anywhere', function () {
  this.timeout(sizes.testTimeoutMs);
  let fixture: ProcessServiceFixture;
  before(() => {
    // The default backoffLimit (0): an attempt the service's own death interrupted must not count against a job.
    fixture = new ProcessServiceFixture('kill', { name: 'compute', command: [process.execPath, fixtureJob] });
  });
  after(() => fixture.cleanUp());

  it(`when the service is SIGKILLed at a random moment ${sizes.killRounds} times, every accepted job ends, none is missing, none that succeeded ran again, no end once answered was taken back, and no idempotency key answered two batches`, async () => {
    const runs = path.join(fixture.dir, 'runs.txt');
    writeFileSync(runs, '');
    const accepted = new Map<string, string>(); // job name → batch name
    const answeredEnds = new Map<string, { status: string; attempts: number }>();
    // Meanwhile a client retries its idempotent submissions: their batches obey the same rules, and each key has one.
    const keyed = new KeyedClient(runs);
    for (let round = 0; round < sizes.killRounds; round++) {
      const service = await fixture.start({ JOB_SCHEDULER_MAX_RUNNING: '4' });
      const jobs = Array.from({ length: 15 }, () => aJob({ appendTo: runs, sleeps: [Math.random() * 0.3] }));
      const killAt = Math.random() * 1500;
      const killed = new Promise<void>((resolve) => setTimeout(() => {
        service.child.kill('SIGKILL');
        service.child.once('exit', () => resolve());
      }, killAt));
      const retrying = keyed.retryUntilExit(service, round);
      // The batch may be answered, or lost with the process before it was answered (then it was never accepted).
      const answer = await service.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).then((r) => r, () => undefined);
      if (answer?.status === 200) for (const job of answer.body.jobStatuses as JobStatusView[]) accepted.set(job.name, answer.body.name);
      // A client following the batch until the kill: every end it is answered must hold after every restart.
      let dead = false;
      const following = (async () => {
        while (answer?.status === 200 && !dead) {
          const read = await service.request.get(`/api/v1/batches/${answer.body.name}`).then((r) => r, () => undefined);
          for (const job of (read?.status === 200 ? read.body.jobStatuses : []) as JobStatusView[]) {
            if (['Succeeded', 'Failed'].includes(job.status)) answeredEnds.set(job.name, { status: job.status, attempts: job.podStatuses.length });
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      await killed;
      dead = true;
      await following;
      await retrying;
    }
    const last = await fixture.start({ JOB_SCHEDULER_MAX_RUNNING: '8' });
    await keyed.retryAll(last);
    keyed.assertOneBatchPerKey((await last.request.get('/api/v1/batches').expect(200)).body);
    for (const [job, batch] of keyed.jobs) accepted.set(job, batch);
    const batches = [...new Set(accepted.values())];
    const states = new Map<string, JobStatusView>();
    for (const batch of batches) {
      const ended = await waitFor(async () => (await last.request.get(`/api/v1/batches/${batch}`).expect(200)).body, (b) => ['Succeeded', 'Failed'].includes(b.status), 120_000);
      for (const job of ended.jobStatuses as JobStatusView[]) states.set(job.name, job);
    }
    const runCounts = new Map<string, number>();
    for (const name of readFileSync(runs, 'utf8').split('\n').filter(Boolean)) runCounts.set(name, (runCounts.get(name) ?? 0) + 1);
    assert.ok(accepted.size > 0);
    for (const name of accepted.keys()) {
      const job = states.get(name);
      assert.ok(job, `${name} was accepted and is missing`);
      assert.equal(job.status, 'Succeeded', `${name}: ${job.status} ${job.message ?? ''}`);
      assert.equal(job.failed, 0, `${name}: an interrupted attempt was counted as failed`);
      assert.ok(job.podStatuses.slice(0, -1).every((attempt) => attempt.reason === 'Interrupted'), `${name}: an attempt before the last ended other than Interrupted`);
      const count = runCounts.get(name) ?? 0;
      assert.ok(count >= 1, `${name} never ran`);
      assert.ok(count <= job.podStatuses.length, `${name} ran ${count} times in ${job.podStatuses.length} recorded attempts`);
      assert.equal(job.podStatuses.at(-1)!.exitCode, 0);
      assert.ok(job.podStatuses.slice(0, -1).every((attempt) => attempt.exitCode !== 0), `${name} ran again after it succeeded`);
    }
    // An end once answered is never taken back: not another status, and no attempt after it.
    for (const [name, answered] of answeredEnds) {
      const job = states.get(name)!;
      assert.deepEqual({ status: job.status, attempts: job.podStatuses.length }, answered, `${name} was answered ${answered.status} after ${answered.attempts} attempts before a SIGKILL`);
    }
    last.child.kill('SIGTERM');
    await new Promise((resolve) => last.child.once('exit', resolve));
  });
});
