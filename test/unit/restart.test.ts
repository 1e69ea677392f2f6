import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { nextRestart, OUTCOME_ATTEMPTS, type ObservedAttempt, observedJobRecord, outcomeOf, type RecordedIntent, runJobName } from '../../src/core/cluster-job.js';
import { copyDescription, ownLabels, settingsBeyond } from '../../src/core/copy.js';
import { deadlineOf, type LifecyclePolicy, transition } from '../../src/core/lifecycle.js';
import { isDns1123Label } from '../../src/core/naming.js';
import { mergeJobSpec } from '../../src/core/merge.js';
import { type Attempt, JOB_STATUSES, type JobRecord } from '../../src/core/model.js';
import { isRestartable, restartProblem } from '../../src/core/restart.js';
import { transitionOf } from '../../src/core/timeline.js';
import { jobStatusView } from '../../src/core/view.js';
import { isInitial, transitionKey } from '../../src/notifications/events.js';
import { intentKey, readIntents, SHARD_JOBS } from '../../src/runtimes/kubernetes/intent-codec.js';
import { MAX_OBJECT_DATA_BYTES } from '../../src/runtimes/kubernetes/manifests.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();
const policy: LifecyclePolicy = { killGraceMs: 10_000, retryDelayMs: () => 0, note: () => 'not enforced by the local runtime: x' };
const NAME = 'batch-compute-20260101000000-k3x9a0bq-p2m7c1ds';

function attempt(index: number, change: Partial<Attempt> = {}): Attempt {
  return { name: `${NAME}-${index}`, created: iso(index), startTime: iso(index), endTime: iso(index + 1), exitCode: 1, reason: 'Error', replicaStatus: 'Failed', ...change };
}

function aRecord(change: Partial<JobRecord> = {}): JobRecord {
  return {
    name: NAME, batchName: NAME.slice(0, -9), index: 0, spec: mergeJobSpec({ timeLimitSeconds: 100 }),
    status: 'Failed', created: iso(0), started: iso(0), ended: iso(2), updated: iso(2), message: 'BackoffLimitExceeded: x', failed: 1,
    attempts: [attempt(0)], ...change,
  };
}

describe('restart (core)', () => {
  it('which jobs a restart and a rerun-failed take, for every status', () => {
    const table = JOB_STATUSES.map((status) => [status, isRestartable(status, 'ended'), isRestartable(status, 'unsuccessful')]);
    assert.deepEqual(table, [
      ['Waiting', false, false], ['Active', false, false], ['Running', false, false], ['Succeeded', true, false],
      ['Failed', true, true], ['Stopping', false, false], ['Stopped', true, true],
    ]);
  });

  it('a job not ended, stopping or being deleted is refused with what to do', () => {
    assert.equal(restartProblem(aRecord()), undefined);
    assert.match(restartProblem(aRecord({ status: 'Running' }))!, /has not ended \(status Running\); stop it first/);
    assert.match(restartProblem(aRecord({ status: 'Stopping', intent: 'stop' }))!, /is stopping; restart it once it is Stopped/);
    assert.match(restartProblem(aRecord({ intent: 'delete' }))!, /is being deleted/);
  });

  for (const status of ['Succeeded', 'Failed', 'Stopped'] as const) {
    it(`when a ${status} job gets a restart event, it is Waiting one generation further, its attempts kept, its run's fields cleared, on disk first`, () => {
      const job = aRecord({ status, generation: 2, retryAt: 5, killAt: 6, ending: 'deadline' });
      const { record, effects } = transition(job, { type: 'restart' }, at(10), policy);
      assert.deepEqual(effects, [{ kind: 'sync' }]);
      assert.deepEqual(record, { ...aRecord({ status: 'Waiting', started: null, ended: null, message: null, failed: 0, updated: iso(10) }), generation: 3 });
    });
  }

  for (const status of ['Waiting', 'Active', 'Running', 'Stopping'] as const) {
    it(`when a ${status} job gets a restart event, nothing changes`, () => {
      const job = aRecord({ status, ended: null });
      assert.deepEqual(transition(job, { type: 'restart' }, at(10), policy), { record: job, effects: [] });
    });
  }

  it('when a restarted job runs, its attempt continues the numbering, says the note, and its deadline counts from its new process', () => {
    const restarted = transition(aRecord(), { type: 'restart' }, at(10), policy).record;
    const { record, effects } = transition(restarted, { type: 'start' }, at(20), policy);
    assert.deepEqual(effects.slice(0, 2), [{ kind: 'sync' }, { kind: 'spawn', attempt: 1 }]);
    assert.equal(record.attempts[1]!.name, `${NAME}-1`);
    assert.equal(record.message, 'not enforced by the local runtime: x');
    assert.equal(deadlineOf(record), undefined, 'the earlier run\'s process does not count');
    assert.equal(deadlineOf(transition(record, { type: 'spawned' }, at(21), policy).record), T0 + 121_000);
  });

  it('when a restarted job fails again with the default backoffLimit 0, it fails once: the earlier run\'s failures do not count', () => {
    const restarted = transition(aRecord(), { type: 'restart' }, at(10), policy).record;
    const live = transition(transition(restarted, { type: 'start' }, at(20), policy).record, { type: 'spawned' }, at(21), policy).record;
    const { record } = transition(live, { type: 'exited', exitCode: 2 }, at(22), policy);
    assert.equal(record.status, 'Failed');
    assert.equal(record.failed, 1);
    assert.equal(record.attempts.length, 2);
  });

  it('when a restarted job is stopped before it starts, it says so (its earlier attempts are another run\'s)', () => {
    const restarted = transition(aRecord(), { type: 'restart' }, at(10), policy).record;
    const { record } = transition(restarted, { type: 'stop' }, at(11), policy);
    assert.equal(record.status, 'Stopped');
    assert.match(record.message!, /^stopped before it started/);
  });

  it('a restart is a transition of its own: a new timeline entry and event key, and not the initial state', () => {
    const stopped = aRecord({ status: 'Stopped', attempts: [], started: null, message: 'stopped before it started' });
    const restarted = transition(stopped, { type: 'restart' }, at(10), policy).record;
    assert.notEqual(transitionOf(restarted).key, transitionOf(aRecord({ status: 'Waiting', attempts: [], started: null, ended: null })).key);
    assert.equal(transitionOf(restarted).reason, 'Restarted');
    const view = jobStatusView(restarted, 'job');
    assert.equal(view.generation, 1);
    assert.equal(isInitial(view), false);
    const again = jobStatusView(transition(transition(restarted, { type: 'stop' }, at(11), policy).record, { type: 'restart' }, at(12), policy).record, 'job');
    assert.notEqual(transitionKey(again), transitionKey(view));
    assert.equal(jobStatusView(aRecord(), 'job').generation, undefined, 'absent before the first restart (Radix shape)');
  });
});

describe('restart on a cluster (core rules)', () => {
  const pod = (name: string, change: Partial<ObservedAttempt> = {}): ObservedAttempt => ({ name, created: iso(20), phase: 'Running', startTime: iso(21), terminating: false, disrupted: false, ...change });
  const restartedIntent = (): RecordedIntent => ({ launched: false, stoppedAt: null, outcome: null, restart: nextRestart(aRecord(), undefined, iso(10)) });

  it('the next run keeps the last attempts shown, bounded as an outcome\'s', () => {
    const many = aRecord({ attempts: Array.from({ length: 9 }, (_, i) => attempt(i)) });
    const first = nextRestart(many, undefined, iso(10));
    assert.equal(first.run, 1);
    assert.deepEqual(first.attempts, many.attempts.slice(-OUTCOME_ATTEMPTS));
    assert.equal(nextRestart(many, first, iso(30)).run, 2);
  });

  it('when a restart is recorded and no Job of the run is seen, the job is Waiting with its generation and earlier attempts', () => {
    const record = observedJobRecord({ base: aRecord({ status: 'Waiting', started: null, ended: null, message: null, failed: 0, attempts: [], updated: iso(0) }), intent: restartedIntent(), attempts: [] });
    assert.equal(record.status, 'Waiting');
    assert.equal(record.generation, 1);
    assert.equal(record.updated, iso(10));
    assert.deepEqual(record.attempts.map((a) => a.name), [`${NAME}-0`]);
  });

  it('when the run\'s Job runs, its attempts follow the earlier ones and the run\'s start is its own; its outcome holds them all', () => {
    const base = aRecord({ status: 'Waiting', started: null, ended: null, message: null, failed: 0, attempts: [], updated: iso(0) });
    const job = { exists: true, seen: true, created: iso(20), suspended: false, stoppedAt: null, startTime: iso(20), failedCount: 0, active: 1, conditionTimes: [] };
    const running = observedJobRecord({ base, intent: restartedIntent(), job, attempts: [pod('p1')] });
    assert.equal(running.status, 'Running');
    assert.equal(running.started, iso(20));
    assert.deepEqual(running.attempts.map((a) => a.name), [`${NAME}-0`, 'p1']);
    const done = { ...job, active: 0, complete: { at: iso(30), completionTime: iso(30) } };
    const ended = observedJobRecord({ base, intent: restartedIntent(), job: done, attempts: [pod('p1', { phase: 'Succeeded', terminated: { exitCode: 0, reason: 'Completed', finishedAt: iso(30) } })] });
    const outcome = outcomeOf(ended)!;
    assert.deepEqual(outcome.attempts.map((a) => a.name), [`${NAME}-0`, 'p1']);
    // Once the outcome holds them, the recorded run drops them; the record is the same.
    const settled: RecordedIntent = { ...restartedIntent(), outcome, restart: { ...restartedIntent().restart!, attempts: [] } };
    assert.deepEqual(observedJobRecord({ base, intent: settled, job: done, attempts: [pod('p1', { phase: 'Succeeded', terminated: { exitCode: 0, reason: 'Completed', finishedAt: iso(30) } })] }).attempts, ended.attempts);
    assert.deepEqual(observedJobRecord({ base, intent: settled, attempts: [] }).attempts, ended.attempts);
  });

  it('each run has a Job name of its own, at most 63 characters, a DNS label, distinct for names that differ only at their end', () => {
    assert.equal(runJobName(NAME, 0), NAME);
    assert.equal(runJobName(NAME, 1), `${NAME}-r1`);
    const long = `batch-${'c'.repeat(24)}-20260101000000-k3x9a0bq-p2m7c1ds`;
    assert.equal(long.length, 63);
    const other = `${long.slice(0, -1)}t`;
    for (const run of [1, 12, 123456]) {
      const [a, b] = [runJobName(long, run), runJobName(other, run)];
      assert.ok(a.length <= 63 && isDns1123Label(a) && a.endsWith(`-r${run}`), a);
      assert.notEqual(a, b);
      assert.equal(runJobName(long, run), a, 'the same name every time');
    }
  });

  it('the recorded run is read back, a bad one is counted unreadable, and a shard of 400 restarted jobs stays within 1 MiB', () => {
    const restart = nextRestart(aRecord({ attempts: Array.from({ length: 9 }, (_, i) => attempt(i, { name: `${'x'.repeat(63)}-${i}`, reason: 'DeadlineExceeded', exitCode: 137, counted: false })) }), undefined, iso(10));
    const { intents, unreadable } = readIntents([{ [intentKey('run', 3)]: JSON.stringify(restart), [intentKey('run', 4)]: '{"run":0}', [intentKey('run', 5)]: 'nope' }]);
    assert.deepEqual(intents.get(3)?.restart, restart);
    assert.equal(unreadable, 2);
    // The worst a job holds at once: its run with earlier attempts, a launch mark and a stop (no outcome yet); or its
    // outcome, a stop, a mark and the run without attempts (the outcome's patch drops them).
    const longest = outcomeOf(aRecord({ message: 'm'.repeat(10_000), attempts: restart.attempts }))!;
    const data: Record<string, string> = {};
    for (let i = 0; i < SHARD_JOBS; i++) {
      const index = 399_600 + i;
      data[intentKey('launched', index)] = '1';
      data[intentKey('stop', index)] = iso(20);
      data[intentKey('outcome', index)] = JSON.stringify(longest);
      data[intentKey('run', index)] = JSON.stringify({ ...restart, run: 123456, attempts: [] });
    }
    const bytes = Object.entries(data).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
    assert.ok(bytes < MAX_OBJECT_DATA_BYTES, `${bytes} bytes`);
    assert.ok(Buffer.byteLength(JSON.stringify(restart)) < Buffer.byteLength(JSON.stringify(longest)), 'a run with its attempts is smaller than the outcome it stands in for');
  });
});

describe('copy (core)', () => {
  const component = { timeLimitSeconds: 600, variables: { A: 'a', B: 'b' }, command: ['/app/run'], resources: { limits: { memory: '1Gi' } } };

  it('a copied job overrides only what its effective settings have beyond the component\'s', () => {
    const spec = mergeJobSpec(component, { backoffLimit: 2 }, { variables: { B: 'job', C: 'c' }, resources: { limits: { cpu: '1' } }, labels: { team: 'a' } });
    assert.deepEqual(settingsBeyond(spec, component), { backoffLimit: 2, variables: { B: 'job', C: 'c' }, resources: { limits: { cpu: '1' } } });
    assert.deepEqual(settingsBeyond(mergeJobSpec(component), component), {});
  });

  it('the request\'s overrides win, maps merge key by key, the payload and id are kept unless given', () => {
    const spec = mergeJobSpec(component, { variables: { B: 'job' }, backoffLimit: 2 });
    const description = copyDescription({ spec, jobId: 'j1', payload: 'p', labels: { own: 'x' } }, component, { variables: { C: 'new' }, backoffLimit: 0, labels: { more: 'y' } });
    assert.deepEqual(description, { variables: { B: 'job', C: 'new' }, backoffLimit: 0, labels: { own: 'x', more: 'y' }, jobId: 'j1', payload: 'p' });
    assert.equal(mergeJobSpec(component, description).variables.A, 'a');
    assert.deepEqual(copyDescription({ spec, payload: 'p' }, component, { payload: 'q', jobId: 'j2' }).payload, 'q');
    assert.deepEqual(ownLabels({ team: 'a', own: 'x' }, { team: 'a' }), { own: 'x' });
    assert.equal(ownLabels({ team: 'a' }, { team: 'a' }), undefined);
  });
});

describe('the examples of the restart, rerun-failed and copy endpoints in api/openapi.yaml', () => {
  const document = parse(readFileSync(new URL('../../api/openapi.yaml', import.meta.url), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...document, $id: 'api' });
  const paths = ['/api/v1/jobs/{jobName}/restart', '/api/v1/jobs/{jobName}/copy', '/api/v1/batches/{batchName}/restart',
    '/api/v1/batches/{batchName}/rerun-failed', '/api/v1/batches/{batchName}/copy', '/api/v1/batches/{batchName}/jobs/{jobName}/restart'];
  for (const route of paths) {
    it(`${route}: the example ${route.endsWith('copy') ? 'answer and body are' : 'answer is'} valid against the schema`, () => {
      const post = document.paths[route].post;
      const answer = post.responses['200'].content['application/json'];
      assert.ok(answer.example !== undefined, 'an example is given');
      assert.ok(ajv.validate({ $ref: `api#/components/schemas/${answer.schema.$ref.split('/').at(-1)}` }, answer.example), ajv.errorsText());
      const body = post.requestBody?.content['application/json'];
      if (body) assert.ok(ajv.validate({ $ref: `api#/components/schemas/${body.schema.$ref.split('/').at(-1)}` }, body.example), ajv.errorsText());
    });
  }
});
