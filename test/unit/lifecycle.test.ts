import assert from 'node:assert/strict';
import { type Effect, INTERRUPTED_MESSAGE, type LifecycleEvent, type LifecyclePolicy, transition } from '../../src/core/lifecycle.js';
import { mergeJobSpec } from '../../src/core/merge.js';
import type { Attempt, JobRecord } from '../../src/core/model.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const policy: LifecyclePolicy = { killGraceMs: 10_000, retryDelayMs: (failed) => 1000 * 2 ** (failed - 1) };

function attempt(index: number, change: Partial<Attempt> = {}): Attempt {
  return { name: `job-${index}`, created: at(0).toISOString(), startTime: null, endTime: null, exitCode: null, reason: null, replicaStatus: 'Pending', ...change };
}

function aRecord(change: Partial<JobRecord> = {}, settings: Parameters<typeof mergeJobSpec>[0] = {}): JobRecord {
  return {
    name: 'job', batchName: 'batch', index: 0, spec: mergeJobSpec({ timeLimitSeconds: 100, ...settings }),
    status: 'Waiting', created: at(0).toISOString(), started: null, ended: null, updated: at(0).toISOString(),
    message: null, failed: 0, attempts: [], ...change,
  };
}

const started = { started: at(0).toISOString() };
const running = attempt(0, { startTime: at(0).toISOString(), replicaStatus: 'Running' });
/** Every state a job can be in, as the lifecycle sees it. */
const STATES: Record<string, JobRecord> = {
  waiting: aRecord(),
  'active, attempt pending': aRecord({ ...started, status: 'Active', attempts: [attempt(0)] }),
  'active, waiting to retry': aRecord({ ...started, status: 'Active', failed: 1, retryAt: T0 + 5000, attempts: [attempt(0, { replicaStatus: 'Failed', exitCode: 1, startTime: at(0).toISOString(), endTime: at(1).toISOString() })] }, { backoffLimit: 3 }),
  running: aRecord({ ...started, status: 'Running', attempts: [running] }),
  'running, deadline passed': aRecord({ ...started, status: 'Running', ending: 'deadline', killAt: T0 + 110_000, attempts: [running] }),
  'running, shutting down': aRecord({ ...started, status: 'Running', ending: 'shutdown', killAt: T0 + 20_000, attempts: [running] }),
  'stopping (stop)': aRecord({ ...started, status: 'Stopping', intent: 'stop', killAt: T0 + 20_000, attempts: [running] }),
  'stopping (delete)': aRecord({ ...started, status: 'Stopping', intent: 'delete', killAt: T0 + 20_000, attempts: [running] }),
  succeeded: aRecord({ ...started, status: 'Succeeded', ended: at(2).toISOString(), attempts: [attempt(0, { replicaStatus: 'Succeeded', exitCode: 0 })] }),
  failed: aRecord({ ...started, status: 'Failed', failed: 1, ended: at(2).toISOString(), attempts: [attempt(0, { replicaStatus: 'Failed', exitCode: 1 })] }),
  stopped: aRecord({ status: 'Stopped', ended: at(2).toISOString() }),
};

const EVENTS: Record<string, LifecycleEvent> = {
  start: { type: 'start' },
  spawned: { type: 'spawned' },
  withdrawn: { type: 'withdrawn' },
  'exited 0': { type: 'exited', exitCode: 0 },
  'exited 1': { type: 'exited', exitCode: 1 },
  lost: { type: 'lost' },
  tick: { type: 'tick' },
  stop: { type: 'stop' },
  delete: { type: 'delete' },
  shutdown: { type: 'shutdown' },
};

interface Expected {
  status?: JobRecord['status'];
  /** The effects' kinds (and signal names) in order. */
  effects?: string[];
  /** The last attempt's replicaStatus/reason after the event. */
  attempt?: string;
  failed?: number;
  intent?: JobRecord['intent'];
  unchanged?: true;
}

const same: Expected = { unchanged: true, effects: [] };
/** What each event does in each state, at 3 s after the start (deadline at 100 s). */
const TABLE: Record<string, Record<string, Expected>> = {
  waiting: {
    // The time limit starts with the first process (spawned), not with the start handed to the runtime.
    start: { status: 'Active', effects: ['sync', 'spawn'], attempt: 'Pending' },
    spawned: same, withdrawn: same, 'exited 0': same, 'exited 1': same, lost: same, tick: same, shutdown: same,
    stop: { status: 'Stopped', effects: ['sync'] },
    delete: { status: 'Waiting', intent: 'delete', effects: ['sync', 'remove'] },
  },
  'active, attempt pending': {
    start: same,
    spawned: { status: 'Running', effects: ['wake'], attempt: 'Running' },
    withdrawn: { status: 'Active', effects: [], attempt: 'Failed/Interrupted', failed: 0 },
    'exited 0': { status: 'Succeeded', effects: [], attempt: 'Succeeded/Completed' },
    'exited 1': { status: 'Failed', effects: [], attempt: 'Failed/Error', failed: 1 },
    lost: { status: 'Active', effects: [], attempt: 'Failed/Interrupted', failed: 0 },
    tick: same,
    stop: { status: 'Stopping', intent: 'stop', effects: ['sync', 'signal:SIGTERM', 'wake'] },
    delete: { status: 'Stopping', intent: 'delete', effects: ['sync', 'signal:SIGTERM', 'wake'] },
    shutdown: { status: 'Active', effects: ['signal:SIGTERM', 'wake'] },
  },
  'active, waiting to retry': {
    start: { unchanged: true, effects: ['wake'] },
    spawned: same, withdrawn: same, 'exited 0': same, 'exited 1': same, lost: same, shutdown: same,
    tick: { unchanged: true, effects: ['wake'] },
    stop: { status: 'Stopped', effects: ['sync'] },
    delete: { status: 'Active', intent: 'delete', effects: ['sync', 'remove'] },
  },
  running: {
    start: same, spawned: same, withdrawn: same,
    'exited 0': { status: 'Succeeded', effects: [], attempt: 'Succeeded/Completed' },
    'exited 1': { status: 'Failed', effects: [], attempt: 'Failed/Error', failed: 1 },
    lost: { status: 'Active', effects: [], attempt: 'Failed/Interrupted', failed: 0 },
    tick: { unchanged: true, effects: ['wake'] },
    stop: { status: 'Stopping', intent: 'stop', effects: ['sync', 'signal:SIGTERM', 'wake'] },
    delete: { status: 'Stopping', intent: 'delete', effects: ['sync', 'signal:SIGTERM', 'wake'] },
    shutdown: { status: 'Running', effects: ['signal:SIGTERM', 'wake'] },
  },
  'running, deadline passed': {
    start: same, spawned: same, withdrawn: same,
    'exited 0': { status: 'Failed', effects: [], attempt: 'Failed/DeadlineExceeded' },
    'exited 1': { status: 'Failed', effects: [], attempt: 'Failed/DeadlineExceeded' },
    lost: { status: 'Failed', effects: [], attempt: 'Failed/Interrupted' },
    tick: { unchanged: true, effects: ['wake'] },
    stop: { status: 'Stopping', intent: 'stop', effects: ['sync', 'signal:SIGTERM', 'wake'] },
    delete: { status: 'Stopping', intent: 'delete', effects: ['sync'] },
    shutdown: same,
  },
  'running, shutting down': {
    start: same, spawned: same, withdrawn: same,
    'exited 0': { status: 'Succeeded', effects: [], attempt: 'Succeeded/Completed' },
    'exited 1': { status: 'Active', effects: [], attempt: 'Failed/Interrupted', failed: 0 },
    lost: { status: 'Active', effects: [], attempt: 'Failed/Interrupted', failed: 0 },
    tick: { unchanged: true, effects: ['wake'] },
    stop: { status: 'Stopping', intent: 'stop', effects: ['sync', 'signal:SIGTERM', 'wake'] },
    delete: { status: 'Stopping', intent: 'delete', effects: ['sync'] },
    shutdown: same,
  },
  'stopping (stop)': {
    start: same, spawned: same, withdrawn: same, stop: same, shutdown: same,
    'exited 0': { status: 'Stopped', effects: [], attempt: 'Stopped/Stopped' },
    'exited 1': { status: 'Stopped', effects: [], attempt: 'Stopped/Stopped' },
    lost: { status: 'Stopped', effects: [], attempt: 'Failed/Interrupted' },
    tick: { unchanged: true, effects: ['wake'] },
    delete: { status: 'Stopping', intent: 'delete', effects: ['sync'] },
  },
  'stopping (delete)': {
    start: same, spawned: same, withdrawn: same, stop: same, shutdown: same, delete: same,
    'exited 0': { status: 'Stopped', intent: 'delete', effects: ['remove'], attempt: 'Stopped/Stopped' },
    'exited 1': { status: 'Stopped', intent: 'delete', effects: ['remove'], attempt: 'Stopped/Stopped' },
    lost: { status: 'Stopped', intent: 'delete', effects: ['remove'], attempt: 'Failed/Interrupted' },
    tick: { unchanged: true, effects: ['wake'] },
  },
  succeeded: {
    start: same, spawned: same, withdrawn: same, 'exited 0': same, 'exited 1': same, lost: same, tick: same, stop: same, shutdown: same,
    delete: { status: 'Succeeded', intent: 'delete', effects: ['sync', 'remove'] },
  },
  failed: {
    start: same, spawned: same, withdrawn: same, 'exited 0': same, 'exited 1': same, lost: same, tick: same, stop: same, shutdown: same,
    delete: { status: 'Failed', intent: 'delete', effects: ['sync', 'remove'] },
  },
  stopped: {
    start: same, spawned: same, withdrawn: same, 'exited 0': same, 'exited 1': same, lost: same, tick: same, stop: same, shutdown: same,
    delete: { status: 'Stopped', intent: 'delete', effects: ['sync', 'remove'] },
  },
};

function kinds(effects: Effect[]): string[] {
  return effects.map((effect) => (effect.kind === 'signal' ? `signal:${effect.signal}` : effect.kind));
}

describe('job lifecycle', () => {
  it('the table names every (state, event) pair', () => {
    for (const state of Object.keys(STATES)) {
      for (const event of Object.keys(EVENTS)) assert.ok(TABLE[state]?.[event], `no row for ${state} × ${event}`);
    }
  });

  for (const [state, row] of Object.entries(TABLE)) {
    for (const [eventName, expected] of Object.entries(row)) {
      it(`${state} × ${eventName}`, () => {
        const before = STATES[state]!;
        const { record, effects } = transition(before, EVENTS[eventName]!, at(3), policy);
        if (expected.unchanged) assert.equal(record, before, 'the record is the same object');
        if (expected.effects) assert.deepEqual(kinds(effects), expected.effects);
        if (expected.status) assert.equal(record.status, expected.status);
        if (expected.failed !== undefined) assert.equal(record.failed, expected.failed);
        if ('intent' in expected) assert.equal(record.intent, expected.intent);
        if (expected.attempt) {
          const last = record.attempts.at(-1)!;
          const [replicaStatus, reason] = expected.attempt.split('/');
          assert.equal(last.replicaStatus, replicaStatus);
          if (reason) assert.equal(last.reason, reason);
        }
        if (['Succeeded', 'Failed', 'Stopped'].includes(record.status) && record.status !== before.status) {
          assert.equal(record.ended, at(3).toISOString());
          assert.equal(record.killAt, undefined);
        }
      });
    }
  }

  describe('a start taken back before its process existed (withdrawn)', () => {
    const pending = STATES['active, attempt pending']!;

    it('after a stop, the job is Stopped before it started, its attempt Stopped, nothing counted', () => {
      const stopping = transition(pending, { type: 'stop' }, at(1), policy).record;
      const { record, effects } = transition(stopping, { type: 'withdrawn' }, at(2), policy);
      assert.deepEqual([record.status, record.message, record.failed, record.attempts.length], ['Stopped', 'stopped before it started', 0, 1]);
      assert.deepEqual([record.attempts[0]!.replicaStatus, record.attempts[0]!.reason, record.attempts[0]!.startTime], ['Stopped', 'Stopped', null]);
      assert.deepEqual(effects, []);
    });

    it('after a delete, the job is Stopped and removed', () => {
      const deleting = transition(pending, { type: 'delete' }, at(1), policy).record;
      const { record, effects } = transition(deleting, { type: 'withdrawn' }, at(2), policy);
      assert.equal(record.status, 'Stopped');
      assert.deepEqual(kinds(effects), ['remove']);
    });

    it('at a shutdown, the job waits to start again, its attempt interrupted and not counted', () => {
      const ending = transition(pending, { type: 'shutdown' }, at(1), policy).record;
      const { record } = transition(ending, { type: 'withdrawn' }, at(2), policy);
      assert.deepEqual([record.status, record.failed, record.attempts[0]!.reason, record.attempts[0]!.counted], ['Active', 0, 'Interrupted', false]);
      assert.equal(transition(record, { type: 'start' }, at(3), policy).record.attempts.length, 2, 'the next start makes a new attempt');
    });

    it('a process that did start is not withdrawn', () => {
      const running = STATES['stopping (stop)']!;
      assert.equal(transition(running, { type: 'withdrawn' }, at(2), policy).record, running);
    });
  });

  describe('time is an input', () => {
    it('when timeLimitSeconds is a year, the job is not failed at its start, and its wake is its deadline a year ahead', () => {
      const job = aRecord({}, { timeLimitSeconds: 31_536_000 });
      const { record } = transition(job, { type: 'start' }, at(0), policy);
      assert.equal(record.status, 'Active');
      const spawned = transition(record, { type: 'spawned' }, at(0), policy);
      assert.deepEqual(spawned.effects.at(-1), { kind: 'wake', at: T0 + 31_536_000_000 });
      const later = transition(spawned.record, { type: 'tick' }, at(2_147_484), policy);
      assert.equal(later.record.status, 'Running', 'a tick past 2^31 ms changes nothing before the deadline');
      const due = transition(later.record, { type: 'tick' }, at(31_536_000), policy);
      assert.equal(due.record.ending, 'deadline');
      assert.deepEqual(kinds(due.effects), ['signal:SIGTERM', 'wake']);
    });

    it("a job's time limit counts from its first process, not from the start handed to the runtime", () => {
      const handed = transition(aRecord(), { type: 'start' }, at(0), policy).record;
      assert.equal(transition(handed, { type: 'tick' }, at(1000), policy).record, handed, 'waiting for a free process slot uses none of it');
      const spawned = transition(handed, { type: 'spawned' }, at(50), policy);
      assert.deepEqual(spawned.effects, [{ kind: 'wake', at: T0 + 150_000 }]);
      assert.equal(transition(spawned.record, { type: 'tick' }, at(149), policy).record.ending, undefined);
      assert.equal(transition(spawned.record, { type: 'tick' }, at(150), policy).record.ending, 'deadline');
    });

    it("a retry's process does not start the clock again, and a restarted run has a clock of its own", () => {
      const spec = { backoffLimit: 1 };
      const first = transition(transition(aRecord({}, spec), { type: 'start' }, at(0), policy).record, { type: 'spawned' }, at(10), policy).record;
      const failed = transition(first, { type: 'exited', exitCode: 1 }, at(20), policy).record;
      const retry = transition(failed, { type: 'tick' }, at(21), policy).record;
      const again = transition(retry, { type: 'spawned' }, at(30), policy);
      assert.deepEqual(again.effects, [], 'the deadline wake stays where the first process put it');
      assert.equal(transition(again.record, { type: 'tick' }, at(110), policy).record.ending, 'deadline');
      const ended = transition(again.record, { type: 'exited', exitCode: 0 }, at(40), policy).record;
      const restarted = transition(ended, { type: 'restart' }, at(500), policy).record;
      const rerun = transition(transition(restarted, { type: 'start' }, at(500), policy).record, { type: 'spawned' }, at(520), policy);
      assert.deepEqual(rerun.effects, [{ kind: 'wake', at: T0 + 620_000 }]);
    });

    it('when the deadline ends a running attempt, the attempt failed and counts, as the job controller counts it', () => {
      const ending = transition(STATES.running!, { type: 'tick' }, at(100), policy).record;
      const { record } = transition(ending, { type: 'exited', exitCode: 143 }, at(101), policy);
      assert.deepEqual([record.status, record.failed, record.message], ['Failed', 1, 'DeadlineExceeded: job ran longer than timeLimitSeconds (100)']);
      assert.deepEqual([record.attempts[0]!.replicaStatus, record.attempts[0]!.reason, record.attempts[0]!.exitCode], ['Failed', 'DeadlineExceeded', 143]);
    });

    it('when a failed attempt ended for a reason other than Error, the message names it', () => {
      const { record } = transition(STATES.running!, { type: 'exited', exitCode: 137, reason: 'OOMKilled' }, at(3), policy);
      assert.equal(record.message, 'BackoffLimitExceeded: job has reached the specified backoff limit (0); the last attempt ended with OOMKilled');
    });

    it('when the deadline passes while waiting to retry, the job fails with DeadlineExceeded at the tick', () => {
      const { record } = transition(STATES['active, waiting to retry']!, { type: 'tick' }, at(100), policy);
      assert.equal(record.status, 'Failed');
      assert.match(record.message!, /^DeadlineExceeded: job ran longer than timeLimitSeconds \(100\)/);
    });

    it('a retry starts at its time, not before', () => {
      const waiting = STATES['active, waiting to retry']!;
      assert.equal(transition(waiting, { type: 'tick' }, at(4.999), policy).record, waiting);
      const { record, effects } = transition(waiting, { type: 'tick' }, at(5), policy);
      assert.equal(record.attempts.length, 2);
      assert.deepEqual(kinds(effects), ['sync', 'spawn', 'wake']);
    });

    it('SIGKILL follows SIGTERM once the grace period is over, and only then', () => {
      const stopping = STATES['stopping (stop)']!;
      assert.deepEqual(kinds(transition(stopping, { type: 'tick' }, at(19), policy).effects), ['wake']);
      const due = transition(stopping, { type: 'tick' }, at(20), policy);
      assert.deepEqual(kinds(due.effects), ['signal:SIGKILL']);
      assert.equal(due.record.killAt, undefined);
    });
  });

  describe('failures and retries', () => {
    it('when an attempt fails with backoffLimit 2, it waits the retry delay, doubling, then fails on the third', () => {
      let job = transition(aRecord({}, { backoffLimit: 2 }), { type: 'start' }, at(0), policy).record;
      job = transition(job, { type: 'exited', exitCode: 3 }, at(1), policy).record;
      assert.equal(job.status, 'Active');
      assert.equal(job.retryAt, T0 + 2000);
      job = transition(job, { type: 'tick' }, at(2), policy).record;
      job = transition(job, { type: 'exited', exitCode: 3 }, at(3), policy).record;
      assert.equal(job.retryAt, T0 + 5000);
      job = transition(job, { type: 'tick' }, at(5), policy).record;
      job = transition(job, { type: 'exited', exitCode: 3 }, at(6), policy).record;
      assert.equal(job.status, 'Failed');
      assert.equal(job.failed, 3);
      assert.equal(job.message, 'BackoffLimitExceeded: job has reached the specified backoff limit (2)');
    });

    it('an interruption by the service does not count toward backoffLimit 0, and the job runs again', () => {
      const { record } = transition(STATES.running!, { type: 'lost' }, at(3), policy);
      assert.equal(record.status, 'Active');
      assert.equal(record.failed, 0);
      assert.equal(record.message, INTERRUPTED_MESSAGE);
      assert.equal(record.attempts[0]!.counted, false);
      const next = transition(record, { type: 'start' }, at(4), policy);
      assert.equal(next.record.attempts.length, 2);
    });

    it('with countInterruptions, an interruption counts and backoffLimit 0 fails the job', () => {
      const { record } = transition(STATES.running!, { type: 'lost' }, at(3), { ...policy, countInterruptions: true });
      assert.equal(record.status, 'Failed');
      assert.equal(record.failed, 1);
    });

    it('a failurePolicy Ignore rule retries without counting', () => {
      const job = aRecord({ ...started, status: 'Running', attempts: [running] }, { failurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [42] } }] } });
      const { record } = transition(job, { type: 'exited', exitCode: 42 }, at(3), policy);
      assert.equal(record.status, 'Active');
      assert.equal(record.failed, 0);
    });

    it('a start error is a counted failure whose message says why', () => {
      const { record } = transition(STATES['active, attempt pending']!, { type: 'exited', exitCode: null, reason: 'StartError', message: 'spawn ENOENT' }, at(3), policy);
      assert.equal(record.status, 'Failed');
      assert.equal(record.attempts[0]!.reason, 'StartError');
      assert.match(record.message!, /spawn ENOENT$/);
    });
  });

  describe('intent', () => {
    it('a job whose batch is being deleted never starts', () => {
      const deleting = transition(STATES.waiting!, { type: 'delete' }, at(1), policy).record;
      const { record, effects } = transition(deleting, { type: 'start' }, at(2), policy);
      assert.equal(record.attempts.length, 0);
      assert.deepEqual(kinds(effects), ['remove']);
    });

    it('a stop recorded before a crash is honoured at the restart: the lost attempt ends the job Stopped', () => {
      const { record } = transition(STATES['stopping (stop)']!, { type: 'lost' }, at(3), policy);
      assert.equal(record.status, 'Stopped');
      assert.equal(record.intent, undefined);
    });

    it('the note of unenforced settings is in the message of the first attempt and of the end', () => {
      const noted: LifecyclePolicy = { ...policy, note: () => 'not enforced by the local runtime: image' };
      const startedJob = transition(STATES.waiting!, { type: 'start' }, at(0), noted).record;
      assert.equal(startedJob.message, 'not enforced by the local runtime: image');
      const ended = transition(startedJob, { type: 'exited', exitCode: 0 }, at(1), noted).record;
      assert.equal(ended.message, 'not enforced by the local runtime: image');
    });
  });
});

describe('job lifecycle on Kubernetes (observed)', () => {
  const T = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
  const base = STATES.waiting!;
  const launched = { launched: true, stoppedAt: null, outcome: null };
  const aJob = (change: Record<string, unknown> = {}) => ({ exists: true, seen: true, created: T(1), suspended: false, stoppedAt: null, startTime: T(1), failedCount: 0, active: 1, conditionTimes: [], ...change });
  const observe = (observation: Omit<Parameters<typeof transition>[1] & { type: 'observed' }, 'type'>['observation']) =>
    transition(base, { type: 'observed', observation }, at(20), policy);

  it('when nothing of the job is seen yet, it stays Waiting and nothing is recorded', () => {
    const { record, effects } = observe({ base, intent: launched, attempts: [] });
    assert.equal(record.status, 'Waiting');
    assert.deepEqual(effects, []);
  });

  it('when its Job completed, the job Succeeded and the outcome is recorded (not urgently: the Job still holds it)', () => {
    const { record, effects } = observe({ base, intent: launched, job: aJob({ active: 0, complete: { at: T(9), completionTime: T(9) } }), attempts: [] });
    assert.equal(record.status, 'Succeeded');
    assert.deepEqual(kinds(effects), ['record']);
    assert.equal((effects[0] as Extract<Effect, { kind: 'record' }>).urgent, false);
  });

  it('when its Job was deleted by someone else after it completed, the outcome is recorded at once', () => {
    const { record, effects } = observe({ base, intent: launched, job: aJob({ exists: false, goneAt: T(12), active: 0, complete: { at: T(9), completionTime: T(9) } }), attempts: [] });
    assert.equal(record.status, 'Succeeded');
    assert.equal((effects[0] as Extract<Effect, { kind: 'record' }>).urgent, true);
  });

  it('when its running Job is deleted by someone else, the job fails saying so, and is never Waiting again', () => {
    const { record } = observe({ base, intent: launched, job: aJob({ exists: false, goneAt: T(12) }), attempts: [] });
    assert.equal(record.status, 'Failed');
    assert.match(record.message!, /deleted outside the scheduler/);
  });

  it('what is observed decides the record whatever the local state was (the cluster runs the attempts)', () => {
    const observation = { base, intent: launched, job: aJob({ active: 0, complete: { at: T(9), completionTime: T(9) } }), attempts: [] };
    for (const state of Object.values(STATES)) {
      assert.deepEqual(transition(state, { type: 'observed', observation }, at(20), policy).record, observe(observation).record);
    }
  });
});
