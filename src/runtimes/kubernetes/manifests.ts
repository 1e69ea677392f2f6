import type { V1ConfigMap, V1EnvVar, V1Job, V1NodeSelectorRequirement, V1OwnerReference, V1PodFailurePolicyRule, V1PodSpec, V1Secret, V1Toleration } from '@kubernetes/client-node';
import { runJobName } from '../../core/cluster-job.js';
import type { BatchRecord, JobRecord, JobSpec } from '../../core/model.js';
import { ANNOTATIONS, clientLabels, LABELS, objectLabels } from './labels.js';

/** What the cluster allows in one Secret's data (and one ConfigMap's), in bytes. */
export const MAX_OBJECT_DATA_BYTES = 1024 * 1024;

/** Where and how Jobs are placed; label and taint keys differ between clusters, so they are settings. */
export interface ClusterSettings {
  namespace: string;
  component: string;
  /** Where the payload Secret's key is mounted as the file `payload`. */
  payloadPath: string;
  nodeTypeKey: string;
  gpuKey: string;
  gpuCountKey: string;
}

/** Where one job's payload is kept: a key of one of its batch's Secrets. */
export interface PayloadRef {
  secretName: string;
  key: string;
}

export function ownerReference(record: V1ConfigMap): V1OwnerReference {
  return { apiVersion: 'v1', kind: 'ConfigMap', name: record.metadata!.name!, uid: record.metadata!.uid!, blockOwnerDeletion: false };
}

/** A batch record: the batch and its jobs' specs, compressed, so that 10,000 jobs fit one object. */
export function batchRecordObject(settings: ClusterSettings, batch: BatchRecord, encodedJobs: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: batch.name,
      namespace: settings.namespace,
      labels: objectLabels({ component: settings.component, role: 'batch', batchName: batch.name, batchType: batch.type }),
      annotations: { [ANNOTATIONS.state]: 'accepting' },
    },
    binaryData: { 'batch.json.gz': encodedJobs },
  };
}

/** A state object of a batch (see intent-codec.ts): owned by the batch record, so it goes with the batch. */
export function intentShardObject(settings: ClusterSettings, batch: Pick<BatchRecord, 'name' | 'type'>, owner: V1OwnerReference, name: string, data: Record<string, string>): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: settings.namespace,
      labels: objectLabels({ component: settings.component, role: 'state', batchName: batch.name, batchType: batch.type }),
      ownerReferences: [owner],
    },
    data,
  };
}

/**
 * Packs payloads into as few Secrets as the size limit lets it find (each job's key is its name): first fit,
 * largest payload first, so that small payloads fill the room large ones leave. A payload is at most
 * 1 MiB, so each always fits an empty Secret. Within a Secret, keys keep the batch's order.
 */
export function packPayloads(batchName: string, jobs: ReadonlyArray<{ name: string; payload: string }>): Array<{ secretName: string; entries: Array<{ key: string; value: Buffer }> }> {
  const items = jobs.map((job, index) => ({ index, key: job.name, value: Buffer.from(job.payload, 'utf8') }));
  const bySizeDescending = [...items].sort((a, b) => b.value.length - a.value.length || a.index - b.index);
  const bins: Array<{ items: typeof items; free: number }> = [];
  for (const item of bySizeDescending) {
    let bin = bins.find((candidate) => candidate.free >= item.value.length);
    if (!bin) bins.push((bin = { items: [], free: MAX_OBJECT_DATA_BYTES }));
    bin.items.push(item);
    bin.free -= item.value.length;
  }
  // Secrets numbered in the order of their first job, entries in batch order: the same batch always packs the same way.
  for (const bin of bins) bin.items.sort((a, b) => a.index - b.index);
  bins.sort((a, b) => a.items[0]!.index - b.items[0]!.index);
  return bins.map((bin, i) => ({ secretName: `${batchName}-payloads-${i}`, entries: bin.items.map(({ key, value }) => ({ key, value })) }));
}

export function payloadSecretObject(
  settings: ClusterSettings,
  batch: BatchRecord,
  owner: V1OwnerReference,
  secret: { secretName: string; entries: Array<{ key: string; value: Buffer }> },
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    immutable: true,
    metadata: {
      name: secret.secretName,
      namespace: settings.namespace,
      labels: objectLabels({ component: settings.component, role: 'payload', batchName: batch.name, batchType: batch.type }),
      ownerReferences: [owner],
    },
    data: Object.fromEntries(secret.entries.map(({ key, value }) => [key, value.toString('base64')])),
  };
}

/**
 * Pods the platform interrupts (eviction, preemption, a node drained or lost: condition `DisruptionTarget`)
 * are not the job's failure: the job controller retries them without counting them toward backoffLimit.
 */
export function disruptionRule(): V1PodFailurePolicyRule {
  return { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] };
}

/** One `batch/v1` Job for one scheduled job. */
export function jobObject(options: {
  settings: ClusterSettings;
  job: JobRecord;
  batchType: BatchRecord['type'];
  owner: V1OwnerReference;
  payload: PayloadRef;
  /** The job's run (see `runJobName`); 0 or absent for its first. */
  run?: number;
}): V1Job {
  const { settings, job, owner, payload } = options;
  const run = options.run ?? 0;
  const labels = {
    ...clientLabels(job.spec.labels),
    ...objectLabels({ component: settings.component, role: 'job', batchName: job.batchName, batchType: options.batchType, jobName: job.name }),
  };
  if (run > 0) labels[LABELS.run] = String(run);
  const annotations: Record<string, string> = {};
  if (job.jobId !== undefined) annotations[ANNOTATIONS.jobId] = job.jobId;
  const spec = job.spec;
  const manifest: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: runJobName(job.name, run), namespace: settings.namespace, labels, annotations, ownerReferences: [owner] },
    spec: {
      backoffLimit: spec.backoffLimit,
      activeDeadlineSeconds: spec.timeLimitSeconds,
      suspend: false,
      podFailurePolicy: {
        rules: [
          disruptionRule(),
          ...(spec.failurePolicy?.rules ?? []).map((rule) => ({
            action: rule.action,
            onExitCodes: { containerName: 'job', operator: rule.onExitCodes.operator, values: [...new Set(rule.onExitCodes.values)].sort((a, b) => a - b) },
          })),
        ],
      },
      template: {
        metadata: { labels },
        spec: podSpec(settings, job, payload),
      },
    },
  };
  return manifest;
}

function podSpec(settings: ClusterSettings, job: JobRecord, payload: PayloadRef): V1PodSpec {
  const spec = job.spec;
  const resources: { limits?: Record<string, string>; requests?: Record<string, string> } = {};
  if (Object.keys(spec.resources.limits).length > 0) resources.limits = spec.resources.limits;
  if (Object.keys(spec.resources.requests).length > 0) resources.requests = spec.resources.requests;
  const pod: V1PodSpec = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    containers: [{
      name: 'job',
      image: imageOf(spec),
      ...(spec.command.length > 0 ? { command: spec.command } : {}),
      ...(spec.args.length > 0 ? { args: spec.args } : {}),
      env: environment(settings, job),
      resources,
      volumeMounts: [{ name: 'payload', mountPath: settings.payloadPath, readOnly: true }],
    }],
    volumes: [{ name: 'payload', secret: { secretName: payload.secretName, items: [{ key: payload.key, path: 'payload' }], defaultMode: 0o444 } }],
  };
  const placement = placementOf(settings, spec);
  if (placement.nodeSelector) pod.nodeSelector = placement.nodeSelector;
  if (placement.tolerations.length > 0) pod.tolerations = placement.tolerations;
  if (placement.requirements.length > 0) {
    pod.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: placement.requirements }] } } };
  }
  return pod;
}

export function imageOf(spec: JobSpec): string | undefined {
  if (!spec.image) return undefined;
  return spec.imageTagName ? spec.image.replace(/\{imageTagName\}/g, spec.imageTagName) : spec.image;
}

function environment(settings: ClusterSettings, job: JobRecord): V1EnvVar[] {
  const env: V1EnvVar[] = Object.entries(job.spec.variables)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
  env.push({ name: 'PAYLOAD_PATH', value: settings.payloadPath });
  env.push({ name: 'JOB_NAME', value: job.name });
  env.push({ name: 'BATCH_NAME', value: job.batchName });
  if (job.jobId !== undefined) env.push({ name: 'JOB_ID', value: job.jobId });
  return env;
}

/** Radix's node placement: GPU types and count by node labels, node type and architecture by selector, with tolerations. */
function placementOf(settings: ClusterSettings, spec: JobSpec): {
  nodeSelector?: Record<string, string>;
  tolerations: V1Toleration[];
  requirements: V1NodeSelectorRequirement[];
} {
  const nodeSelector: Record<string, string> = {};
  const tolerations: V1Toleration[] = [];
  const requirements: V1NodeSelectorRequirement[] = [];
  if (spec.runtime?.architecture) nodeSelector['kubernetes.io/arch'] = spec.runtime.architecture;
  if (spec.runtime?.nodeType) {
    nodeSelector[settings.nodeTypeKey] = spec.runtime.nodeType;
    tolerations.push({ key: settings.nodeTypeKey, operator: 'Equal', value: spec.runtime.nodeType, effect: 'NoSchedule' });
  }
  const gpus = (spec.node?.gpu ?? '').split(',').map((gpu) => gpu.trim()).filter(Boolean);
  const wanted = gpus.filter((gpu) => !gpu.startsWith('-'));
  const excluded = gpus.filter((gpu) => gpu.startsWith('-')).map((gpu) => gpu.slice(1)).filter(Boolean);
  if (wanted.length > 0) requirements.push({ key: settings.gpuKey, operator: 'In', values: wanted });
  if (excluded.length > 0) requirements.push({ key: settings.gpuKey, operator: 'NotIn', values: excluded });
  const count = Number(spec.node?.gpuCount ?? 0);
  if (count > 0) requirements.push({ key: settings.gpuCountKey, operator: 'Gt', values: [String(count - 1)] });
  if (wanted.length > 0 || count > 0) tolerations.push({ key: settings.gpuCountKey, operator: 'Exists', effect: 'NoSchedule' });
  return { nodeSelector: Object.keys(nodeSelector).length > 0 ? nodeSelector : undefined, tolerations, requirements };
}
