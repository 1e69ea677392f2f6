/** The kinds the fake serves, with the validation and defaulting the real API server applies to them. */

export interface ResourceInfo {
  resource: string;
  group: string;
  version: string;
  kind: string;
  /** Whether the kind has a status subresource (spec writes keep status; status writes keep the rest). */
  hasStatus: boolean;
  /** The propagation policy when a DELETE names none (batch/v1 Jobs orphan their pods by default). */
  defaultPropagation: 'Orphan' | 'Background';
}

export const RESOURCES: Record<string, ResourceInfo> = {
  configmaps: { resource: 'configmaps', group: '', version: 'v1', kind: 'ConfigMap', hasStatus: false, defaultPropagation: 'Background' },
  secrets: { resource: 'secrets', group: '', version: 'v1', kind: 'Secret', hasStatus: false, defaultPropagation: 'Background' },
  pods: { resource: 'pods', group: '', version: 'v1', kind: 'Pod', hasStatus: true, defaultPropagation: 'Background' },
  events: { resource: 'events', group: '', version: 'v1', kind: 'Event', hasStatus: false, defaultPropagation: 'Background' },
  jobs: { resource: 'jobs', group: 'batch', version: 'v1', kind: 'Job', hasStatus: true, defaultPropagation: 'Orphan' },
  resourcequotas: { resource: 'resourcequotas', group: '', version: 'v1', kind: 'ResourceQuota', hasStatus: true, defaultPropagation: 'Background' },
};

/**
 * The object-count keys a ResourceQuota's `spec.hard` may limit this resource with: `count/jobs.batch`,
 * `count/secrets`, and the older plain names of core kinds (`secrets`, `configmaps`, `pods`).
 */
export function quotaCountKeys(info: ResourceInfo): string[] {
  const keys = [info.group ? `count/${info.resource}.${info.group}` : `count/${info.resource}`];
  if (!info.group && ['secrets', 'configmaps', 'pods'].includes(info.resource)) keys.push(info.resource);
  return keys;
}

export const MAX_DATA_BYTES = 1024 * 1024;

export interface Cause {
  reason: string;
  message: string;
  field: string;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

/** What the real API server would refuse with 422, as Status causes. */
export function validate(info: ResourceInfo, object: Obj): Cause[] {
  const causes: Cause[] = [];
  const invalid = (field: string, message: string, reason = 'FieldValueInvalid') => causes.push({ reason, message, field });
  const name: string = object.metadata?.name ?? '';
  if (!name) invalid('metadata.name', 'Required value: name or generateName is required', 'FieldValueRequired');
  else if (info.kind === 'Job' ? !LABEL_NAME.test(name) || name.length > 63 : !SUBDOMAIN.test(name) || name.length > 253) {
    invalid('metadata.name', `Invalid value: "${name}": a lowercase RFC 1123 ${info.kind === 'Job' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.'`);
  }
  for (const [key, value] of Object.entries<string>(object.metadata?.labels ?? {})) {
    const [prefix, keyName] = key.includes('/') ? key.split('/', 2) : [undefined, key];
    if ((prefix !== undefined && (!SUBDOMAIN.test(prefix) || prefix.length > 253)) || !LABEL_KEY_NAME.test(keyName!) || keyName!.length > 63) invalid('metadata.labels', `Invalid value: "${key}": name part must consist of alphanumeric characters`);
    if (typeof value !== 'string' || !LABEL_VALUE.test(value) || value.length > 63) invalid('metadata.labels', `Invalid value: "${String(value)}": a valid label must be an empty string or consist of alphanumeric characters, must be no more than 63 characters`);
  }
  if (info.kind === 'Secret' || info.kind === 'ConfigMap') {
    let total = 0;
    const maps: Array<[string, Record<string, string> | undefined, boolean]> = info.kind === 'Secret'
      ? [['data', object.data, true], ['stringData', object.stringData, false]]
      : [['data', object.data, false], ['binaryData', object.binaryData, true]];
    for (const [field, map, base64] of maps) {
      for (const [key, value] of Object.entries(map ?? {})) {
        if (!DATA_KEY.test(key) || key.length > 253) invalid(`${field}[${key}]`, `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
        total += base64 ? Buffer.from(String(value), 'base64').length : Buffer.byteLength(String(value));
      }
    }
    if (total > MAX_DATA_BYTES) invalid(field0(info), `Too long: must have at most ${MAX_DATA_BYTES} bytes`, 'FieldValueTooLong');
  }
  if (info.kind === 'Job') validateJob(object, invalid);
  return causes;
}

function field0(info: ResourceInfo): string {
  return info.kind === 'Secret' ? 'data' : '[data, binaryData]';
}

function validateJob(job: Obj, invalid: (field: string, message: string, reason?: string) => void): void {
  const pod = job.spec?.template?.spec;
  if (!pod) return invalid('spec.template.spec', 'Required value', 'FieldValueRequired');
  if (!['Never', 'OnFailure'].includes(pod.restartPolicy)) invalid('spec.template.spec.restartPolicy', `Unsupported value: "${pod.restartPolicy}": supported values: "OnFailure", "Never"`, 'FieldValueNotSupported');
  if (!Array.isArray(pod.containers) || pod.containers.length === 0) invalid('spec.template.spec.containers', 'Required value', 'FieldValueRequired');
  (pod.containers ?? []).forEach((container: Obj, i: number) => {
    if (!container.name) invalid(`spec.template.spec.containers[${i}].name`, 'Required value', 'FieldValueRequired');
    if (!container.image) invalid(`spec.template.spec.containers[${i}].image`, 'Required value', 'FieldValueRequired');
  });
  const rules = job.spec.podFailurePolicy?.rules ?? [];
  if (rules.length > 0 && pod.restartPolicy !== 'Never') invalid('spec.podFailurePolicy', 'Invalid value: only "Never" is supported when podFailurePolicy is specified');
  if (rules.length > 20) invalid('spec.podFailurePolicy.rules', `Too many: ${rules.length}: must have at most 20 items`, 'FieldValueTooMany');
  rules.forEach((rule: Obj, i: number) => {
    if (Boolean(rule.onExitCodes) === Boolean(rule.onPodConditions)) invalid(`spec.podFailurePolicy.rules[${i}]`, 'Invalid value: specifying one of OnExitCodes and OnPodConditions is required');
    (rule.onPodConditions ?? []).forEach((pattern: Obj, j: number) => {
      if (!pattern.type) invalid(`spec.podFailurePolicy.rules[${i}].onPodConditions[${j}].type`, 'Required value', 'FieldValueRequired');
      if (pattern.status !== undefined && !['True', 'False', 'Unknown'].includes(pattern.status)) invalid(`spec.podFailurePolicy.rules[${i}].onPodConditions[${j}].status`, `Unsupported value: "${pattern.status}"`, 'FieldValueNotSupported');
    });
    const values: number[] = rule.onExitCodes?.values ?? [];
    const sorted = values.every((value, j) => j === 0 || values[j - 1]! < value);
    if (!sorted) invalid(`spec.podFailurePolicy.rules[${i}].onExitCodes.values`, 'Invalid value: must be ordered');
    if (rule.onExitCodes?.operator === 'In' && values.includes(0)) invalid(`spec.podFailurePolicy.rules[${i}].onExitCodes.values`, 'Invalid value: 0: must not be 0 for the In operator');
    if (!['FailJob', 'Ignore', 'Count', 'FailIndex'].includes(rule.action)) invalid(`spec.podFailurePolicy.rules[${i}].action`, `Unsupported value: "${rule.action}"`, 'FieldValueNotSupported');
  });
  if (job.spec.activeDeadlineSeconds !== undefined && !(job.spec.activeDeadlineSeconds > 0)) invalid('spec.activeDeadlineSeconds', 'Invalid value: must be greater than 0');
}

/** Defaults and admission the real server applies on create (status starts empty; Jobs get a selector). */
export function prepareForCreate(info: ResourceInfo, object: Obj, uid: string): void {
  if (info.kind === 'Job') {
    const spec = object.spec;
    spec.parallelism ??= 1;
    spec.completions ??= 1;
    spec.backoffLimit ??= 6;
    spec.suspend ??= false;
    spec.completionMode ??= 'NonIndexed';
    for (const rule of spec.podFailurePolicy?.rules ?? []) for (const pattern of rule.onPodConditions ?? []) pattern.status ??= 'True';
    const selector = { 'batch.kubernetes.io/controller-uid': uid };
    spec.selector = { matchLabels: selector };
    spec.template.metadata ??= {};
    spec.template.metadata.labels = {
      ...spec.template.metadata.labels,
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': object.metadata.name,
      'controller-uid': uid,
      'job-name': object.metadata.name,
    };
    object.status = {};
  }
  if (info.kind === 'Pod') object.status = { phase: 'Pending', qosClass: 'BestEffort' };
  if (info.kind === 'Secret') object.type ??= 'Opaque';
}
