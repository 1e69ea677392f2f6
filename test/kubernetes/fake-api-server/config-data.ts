import { type Kind, metaFields, sameJson } from './kind.js';
import { type Cause, cause } from './status.js';
import { isPlainObject, type Obj } from './types.js';
import { configKey, dns1123Subdomain } from './validation.js';

/** The size limit ConfigMaps and Secrets share (api.MaxSecretSize). */
export const MAX_DATA_BYTES = 1024 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Where a map of base64 values fails to decode; the real server answers 400 for that. */
export function invalidBase64(values: Obj): string | undefined {
  if (!isPlainObject(values)) return undefined;
  return Object.keys(values).find((key) => typeof values[key] === 'string' && !BASE64.test(values[key]));
}

const decodedLength = (value: string) => Buffer.from(value, 'base64').length;
const keys = (values: Obj) => (isPlainObject(values) ? Object.keys(values) : []);

function keyCauses(values: Obj, field: string): Cause[] {
  return keys(values).flatMap((key) => configKey(key).map((message) => cause.invalid(`${field}[${key}]`, key, message)));
}

function immutableCauses(next: Obj, old: Obj, dataFields: string[]): Cause[] {
  if (old.immutable !== true) return [];
  const causes = dataFields.filter((field) => !sameJson(next[field] ?? {}, old[field] ?? {})).map((field) => cause.forbidden(field, 'field is immutable when `immutable` is set'));
  if (next.immutable !== true) causes.push(cause.forbidden('immutable', 'field is immutable when `immutable` is set'));
  return causes;
}

export const configMaps: Kind = {
  resource: 'configmaps', kind: 'ConfigMap', listKind: 'ConfigMapList', group: '', version: 'v1', model: 'V1ConfigMap',
  statusSubresource: false, defaultPropagation: 'Background', returnsDeletedObject: false,
  fields: metaFields,
  nameRule: dns1123Subdomain,
  validate(object) {
    const causes = [...keyCauses(object.data, 'data'), ...keyCauses(object.binaryData, 'binaryData')];
    for (const key of keys(object.data).filter((key) => keys(object.binaryData).includes(key))) causes.push(cause.invalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
    const size = keys(object.data).reduce((sum, key) => sum + Buffer.byteLength(String(object.data[key])), 0) + keys(object.binaryData).reduce((sum, key) => sum + decodedLength(object.binaryData[key]), 0);
    // The real server reports the whole object ("[]") as too long.
    if (size > MAX_DATA_BYTES) causes.push(cause.tooLong('[]', MAX_DATA_BYTES));
    return causes;
  },
  validateUpdate: (next, old) => immutableCauses(next, old, ['data', 'binaryData']),
};

/** Secret types whose required keys the real server checks. */
const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

/** stringData is write-only: the v1 conversion folds it into data, so it is never stored. */
function foldStringData(secret: Obj): void {
  if (isPlainObject(secret.stringData)) {
    secret.data = { ...secret.data };
    for (const [key, value] of Object.entries(secret.stringData)) secret.data[key] = Buffer.from(String(value)).toString('base64');
  }
  delete secret.stringData;
  secret.type ||= 'Opaque';
}

export const secrets: Kind = {
  resource: 'secrets', kind: 'Secret', listKind: 'SecretList', group: '', version: 'v1', model: 'V1Secret',
  statusSubresource: false, defaultPropagation: 'Background', returnsDeletedObject: false,
  fields: { ...metaFields, type: (object) => String(object.type ?? '') },
  nameRule: dns1123Subdomain,
  prepareForCreate: foldStringData,
  prepareForUpdate: foldStringData,
  validate(object) {
    const causes = keyCauses(object.data, 'data');
    const size = keys(object.data).reduce((sum, key) => sum + decodedLength(object.data[key]), 0);
    if (size > MAX_DATA_BYTES) causes.push(cause.tooLong('data', MAX_DATA_BYTES));
    for (const key of REQUIRED_KEYS[object.type] ?? []) if (!keys(object.data).includes(key)) causes.push(cause.required(`data[${key}]`));
    return causes;
  },
  validateUpdate(next, old) {
    const causes = immutableCauses(next, old, ['data']);
    if (next.type !== old.type) causes.push(cause.invalid('type', next.type, 'field is immutable'));
    return causes;
  },
};

export const events: Kind = {
  resource: 'events', kind: 'Event', listKind: 'EventList', group: '', version: 'v1', model: 'CoreV1Event',
  statusSubresource: false, defaultPropagation: 'Background', returnsDeletedObject: false,
  fields: {
    ...metaFields,
    ...Object.fromEntries(['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map((field) => [`involvedObject.${field}`, (object: Obj) => String(object.involvedObject?.[field] ?? '')])),
    reason: (object) => String(object.reason ?? ''),
    reportingComponent: (object) => String(object.reportingComponent ?? ''),
    source: (object) => String(object.source?.component ?? ''),
    type: (object) => String(object.type ?? ''),
  },
  nameRule: dns1123Subdomain,
  validate(object) {
    const namespace = object.involvedObject?.namespace;
    return namespace && namespace !== object.metadata.namespace ? [cause.invalid('involvedObject.namespace', namespace, 'does not match event.namespace')] : [];
  },
};
