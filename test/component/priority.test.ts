import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root, startTestService, type TestService, waitFor } from './harness.js';

const gatedJob = path.join(root, 'test/fixtures/gated-job.mjs');

/** Jobs run test/fixtures/gated-job.mjs: each records its start and runs until the test releases it. */
class Gates {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-gates-'));

  starts(): string[] {
    const file = path.join(this.dir, 'starts');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }

  async waitForStarts(count: number): Promise<string[]> {
    return waitFor(async () => this.starts(), (starts) => starts.length >= count);
  }

  /** Ends one running job and answers the job that starts in the slot it frees. */
  async releaseAndSeeNext(name: string): Promise<string> {
    const before = this.starts().length;
    writeFileSync(path.join(this.dir, name), '');
    return (await this.waitForStarts(before + 1))[before]!;
  }

  /** The job started first among those still running (nothing else was released). */
  oldestRunning(released: ReadonlySet<string>): string {
    return this.starts().find((name) => !released.has(name))!;
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('priority and fair order on the local runtime', function () {
  this.timeout(60_000);
  let t: TestService | undefined;
  let gates: Gates;

  beforeEach(() => {
    gates = new Gates();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    gates.close();
  });

  /** The service with the default cap (the number of CPUs: 2 here). */
  async function start(dataDir?: string): Promise<TestService> {
    const service = await startTestService({
      component: { command: [process.execPath, gatedJob], variables: { GATE_DIR: gates.dir } },
      env: { JOB_SCHEDULER_MAX_RUNNING: '' },
      ...(dataDir ? { dataDir } : {}),
    });
    assert.equal(service.config.maxRunning, 2);
    return service;
  }

  /** Releases the oldest running job `count` times, answering the jobs that started in the freed slots. */
  async function nextStarts(count: number): Promise<string[]> {
    const released = new Set<string>();
    const next: string[] = [];
    for (let i = 0; i < count; i++) {
      const oldest = gates.oldestRunning(released);
      released.add(oldest);
      next.push(await gates.releaseAndSeeNext(oldest));
    }
    return next;
  }

  it('when a single job is posted behind a 1,000-job batch, it starts within the next two free slots', async () => {
    t = await start();
    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 1000 }, () => ({})) }).expect(200);
    const batchJobs = (batch.body.jobStatuses as Array<{ name: string }>).map((job) => job.name);
    assert.deepEqual(new Set(await gates.waitForStarts(2)), new Set(batchJobs.slice(0, 2)), 'the first two jobs of the batch started together');
    const single = await t.request.post('/api/v1/jobs').send({}).expect(200);
    assert.equal('priority' in single.body, false);

    const next = await nextStarts(2);

    assert.deepEqual(next, [batchJobs[2], single.body.name], 'the batch and the single jobs take turns');
    assert.equal((await t.request.get(`/api/v1/jobs/${single.body.name}`).expect(200)).body.status === 'Waiting', false);
  });

  it('when higher-priority jobs are posted while others wait, they start first; equal priorities take turns; the order survives a restart', async () => {
    t = await start();
    const low = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 6 }, () => ({})) }).expect(200);
    const b = (low.body.jobStatuses as Array<{ name: string }>).map((job) => job.name);
    await gates.waitForStarts(2);
    const single = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body.name as string;
    const high = await t.request.post('/api/v1/batches').send({ priority: 5, jobScheduleDescriptions: [{}, {}, { priority: -1 }] }).expect(200);
    const h = (high.body.jobStatuses as Array<{ name: string; priority?: number }>);
    assert.deepEqual(h.map((job) => job.priority), [5, 5, -1]);
    const urgent = await t.request.post('/api/v1/jobs').send({ priority: 10 }).expect(200);
    assert.equal(urgent.body.priority, 10);

    // Restarted with every one of them still waiting: the order is rebuilt from the store.
    await t.close({ keepData: true });
    const dataDir = t.dataDir;
    t = undefined;
    rmSync(path.join(gates.dir, 'starts'));
    t = await start(dataDir);
    const resumed = await gates.waitForStarts(2);
    assert.deepEqual(new Set(resumed), new Set(b.slice(0, 2)), 'the interrupted jobs run again first');
    assert.equal((await t.request.get(`/api/v1/jobs/${urgent.body.name}`).expect(200)).body.priority, 10);

    const next = await nextStarts(9);

    assert.deepEqual(next, [urgent.body.name, h[0]!.name, h[1]!.name, b[2], single, b[3], b[4], b[5], h[2]!.name]);
  });

  it('when a priority is out of bounds, answers 400 naming the field; a streamed batch carries priorities as a JSON one does', async () => {
    t = await start();
    const job = await t.request.post('/api/v1/jobs').send({ priority: 1001 }).expect(400);
    assert.match(job.body.message, /priority/);
    const batch = await t.request.post('/api/v1/batches').send({ priority: -1001, jobScheduleDescriptions: [{}] }).expect(400);
    assert.match(batch.body.message, /priority/);
    const line = await t.request.post('/api/v1/batches').set('Content-Type', 'application/x-ndjson').send('{}\n{"priority":2.5}\n').expect(400);
    assert.match(line.body.message, /line 2.*priority/);
    const streamed = await t.request.post('/api/v1/batches').set('Content-Type', 'application/x-ndjson').send('{"priority":3}\n{}\n{"priority":-2}\n').expect(200);
    const jobs = (await t.request.get(`/api/v1/batches/${streamed.body.name}`).expect(200)).body.jobStatuses as Array<{ priority?: number }>;
    assert.deepEqual(jobs.map((j) => j.priority), [3, -2]);
    const settings = (await t.request.get(`/api/v1/jobs/${(jobs[0] as { name: string }).name}/settings`).expect(200)).body.settings;
    assert.equal(settings.priority, 3);
  });
});
