import { type Cause, cause } from './status.js';
import { isPlainObject, type Obj } from './types.js';

// Regular expressions and messages as k8s.io/apimachinery/pkg/util/validation has them, so that
// error texts match the real server's.
const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const QUALIFIED_NAME_PART = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const CONFIG_KEY = '[-._a-zA-Z0-9]+';

const full = (pattern: string) => new RegExp(`^(?:${pattern})$`);

export function dns1123Subdomain(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 253) errors.push('must be no more than 253 characters');
  if (!full(DNS1123_SUBDOMAIN).test(value)) {
    errors.push(`a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${DNS1123_SUBDOMAIN}')`);
  }
  return errors;
}

export function dns1123Label(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push('must be no more than 63 characters');
  if (!full(DNS1123_LABEL).test(value)) {
    errors.push(`a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${DNS1123_LABEL}')`);
  }
  return errors;
}

export function qualifiedName(value: string): string[] {
  const parts = value.split('/');
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length > 2) return [`a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME_PART}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  const errors: string[] = [];
  if (parts.length === 2) {
    if (parts[0] === '') errors.push('prefix part must be non-empty');
    else errors.push(...dns1123Subdomain(parts[0]!).map((message) => `prefix part ${message}`));
  }
  if (name.length === 0) errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  if (name.length > 0 && !full(QUALIFIED_NAME_PART).test(name)) {
    errors.push(`name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME_PART}')`);
  }
  return errors;
}

export function labelValue(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push('must be no more than 63 characters');
  if (value !== '' && !full(QUALIFIED_NAME_PART).test(value)) {
    errors.push(`a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(${QUALIFIED_NAME_PART})?')`);
  }
  return errors;
}

export function configKey(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 253) errors.push('must be no more than 253 characters');
  if (!full(CONFIG_KEY).test(value)) errors.push(`a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '${CONFIG_KEY}')`);
  if (value === '.') errors.push("must not be '.'");
  else if (value === '..') errors.push("must not be '..'");
  else if (value.startsWith('..')) errors.push("must not start with '..'");
  return errors;
}

const each = (field: string, value: string, errors: string[]): Cause[] => errors.map((message) => cause.invalid(field, value, message));

export function validateLabels(labels: Obj, field: string): Cause[] {
  if (!isPlainObject(labels)) return [];
  return Object.entries(labels).flatMap(([key, value]) => [...each(field, key, qualifiedName(key)), ...each(field, String(value), labelValue(String(value)))]);
}

function validateOwnerReferences(references: Obj, field: string): Cause[] {
  if (!Array.isArray(references)) return [];
  const causes: Cause[] = [];
  for (const reference of references) {
    if (!reference.apiVersion) causes.push(cause.invalid(`${field}.apiVersion`, '', 'version must not be empty'));
    if (!reference.kind) causes.push(cause.invalid(`${field}.kind`, '', 'kind must not be empty'));
    if (!reference.name) causes.push(cause.invalid(`${field}.name`, '', 'name must not be empty'));
    if (!reference.uid) causes.push(cause.invalid(`${field}.uid`, '', 'uid must not be empty'));
  }
  const controllers = references.filter((reference: Obj) => reference.controller === true);
  if (controllers.length > 1) causes.push(cause.invalid(field, controllers.map((r: Obj) => r.name), 'Only one reference can have Controller set to true'));
  return causes;
}

/** ObjectMeta checks every kind shares; the name rule is the kind's own. */
export function validateObjectMeta(meta: Obj, nameRule: (name: string) => string[]): Cause[] {
  const causes: Cause[] = [];
  if (!meta?.name) causes.push(cause.required('metadata.name', 'name or generateName is required'));
  else causes.push(...each('metadata.name', meta.name, nameRule(meta.name)));
  causes.push(...validateLabels(meta?.labels, 'metadata.labels'));
  if (isPlainObject(meta?.annotations)) {
    for (const key of Object.keys(meta.annotations)) causes.push(...each('metadata.annotations', key, qualifiedName(key)));
    const size = Object.entries(meta.annotations).reduce((sum, [key, value]) => sum + key.length + String(value).length, 0);
    if (size > 256 * 1024) causes.push(cause.tooLong('metadata.annotations', 256 * 1024));
  }
  causes.push(...validateOwnerReferences(meta?.ownerReferences, 'metadata.ownerReferences'));
  return causes;
}

/** Checks on metadata a write may not change: the server owns these. */
export function validateObjectMetaUpdate(next: Obj, old: Obj): Cause[] {
  const added = (next.metadata.finalizers ?? []).filter((finalizer: string) => !(old.metadata.finalizers ?? []).includes(finalizer));
  if (old.metadata.deletionTimestamp && added.length > 0) {
    return [cause.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`)];
  }
  return [];
}
