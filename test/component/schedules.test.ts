import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ScheduleConfig } from '../../src/core/schedules.js';
import { FakeClock } from '../unit/fake-clock.js';
import { type JobState, startTestService, type TestService, TERMINAL, waitFor } from './harness.js';

/** A job program that runs until stopped (a minute at most), for the concurrency policies. */
const SLEEPER = [process.execPath, '-e', 'setTimeout(() => {}, 60000)'];

interface ScheduleBody {
  name: string;
  lastTick: string | null;
  lastResult: string | null;
  lastJobName: string | null;
  nextTick: string | null;
  activeJobs: string[];
}

async function runsOf(t: TestService, schedule: string): Promise<JobState[]> {
  const { body } = await t.request.get(`/api/v1/jobs?labelSelector=schedule=${schedule}`).expect(200);
  return (body as JobState[]).sort((a, b) => a.name.localeCompare(b.name));
}

async function scheduleOf(t: TestService, name: string): Promise<ScheduleBody> {
  const { body } = await t.request.get('/api/v1/schedules').expect(200);
  return (body as ScheduleBody[]).find((entry) => entry.name === name)!;
}

/** Waits until the schedule has handled `tick` (its state says so): the runner is done with that tick. */
function handled(t: TestService, name: string, tick: string): Promise<ScheduleBody> {
  return waitFor(() => scheduleOf(t, name), (entry) => entry.lastTick === tick);
}

describe('cron schedules on the local runtime', function () {
  this.timeout(60_000);
  const open: TestService[] = [];
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });

  async function start(schedules: ScheduleConfig[], clock: FakeClock, options: { dataDir?: string; command?: string[]; captureLogs?: boolean } = {}) {
    const t = await startTestService({
      component: { schedules, ...(options.command ? { command: options.command } : {}) }, clock, dataDir: options.dataDir, captureLogs: options.captureLogs,
    });
    open.push(t);
    return t;
  }

  async function stop(t: TestService): Promise<void> {
    open.splice(open.indexOf(t), 1);
    await t.close({ keepData: true });
  }

  it('when a tick comes, runs one single job labelled with the schedule, named after the tick, without payload', async () => {
    const clock = new FakeClock('2026-11-24T09:59:30Z');
    const t = await start([{ name: 'hourly', schedule: '0 * * * *' }], clock);
    const before = await scheduleOf(t, 'hourly');
    assert.deepEqual({ lastTick: before.lastTick, nextTick: before.nextTick }, { lastTick: null, nextTick: '2026-11-24T10:00:00.000Z' });

    clock.advance(30_000);
    const after = await handled(t, 'hourly', '2026-11-24T10:00:00.000Z');
    const runs = await runsOf(t, 'hourly');
    assert.equal(runs.length, 1);
    assert.match(runs[0]!.name, /^batch-compute-20261124100000-[a-z0-9]{8}-[a-z0-9]{8}$/);
    assert.equal(after.lastJobName, runs[0]!.name);
    assert.equal(after.lastResult, 'Started');
    assert.equal(after.nextTick, '2026-11-24T11:00:00.000Z');
    const ended = await waitFor(() => t.request.get(`/api/v1/jobs/${runs[0]!.name}`), (r) => TERMINAL.includes(r.body.status));
    assert.equal(ended.body.status, 'Succeeded');
    assert.deepEqual(ended.body.labels, { schedule: 'hourly' });
    const payload = await t.request.get(`/api/v1/jobs/${runs[0]!.name}/payload`);
    assert.equal(payload.text ?? '', '');
  });

  it('when the service was down over several ticks, runs only the latest of them, and none past its starting deadline', async () => {
    const clock = new FakeClock('2026-11-24T09:59:30Z');
    const schedules = [{ name: 'hourly', schedule: '0 * * * *' }, { name: 'strict', schedule: '0 * * * *', startingDeadlineSeconds: 600 }];
    const first = await start(schedules, clock);
    clock.advance(30_000);
    await handled(first, 'hourly', '2026-11-24T10:00:00.000Z');
    await handled(first, 'strict', '2026-11-24T10:00:00.000Z');
    await stop(first);

    clock.advanceTo('2026-11-24T13:29:30Z');
    const second = await start(schedules, clock, { dataDir: first.dataDir });
    await handled(second, 'hourly', '2026-11-24T13:00:00.000Z');
    const strict = await handled(second, 'strict', '2026-11-24T13:00:00.000Z');

    const hourly = await runsOf(second, 'hourly');
    assert.deepEqual(hourly.map((run) => run.name.slice(14, 28)), ['20261124100000', '20261124130000']);
    assert.equal(strict.lastResult, 'Missed');
    assert.equal((await runsOf(second, 'strict')).length, 1);
  });

  it('when an earlier run has not ended, Forbid skips the tick (in its state and the log), and runs again once it has', async () => {
    const clock = new FakeClock('2026-11-24T10:00:30Z');
    const t = await start([{ name: 'forbid', schedule: '* * * * *', concurrencyPolicy: 'Forbid' }], clock, { command: SLEEPER, captureLogs: true });
    clock.advance(30_000);
    const [first] = await waitFor(() => runsOf(t, 'forbid'), (runs) => runs.length === 1 && runs[0]!.status === 'Running');

    clock.advance(60_000);
    const skipped = await handled(t, 'forbid', '2026-11-24T10:02:00.000Z');
    assert.equal(skipped.lastResult, 'Skipped');
    assert.deepEqual(skipped.activeJobs, [first!.name]);
    assert.equal((await runsOf(t, 'forbid')).length, 1);
    assert.ok(t.logs.some((line) => line.includes('schedule tick skipped') && line.includes('"schedule":"forbid"')), 'the skip is logged');

    await t.request.post(`/api/v1/jobs/${first!.name}/stop`).expect(200);
    await waitFor(() => t.request.get(`/api/v1/jobs/${first!.name}`), (r) => r.body.status === 'Stopped');
    clock.advance(60_000);
    const started = await handled(t, 'forbid', '2026-11-24T10:03:00.000Z');
    assert.equal(started.lastResult, 'Started');
    assert.equal((await runsOf(t, 'forbid')).length, 2);
  });

  it('when an earlier run has not ended, Replace stops it and starts the new one', async () => {
    const clock = new FakeClock('2026-11-24T10:00:30Z');
    const t = await start([{ name: 'replace', schedule: '* * * * *', concurrencyPolicy: 'Replace' }], clock, { command: SLEEPER });
    clock.advance(30_000);
    const [first] = await waitFor(() => runsOf(t, 'replace'), (runs) => runs.length === 1 && runs[0]!.status === 'Running');

    clock.advance(60_000);
    await handled(t, 'replace', '2026-11-24T10:02:00.000Z');
    const runs = await waitFor(() => runsOf(t, 'replace'), (list) => list.length === 2 && list[0]!.status === 'Stopped' && list[1]!.status === 'Running');
    assert.equal(runs[0]!.name, first!.name);
    assert.deepEqual((await scheduleOf(t, 'replace')).activeJobs, [runs[1]!.name]);
  });

  it('when a client\'s own job carries the schedule\'s label, it is not taken for a run: Replace neither stops it nor lists it, and the tick starts', async () => {
    const clock = new FakeClock('2026-11-24T10:00:30Z');
    const t = await start([{ name: 'replace', schedule: '* * * * *', concurrencyPolicy: 'Replace' }], clock, { command: SLEEPER });
    const own = (await t.request.post('/api/v1/jobs').send({ labels: { schedule: 'replace' } }).expect(200)).body.name as string;
    await waitFor(() => t.request.get(`/api/v1/jobs/${own}`), (r) => r.body.status === 'Running');

    clock.advance(30_000);
    const entry = await handled(t, 'replace', '2026-11-24T10:01:00.000Z');
    assert.equal(entry.lastResult, 'Started');
    assert.notEqual(entry.lastJobName, own);
    await waitFor(() => t.request.get(`/api/v1/jobs/${entry.lastJobName!}`), (r) => r.body.status === 'Running');
    assert.deepEqual((await scheduleOf(t, 'replace')).activeJobs, [entry.lastJobName]);
    assert.equal((await t.request.get(`/api/v1/jobs/${own}`).expect(200)).body.status, 'Running', 'the client\'s job was not stopped');
  });

  it('when the service closes as a tick is being submitted, a new instance at the same time starts no second job for it', async () => {
    const clock = new FakeClock('2026-11-24T09:59:30Z');
    const schedules = [{ name: 'hourly', schedule: '0 * * * *' }];
    const first = await start(schedules, clock);
    clock.advance(30_000);
    // The tick's submission begins on the next microtask: the close starts in the same turn.
    await stop(first);

    const second = await start(schedules, clock, { dataDir: first.dataDir });
    await handled(second, 'hourly', '2026-11-24T10:00:00.000Z');
    assert.equal((await runsOf(second, 'hourly')).length, 1);
  });

  it('when the service died after a tick\'s job was recorded but before the schedule\'s state was, a new instance finds the job and starts no second one', async () => {
    const clock = new FakeClock('2026-11-24T09:59:30Z');
    const schedules = [{ name: 'hourly', schedule: '0 * * * *' }];
    const first = await start(schedules, clock);
    const store = path.join(first.dataDir, 'scheduler.db');
    await stop(first);
    const before = readState(store);

    const second = await start(schedules, clock, { dataDir: first.dataDir });
    clock.advance(30_000);
    const [run] = await waitFor(() => runsOf(second, 'hourly'), (runs) => runs.length === 1);
    await handled(second, 'hourly', '2026-11-24T10:00:00.000Z');
    await stop(second);
    // The state as it was before the tick: what a kill between the two writes leaves.
    writeState(store, before);

    const third = await start(schedules, clock, { dataDir: first.dataDir });
    const state = await handled(third, 'hourly', '2026-11-24T10:00:00.000Z');
    assert.equal(state.lastJobName, run!.name);
    assert.deepEqual((await runsOf(third, 'hourly')).map((job) => job.name), [run!.name]);
  });
});

function readState(file: string): string {
  const db = new Database(file);
  try {
    return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('schedule:hourly') as string;
  } finally {
    db.close();
  }
}

function writeState(file: string, value: string): void {
  const db = new Database(file);
  try {
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(value, 'schedule:hourly');
  } finally {
    db.close();
  }
}
