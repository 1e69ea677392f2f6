import assert from 'node:assert/strict';
import { type ClusterJobInput, mayCreateJob, type ObservedAttempt, type ObservedJob, observedJobRecord, outcomeOf, type RecordedOutcome, WAITING_FOR_QUOTA } from '../../src/core/cluster-job.js';
import { mergeJobSpec } from '../../src/core/merge.js';
import type { JobRecord } from '../../src/core/model.js';

const T = (second: number) => `2026-11-23T10:15:${String(second).padStart(2, '0')}.000Z`;

const base: JobRecord = {
  name: 'batch-compute-20261123101500-k3x9a0bq-p2m7c1ds',
  batchName: 'batch-compute-20261123101500-k3x9a0bq',
  index: 0,
  spec: mergeJobSpec({ image: 'busybox' }, undefined, {}),
  status: 'Waiting',
  created: T(0),
  started: null,
  ended: null,
  updated: T(0),
  message: null,
  failed: 0,
  attempts: [],
};

function aJob(overrides: Partial<ObservedJob> = {}): ObservedJob {
  return { exists: true, seen: true, created: T(1), suspended: false, stoppedAt: null, startTime: T(1), failedCount: 0, active: 1, conditionTimes: [], ...overrides };
}

function aPod(overrides: Partial<ObservedAttempt> = {}): ObservedAttempt {
  return { name: `${base.name}-aaaaa`, created: T(2), phase: 'Running', startTime: T(3), terminating: false, disrupted: false, ...overrides };
}

const exited = (exitCode: number, reason: string, second = 9) => ({ terminated: { exitCode, reason, finishedAt: T(second) } });
const launched = { launched: true, stoppedAt: null, outcome: null };
const stopped = { launched: true, stoppedAt: T(5), outcome: null };
const succeeded: RecordedOutcome = {
  status: 'Succeeded',
  started: T(1),
  ended: T(10),
  updated: T(10),
  failed: 0,
  message: null,
  attempts: [{ name: `${base.name}-aaaaa`, created: T(2), startTime: T(3), endTime: T(9), exitCode: 0, reason: 'Completed', replicaStatus: 'Succeeded' }],
};

function record(input: Partial<ClusterJobInput>): JobRecord {
  return observedJobRecord({ base, intent: { launched: false, stoppedAt: null, outcome: null }, attempts: [], ...input });
}

/** [situation, input, expected status, expected ended, expected message (pattern), expected attempts as [replicaStatus, reason, endTime]] */
type Row = [string, Partial<ClusterJobInput>, JobRecord['status'], string | null, RegExp | null, Array<[string, string | null, string | null]>?];

const rows: Row[] = [
  ['nothing recorded, no Job', {}, 'Waiting', null, null, []],
  ['no Job, the quota allows no more', { waitingForQuota: true }, 'Waiting', null, /resource quota/],
  ['launched, the watch has not told of the Job yet', { intent: launched }, 'Waiting', null, null],
  ['stopped before it was launched', { intent: { launched: false, stoppedAt: T(5), outcome: null } }, 'Stopped', T(5), /^stopped before it started$/, []],
  ['stopped after a launch, the Job not seen yet', { intent: stopped }, 'Stopping', null, null],
  ['stopped after a launch, and no Job can exist', { intent: stopped, knownAbsent: true }, 'Stopped', T(5), /^stopped before it started$/],
  ['the cluster refused the Job for good', { intent: launched, createRefused: { code: 422, at: T(4) } }, 'Failed', T(4), /^CreateFailed: the cluster refused the Job \(HTTP 422\)/],
  ['a Job without pods', { intent: launched, job: aJob() }, 'Active', null, null, []],
  ['a pod waits for its image', { job: aJob(), attempts: [aPod({ phase: 'Pending', startTime: null, waitingReason: 'ImagePullBackOff' })] }, 'Active', null, /^ImagePullBackOff: the attempt/, [['Pending', 'ImagePullBackOff', null]]],
  ['a pod runs', { job: aJob(), attempts: [aPod()] }, 'Running', null, null, [['Running', null, null]]],
  ['the Job completed', { job: aJob({ active: 0, complete: { at: T(10), completionTime: T(10) } }), attempts: [aPod({ phase: 'Succeeded', ...exited(0, 'Completed') })] }, 'Succeeded', T(10), null, [['Succeeded', 'Completed', T(9)]]],
  ['the Job failed after its retries', { job: aJob({ active: 0, failedCount: 1, failed: { at: T(10), reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' } }), attempts: [aPod({ phase: 'Failed', ...exited(137, 'OOMKilled') })] }, 'Failed', T(10), /^BackoffLimitExceeded: job has reached the specified backoff limit \(0\); the last attempt ended with OOMKilled$/, [['Failed', 'OOMKilled', T(9)]]],
  ['stopped while its pod runs', { intent: stopped, job: aJob(), attempts: [aPod()] }, 'Stopping', null, null, [['Running', null, null]]],
  ['stopped, suspended, its pod still terminating', { intent: stopped, job: aJob({ active: 0, suspended: true }), attempts: [aPod({ terminating: true })] }, 'Stopping', null, null, [['Stopped', 'Stopped', null]]],
  ['stopped, suspended, its pod deleted without a terminated state (line 11)', { intent: stopped, job: aJob({ active: 0, suspended: true }), attempts: [aPod({ terminating: true, goneAt: T(7) })] }, 'Stopped', T(7), /^stopped$/, [['Stopped', 'Stopped', T(7)]]],
  ['stopped, its pod killed by the suspension ended with a terminated state', { intent: stopped, job: aJob({ active: 0, suspended: true }), attempts: [aPod({ phase: 'Failed', ...exited(143, 'Error', 6), terminating: true, goneAt: T(8) })] }, 'Stopped', T(6), /^stopped$/, [['Stopped', 'Stopped', T(6)]]],
  ['stopped after an attempt had failed on its own', { intent: stopped, job: aJob({ active: 0, suspended: true, failedCount: 1 }), attempts: [aPod({ phase: 'Failed', ...exited(1, 'Error', 4) })] }, 'Stopped', T(5), /^stopped$/, [['Failed', 'Error', T(4)]]],
  ['stopped, the job controller has not suspended the Job yet', { intent: stopped, job: aJob({ active: 0 }), attempts: [] }, 'Stopping', null, null],
  ['the stopped-at annotation without a recorded stop (stopped by another instance)', { job: aJob({ active: 0, suspended: true, stoppedAt: T(5) }) }, 'Stopped', T(5), /^stopped before it started$/],
  ['stopped too late: the Job had completed', { intent: stopped, job: aJob({ active: 0, complete: { at: T(4), completionTime: T(4) } }) }, 'Succeeded', T(4), null],
  ['the deadline passed and its pod was deleted without a terminated state (line 11)', { job: aJob({ active: 0, failedCount: 1, failed: { at: T(8), reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' } }), attempts: [aPod({ terminating: true, goneAt: T(8) })] }, 'Failed', T(8), /^DeadlineExceeded: job ran longer than timeLimitSeconds \(43200\)$/, [['Failed', 'DeadlineExceeded', T(8)]]],
  ['the deadline passed; its pod, deleted by the job controller, ended on the signal', { job: aJob({ active: 0, failedCount: 1, failed: { at: T(8), reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' } }), attempts: [aPod({ phase: 'Failed', ...exited(143, 'Error', 8), terminating: true })] }, 'Failed', T(8), /^DeadlineExceeded: job ran longer than timeLimitSeconds \(43200\)$/, [['Failed', 'DeadlineExceeded', T(8)]]],
  ['its pod was deleted by someone, the Job runs on', { job: aJob(), attempts: [aPod({ goneAt: T(6) })] }, 'Active', null, null, [['Failed', 'Deleted', T(6)]]],
  ['its pod was evicted (DisruptionTarget) and failed', { job: aJob({ failedCount: 0 }), attempts: [aPod({ phase: 'Failed', disrupted: true, ...exited(143, 'Error', 6) }), aPod({ name: `${base.name}-bbbbb`, created: T(7) })] }, 'Running', null, null, [['Failed', 'Interrupted', T(6)], ['Running', null, null]]],
  ['its pod was preempted and deleted before it could fail', { job: aJob(), attempts: [aPod({ disrupted: true, terminating: true, goneAt: T(6) })] }, 'Active', null, null, [['Failed', 'Interrupted', T(6)]]],
  ['the Job was deleted by someone after it completed', { job: aJob({ exists: false, goneAt: T(20), active: 0, complete: { at: T(10), completionTime: T(10) } }) }, 'Succeeded', T(10), null],
  ['the Job was deleted by someone while it ran (line 9)', { intent: launched, job: aJob({ exists: false, goneAt: T(20) }), attempts: [aPod({ goneAt: T(21) })] }, 'Failed', T(20), /^the Job was deleted outside the scheduler before it finished; it is not created again$/, [['Failed', 'Deleted', T(21)]]],
  ['launched, and no Job when the service starts (line 9)', { intent: launched, job: { ...aJob({ exists: false, seen: false, goneAt: T(30), active: 0, created: null, startTime: null }) } }, 'Failed', T(30), /never runs twice/],
  ['stopped, then the Job was deleted', { intent: stopped, job: aJob({ exists: false, goneAt: T(20) }) }, 'Stopped', T(20), /^stopped before it started$/],
  ['an outcome is recorded and the Job is gone (line 9)', { intent: { launched: true, stoppedAt: null, outcome: succeeded }, job: aJob({ exists: false, seen: false, goneAt: T(40) }) }, 'Succeeded', T(10), null, [['Succeeded', 'Completed', T(9)]]],
  ['an outcome is recorded; the pods are still seen', { intent: { launched: true, stoppedAt: null, outcome: succeeded }, job: aJob({ exists: false, goneAt: T(40) }), attempts: [aPod({ phase: 'Succeeded', ...exited(0, 'Completed'), goneAt: T(41) })] }, 'Succeeded', T(10), null, [['Succeeded', 'Completed', T(9)]]],
];

describe('a job on a cluster, decided from what is recorded and observed', () => {
  for (const [situation, input, status, ended, message, attempts] of rows) {
    it(`when ${situation}, the job is ${status}`, () => {
      const result = record(input);
      assert.equal(result.status, status);
      assert.equal(result.ended, ended);
      if (message) assert.match(result.message ?? '', message);
      else assert.equal(result.message, null);
      if (attempts) assert.deepEqual(result.attempts.map((a) => [a.replicaStatus, a.reason, a.endTime]), attempts);
      assert.ok(result.updated >= base.updated);
    });
  }

  it('when the Job counts failures, the record carries its count, and an interrupted attempt is not counted', () => {
    const result = record({ job: aJob({ failedCount: 1 }), attempts: [aPod({ phase: 'Failed', disrupted: true, ...exited(143, 'Error') }), aPod({ name: 'b', created: T(4), phase: 'Failed', ...exited(1, 'Error') })] });
    assert.equal(result.failed, 1);
    assert.deepEqual(result.attempts.map((a) => a.counted), [false, undefined]);
  });

  it('when attempts are seen out of order, they are shown in the order they were created', () => {
    const result = record({ job: aJob(), attempts: [aPod({ name: 'second', created: T(5) }), aPod({ name: 'first', created: T(2), phase: 'Failed', ...exited(1, 'Error') })] });
    assert.deepEqual(result.attempts.map((a) => a.name), ['first', 'second']);
  });

  it("when a failurePolicy rule failed the Job, the message names the job's own rule, not the controller's index (which counts the rule the scheduler adds)", () => {
    const spec = mergeJobSpec({ image: 'busybox', failurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } }, { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] } }, undefined, {});
    const failed = { at: T(10), reason: 'PodFailurePolicy', message: 'Container job for pod ns/p failed with exit code 42 matching FailJob rule at index 2' };
    const result = observedJobRecord({ base: { ...base, spec }, intent: launched, job: aJob({ active: 0, failedCount: 1, failed }), attempts: [aPod({ phase: 'Failed', ...exited(42, 'Error') })] });
    assert.equal(result.message, 'PodFailurePolicy: exit code 42 matched FailJob rule 1 of failurePolicy');
  });

  it('when the cluster rounds its times down to whole seconds, they are shown in order: none before the job was created, none before the time it follows', () => {
    const created = '2026-11-23T10:15:05.651Z';
    const second = '2026-11-23T10:15:05.000Z';
    const result = observedJobRecord({
      base: { ...base, created, updated: created },
      intent: launched,
      job: aJob({ created: second, startTime: second, active: 0, complete: { at: second, completionTime: second } }),
      attempts: [aPod({ created: second, startTime: second, phase: 'Succeeded', terminated: { exitCode: 0, reason: 'Completed', finishedAt: second } })],
    });
    assert.deepEqual([result.started, result.ended], [created, created]);
    assert.deepEqual([result.attempts[0]!.created, result.attempts[0]!.startTime, result.attempts[0]!.endTime], [created, created, created]);
    assert.ok(result.updated >= created);
    const later = record({ job: aJob(), attempts: [aPod()] });
    assert.deepEqual([later.started, later.attempts[0]!.startTime], [T(1), T(3)], 'times after the creation are shown as the cluster has them');
  });

  it('when waiting on the quota, the message says the Job comes once the quota allows', () => {
    assert.equal(record({ waitingForQuota: true }).message, WAITING_FOR_QUOTA);
  });

  it('when a job is finished, its outcome is what the record says, with the last 5 attempts and the start of the message', () => {
    assert.equal(outcomeOf(record({ job: aJob() })), null);
    const failed = { ...base, status: 'Failed' as const, ended: T(10), message: 'x'.repeat(600), attempts: Array.from({ length: 7 }, (_, i) => ({ ...succeeded.attempts[0]!, name: `p${i}` })) };
    const outcome = outcomeOf(failed)!;
    assert.equal(outcome.status, 'Failed');
    assert.equal(outcome.message!.length, 512);
    assert.deepEqual(outcome.attempts.map((a) => a.name), ['p2', 'p3', 'p4', 'p5', 'p6']);
    const back = record({ intent: { launched: true, stoppedAt: null, outcome }, job: aJob({ exists: false, seen: false, goneAt: T(50) }) });
    assert.deepEqual([back.status, back.ended, back.message, back.attempts.length], ['Failed', T(10), outcome.message, 5]);
  });

  it('when deciding whether to create the Job: only while nothing was stopped, finished or seen of it', () => {
    const none = { launched: false, stoppedAt: null, outcome: null };
    assert.equal(mayCreateJob(none, undefined), true);
    assert.equal(mayCreateJob(launched, undefined), true, 'a launch that did not land yet is tried again (a create of an existing Job answers 409)');
    assert.equal(mayCreateJob({ ...none, stoppedAt: T(5) }, undefined), false);
    assert.equal(mayCreateJob({ ...none, outcome: succeeded }, undefined), false);
    assert.equal(mayCreateJob(launched, aJob()), false);
    assert.equal(mayCreateJob(launched, aJob({ exists: false, goneAt: T(9) })), false, 'a Job deleted by someone else is never created again');
  });
});
