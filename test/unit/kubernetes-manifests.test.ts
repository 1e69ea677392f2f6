import assert from 'node:assert/strict';
import type { V1ConfigMap, V1Job, V1Pod } from '@kubernetes/client-node';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { mergeJobSpec } from '../../src/core/merge.js';
import type { BatchRecord, JobRecord, JobSettings } from '../../src/core/model.js';
import { emptyIntent, intentKey, readIntents, SHARD_JOBS, shardName, shardNumber, shardOf } from '../../src/runtimes/kubernetes/intent-codec.js';
import { observedAttempt, observedJob } from '../../src/runtimes/kubernetes/job-state.js';
import { observedJobRecord, outcomeOf, OUTCOME_ATTEMPTS, OUTCOME_MESSAGE_CHARS } from '../../src/core/cluster-job.js';
import { ANNOTATIONS, componentSelector, LABELS } from '../../src/runtimes/kubernetes/labels.js';
import { batchRecordObject, type ClusterSettings, intentShardObject, jobObject, MAX_OBJECT_DATA_BYTES, ownerReference, packPayloads, payloadSecretObject } from '../../src/runtimes/kubernetes/manifests.js';
import { decodeBatchRecord, encodeBatchRecord, waitingRecord } from '../../src/runtimes/kubernetes/record-codec.js';

const settings: ClusterSettings = {
  namespace: 'apps',
  component: 'compute',
  payloadPath: '/compute/args',
  nodeTypeKey: 'example.com/nodetype',
  gpuKey: 'example.com/gpu',
  gpuCountKey: 'example.com/gpu-count',
};
const batchName = 'batch-compute-20261123101500-k3x9a0bq';
const batch: BatchRecord = { name: batchName, type: 'batch', batchId: 'b-1', created: '2026-11-23T10:15:00.000Z' };

function aJobRecord(overrides: JobSettings = {}, name = `${batchName}-p2m7c1ds`): JobRecord {
  return {
    name,
    batchName,
    index: 0,
    jobId: 'job-1',
    spec: mergeJobSpec({ image: 'registry.example.com/compute:{imageTagName}', imageTagName: '1.0.0', variables: { GREETING: 'hi' } }, undefined, overrides),
    status: 'Waiting',
    created: batch.created,
    started: null,
    ended: null,
    updated: batch.created,
    message: null,
    failed: 0,
    attempts: [],
  };
}

function aRecordObject(): V1ConfigMap {
  const record = batchRecordObject(settings, batch, encodeBatchRecord({ batch, jobs: [] }));
  return { ...record, metadata: { ...record.metadata, uid: '0b5e8c8e-7d1a-4c36-9a0e-0d6b8f1f2a10' } };
}

/** Validates against the official schema (kubernetes-models throws on an invalid object). */
function valid<T>(model: { validate(): void }, object: T): T {
  model.validate();
  return object;
}

describe('Kubernetes objects', () => {
  it('when a job has every setting, its Job is valid and carries them all', () => {
    const job = aJobRecord({
      timeLimitSeconds: 120,
      backoffLimit: 3,
      failurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42, 3] } }, { action: 'Ignore', onExitCodes: { operator: 'NotIn', values: [1] } }] },
      resources: { limits: { cpu: '300m', memory: '32Mi' }, requests: { cpu: '150m' } },
      node: { gpu: 'gpu1, -gpu2', gpuCount: '2' },
      runtime: { architecture: 'arm64', nodeType: 'memory-optimized' },
      command: ['python', 'main.py'],
      args: ['--fast'],
    });
    const manifest = jobObject({ settings, job, batchType: 'batch', owner: ownerReference(aRecordObject()), payload: { secretName: `${batchName}-payloads-0`, key: job.name } });
    valid(new Job(manifest as never), manifest);
    const spec = manifest.spec!;
    const pod = spec.template.spec!;
    const container = pod.containers[0]!;
    assert.equal(manifest.metadata!.name, job.name);
    assert.equal(spec.backoffLimit, 3);
    assert.equal(spec.activeDeadlineSeconds, 120);
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(container.image, 'registry.example.com/compute:1.0.0');
    assert.deepEqual(container.command, ['python', 'main.py']);
    assert.deepEqual(container.args, ['--fast']);
    assert.deepEqual(container.resources, { limits: { cpu: '300m', memory: '32Mi' }, requests: { cpu: '150m' } });
    assert.deepEqual(spec.podFailurePolicy!.rules.slice(1).map((rule) => [rule.action, rule.onExitCodes!.operator, rule.onExitCodes!.values]), [['FailJob', 'In', [3, 42]], ['Ignore', 'NotIn', [1]]]);
    assert.deepEqual(
      Object.fromEntries(container.env!.map((env) => [env.name, env.value])),
      { GREETING: 'hi', PAYLOAD_PATH: '/compute/args', JOB_NAME: job.name, BATCH_NAME: batchName, JOB_ID: 'job-1' },
    );
    assert.deepEqual(pod.nodeSelector, { 'kubernetes.io/arch': 'arm64', 'example.com/nodetype': 'memory-optimized' });
    assert.deepEqual(pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!.matchExpressions, [
      { key: 'example.com/gpu', operator: 'In', values: ['gpu1'] },
      { key: 'example.com/gpu', operator: 'NotIn', values: ['gpu2'] },
      { key: 'example.com/gpu-count', operator: 'Gt', values: ['1'] },
    ]);
    assert.deepEqual(pod.tolerations!.map((t) => t.key), ['example.com/nodetype', 'example.com/gpu-count']);
    assert.equal(manifest.metadata!.labels![LABELS.jobName], job.name);
    assert.equal(spec.template.metadata!.labels![LABELS.jobName], job.name);
    assert.equal(manifest.metadata!.ownerReferences![0]!.uid, '0b5e8c8e-7d1a-4c36-9a0e-0d6b8f1f2a10');
  });

  it('when a job mounts its payload, it mounts only its own key as the file payload, read-only', () => {
    const job = aJobRecord();
    const manifest = jobObject({ settings, job, batchType: 'batch', owner: ownerReference(aRecordObject()), payload: { secretName: 's-0', key: job.name } });
    const pod = manifest.spec!.template.spec!;
    assert.deepEqual(pod.volumes, [{ name: 'payload', secret: { secretName: 's-0', items: [{ key: job.name, path: 'payload' }], defaultMode: 0o444 } }]);
    assert.deepEqual(pod.containers[0]!.volumeMounts, [{ name: 'payload', mountPath: '/compute/args', readOnly: true }]);
    assert.equal(pod.automountServiceAccountToken, false);
  });

  it('when any Job is made, its first podFailurePolicy rule ignores pods the platform interrupted (DisruptionTarget), before the job\'s own rules', () => {
    const plain = jobObject({ settings, job: aJobRecord(), batchType: 'job', owner: ownerReference(aRecordObject()), payload: { secretName: 's', key: 'k' } });
    valid(new Job(plain as never), plain);
    const disruption = { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] };
    assert.deepEqual(plain.spec!.podFailurePolicy!.rules, [disruption]);
    assert.equal(plain.spec!.suspend, false);
    const withRules = jobObject({ settings, job: aJobRecord({ failurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] } }), batchType: 'job', owner: ownerReference(aRecordObject()), payload: { secretName: 's', key: 'k' } });
    assert.deepEqual(withRules.spec!.podFailurePolicy!.rules.map((rule) => rule.action), ['Ignore', 'FailJob']);
    assert.deepEqual(withRules.spec!.podFailurePolicy!.rules[0], disruption);
  });

  it('when jobs\' intent is recorded, each state object holds 400 jobs by index, is owned by the batch record and reads back', () => {
    assert.deepEqual([shardOf(0), shardOf(SHARD_JOBS - 1), shardOf(SHARD_JOBS), shardOf(99_999)], [0, 0, 1, 249]);
    assert.equal(shardNumber(batchName, shardName(batchName, 12)), 12);
    assert.equal(shardNumber(batchName, `${batchName}-payloads-0`), undefined);
    assert.equal(shardNumber(batchName, `${batchName}-state-01`), undefined);
    const outcome = { status: 'Succeeded' as const, started: null, ended: '2026-11-23T10:20:00.000Z', updated: '2026-11-23T10:20:00.000Z', failed: 0, message: null, attempts: [] };
    const data = { [intentKey('launched', 3)]: '1', [intentKey('stop', 3)]: '2026-11-23T10:16:00.000Z', [intentKey('outcome', 4)]: JSON.stringify(outcome), [intentKey('outcome', 5)]: '{not json', other: 'x' };
    const object = intentShardObject(settings, batch, ownerReference(aRecordObject()), shardName(batchName, 0), data);
    valid(new ConfigMap(object as never), object);
    assert.equal(object.metadata!.labels![LABELS.role], 'state');
    assert.equal(object.metadata!.ownerReferences![0]!.name, batchName);
    const { intents, unreadable } = readIntents([object.data]);
    assert.deepEqual(intents.get(3), { launched: true, stoppedAt: '2026-11-23T10:16:00.000Z', outcome: null });
    assert.deepEqual(intents.get(4), { ...emptyIntent(), outcome });
    assert.equal(unreadable, 1);
  });

  it('when 400 jobs end with the longest outcomes, their state object stays within 1 MiB', () => {
    const longest = Array.from({ length: 50 }, (_, i) => ({ name: `${batchName}-p2m7c1ds-${String(i).padStart(5, '0')}`, created: '2026-11-23T10:15:00.000Z', startTime: '2026-11-23T10:15:00.000Z', endTime: '2026-11-23T10:15:00.000Z', exitCode: 137, reason: 'DeadlineExceeded', replicaStatus: 'Failed', counted: false }));
    const record = { ...aJobRecord(), status: 'Failed' as const, message: 'm'.repeat(10_000), attempts: longest, ended: '2026-11-23T10:20:00.000Z', failed: 50 };
    const outcome = outcomeOf(record)!;
    assert.equal(outcome.attempts.length, OUTCOME_ATTEMPTS);
    assert.equal(outcome.message!.length, OUTCOME_MESSAGE_CHARS);
    const data: Record<string, string> = {};
    for (let i = 0; i < SHARD_JOBS; i++) {
      data[intentKey('launched', 399_600 + i)] = '1';
      data[intentKey('stop', 399_600 + i)] = '2026-11-23T10:16:00.000Z';
      data[intentKey('outcome', 399_600 + i)] = JSON.stringify(outcome);
    }
    const bytes = Object.entries(data).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
    assert.ok(bytes < MAX_OBJECT_DATA_BYTES, `${bytes} bytes`);
  });

  it('when 10,000 payloads of 1 KiB are packed, each Secret stays within 1 MiB and the count is the least possible', () => {
    const jobs = Array.from({ length: 10_000 }, (_, i) => ({ name: `${batchName}-${String(i).padStart(8, '0')}`, payload: 'x'.repeat(1024) }));
    const secrets = packPayloads(batchName, jobs);
    assert.equal(secrets.length, Math.ceil((10_000 * 1024) / MAX_OBJECT_DATA_BYTES));
    assert.equal(secrets.flatMap((secret) => secret.entries).length, 10_000);
    for (const secret of secrets) {
      assert.ok(secret.entries.reduce((sum, entry) => sum + entry.value.length, 0) <= MAX_OBJECT_DATA_BYTES);
      const object = payloadSecretObject(settings, batch, ownerReference(aRecordObject()), secret);
      valid(new Secret(object as never), object);
    }
  });

  it('when payloads of mixed sizes are packed, small ones fill the room large ones leave', () => {
    const KiB = 1024;
    // In arrival order, each new payload overflows the Secret before it: filling in order would need 3 Secrets.
    const sizes = [400 * KiB, 700 * KiB, 300 * KiB, 600 * KiB];
    const jobs = sizes.map((size, i) => ({ name: `job-${i}`, payload: String(i).repeat(size) }));
    const secrets = packPayloads(batchName, jobs);
    const total = sizes.reduce((sum, size) => sum + size, 0);
    assert.equal(secrets.length, Math.ceil(total / MAX_OBJECT_DATA_BYTES));
    assert.deepEqual(secrets.map((secret) => secret.entries.map((entry) => entry.key)), [['job-0', 'job-3'], ['job-1', 'job-2']]);
    assert.deepEqual(secrets.map((secret) => secret.secretName), [`${batchName}-payloads-0`, `${batchName}-payloads-1`]);
    for (const secret of secrets) assert.ok(secret.entries.reduce((sum, entry) => sum + entry.value.length, 0) <= MAX_OBJECT_DATA_BYTES);
    for (const [i, job] of jobs.entries()) {
      const entry = secrets.flatMap((secret) => secret.entries).find((candidate) => candidate.key === `job-${i}`);
      assert.equal(entry?.value.toString('utf8'), job.payload);
    }
  });

  it('when payloads are packed, each is kept byte for byte, multi-byte characters and all', () => {
    const payload = 'ø'.repeat(1024 * 512); // 1 MiB of UTF-8
    const secrets = packPayloads(batchName, [{ name: 'a', payload }, { name: 'b', payload: '' }, { name: 'c', payload: '{"x":1}' }]);
    assert.equal(secrets.length, 2);
    const object = payloadSecretObject(settings, batch, ownerReference(aRecordObject()), secrets[0]!);
    assert.equal(Buffer.from(object.data!.a!, 'base64').toString('utf8'), payload);
    assert.deepEqual(Object.keys(object.data!), ['a', 'b']);
    assert.equal(object.data!.b, '');
    assert.deepEqual(Object.keys(payloadSecretObject(settings, batch, ownerReference(aRecordObject()), secrets[1]!).data!), ['c']);
  });

  it('when a batch of 10,000 jobs is recorded, the record is a valid ConfigMap far within the size limit and decodes to the same jobs', () => {
    const jobs = Array.from({ length: 10_000 }, (_, i) => {
      const job = aJobRecord({}, `${batchName}-${Math.random().toString(36).slice(2, 10).padEnd(8, '0')}`);
      return { name: job.name, jobId: `job-${i}`, spec: job.spec, payload: { secretName: `${batchName}-payloads-${Math.floor(i / 1024)}`, key: job.name } };
    });
    const encoded = encodeBatchRecord({ batch, jobs });
    const object = batchRecordObject(settings, batch, encoded);
    valid(new ConfigMap(object as never), object);
    assert.ok(Buffer.byteLength(encoded, 'base64') < MAX_OBJECT_DATA_BYTES / 4, `record is ${Buffer.byteLength(encoded, 'base64')} bytes`);
    const decoded = decodeBatchRecord(encoded);
    assert.deepEqual(decoded.batch, batch);
    assert.deepEqual(decoded.jobs, jobs);
    assert.equal(waitingRecord(batch, decoded.jobs[7]!, 7).jobId, 'job-7');
  });

  it('when labels are read back with the component selector, they name the component and the batch', () => {
    const object = batchRecordObject(settings, batch, 'x');
    assert.equal(componentSelector('compute'), 'app.kubernetes.io/managed-by=job-scheduler,job-scheduler.io/component=compute');
    assert.equal(object.metadata!.labels![LABELS.batchName], batchName);
    assert.equal(object.metadata!.annotations![ANNOTATIONS.state], 'accepting');
  });
});

function aJob(status: V1Job['status'], annotations: Record<string, string> = {}): V1Job {
  return { metadata: { name: 'j', creationTimestamp: new Date('2026-11-23T10:15:01Z'), annotations }, status };
}

function aPod(name: string, phase: string, container: Record<string, unknown>, deleting = false): V1Pod {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, creationTimestamp: '2026-11-23T10:15:02Z', ...(deleting ? { deletionTimestamp: '2026-11-23T10:16:00Z' } : {}) },
    spec: { containers: [{ name: 'job', image: 'busybox' }] },
    status: { phase, startTime: '2026-11-23T10:15:02Z', containerStatuses: [{ name: 'job', image: 'busybox', imageID: '', ready: false, restartCount: 0, ...container }] },
  };
  valid(new Pod(pod as never), pod);
  return JSON.parse(JSON.stringify(pod)) as V1Pod;
}

const terminated = (exitCode: number, reason: string) => ({ state: { terminated: { exitCode, reason, startedAt: '2026-11-23T10:15:03Z', finishedAt: '2026-11-23T10:15:09Z' } } });

describe('job state from Job and pods', () => {
  const base = aJobRecord();
  const derive = (job: V1Job | undefined, pods: V1Pod[]) => observedJobRecord({ base, intent: emptyIntent(), job: job && observedJob(job), attempts: pods.map((pod) => observedAttempt(pod)) });

  it('when there is no Job yet, the job is Waiting', () => {
    assert.equal(derive(undefined, []).status, 'Waiting');
  });

  it('when the pod waits for its image, the job is Active and the message names the image pull error', () => {
    const record = derive(aJob({ active: 1, startTime: new Date('2026-11-23T10:15:01Z') }), [aPod('p1', 'Pending', { state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } })]);
    assert.equal(record.status, 'Active');
    assert.match(record.message ?? '', /ImagePullBackOff/);
    assert.equal(record.attempts[0]!.replicaStatus, 'Pending');
  });

  it('when the container runs, the job is Running with its start time', () => {
    const record = derive(aJob({ active: 1, startTime: new Date('2026-11-23T10:15:01Z') }), [aPod('p1', 'Running', { state: { running: { startedAt: '2026-11-23T10:15:03Z' } } })]);
    assert.equal(record.status, 'Running');
    assert.equal(record.started, '2026-11-23T10:15:01.000Z');
    assert.equal(record.attempts[0]!.startTime, '2026-11-23T10:15:03.000Z');
  });

  it('when the Job completes, the job Succeeded with the exit code of its pod', () => {
    const record = derive(
      aJob({ succeeded: 1, startTime: new Date('2026-11-23T10:15:01Z'), completionTime: new Date('2026-11-23T10:15:10Z'), conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: new Date('2026-11-23T10:15:10Z') }] }),
      [aPod('p1', 'Succeeded', terminated(0, 'Completed'))],
    );
    assert.equal(record.status, 'Succeeded');
    assert.equal(record.ended, '2026-11-23T10:15:10.000Z');
    assert.deepEqual([record.attempts[0]!.exitCode, record.attempts[0]!.reason, record.attempts[0]!.replicaStatus], [0, 'Completed', 'Succeeded']);
  });

  it('when retries run out, the job Failed with BackoffLimitExceeded and every attempt with its exit code', () => {
    const record = derive(
      aJob({ failed: 2, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: new Date('2026-11-23T10:15:20Z') }] }),
      [aPod('p1', 'Failed', terminated(1, 'Error')), aPod('p2', 'Failed', terminated(3, 'Error'))],
    );
    assert.equal(record.status, 'Failed');
    assert.equal(record.failed, 2);
    assert.match(record.message ?? '', /^BackoffLimitExceeded/);
    assert.deepEqual(record.attempts.map((a) => a.exitCode), [1, 3]);
  });

  it('when the deadline passes, the job Failed with DeadlineExceeded', () => {
    const record = derive(aJob({ failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', lastTransitionTime: new Date('2026-11-23T10:20:00Z') }] }), []);
    assert.equal(record.status, 'Failed');
    assert.match(record.message ?? '', /^DeadlineExceeded/);
  });

  it('when the container is OOMKilled, the attempt says so and the failed job message names it', () => {
    const record = derive(
      aJob({ failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: new Date('2026-11-23T10:15:20Z') }] }),
      [aPod('p1', 'Failed', terminated(137, 'OOMKilled'))],
    );
    assert.equal(record.attempts[0]!.reason, 'OOMKilled');
    assert.equal(record.attempts[0]!.exitCode, 137);
    assert.match(record.message ?? '', /OOMKilled/);
  });

  it('when a Job is stopped, it is Stopping while its pod ends and Stopped after', () => {
    const stopped = { [ANNOTATIONS.stoppedAt]: '2026-11-23T10:16:00.000Z' };
    const stopping = derive(aJob({ active: 1 }, stopped), [aPod('p1', 'Running', { state: { running: { startedAt: '2026-11-23T10:15:03Z' } } }, true)]);
    assert.equal(stopping.status, 'Stopping');
    const done = derive(aJob({ active: 0, conditions: [{ type: 'Suspended', status: 'True' }] }, stopped), []);
    assert.equal(done.status, 'Stopped');
    assert.equal(done.ended, '2026-11-23T10:16:00.000Z');
  });
});
