import type { JobSpec } from '../../core/model.js';

/** The settings the local runtime enforces where the machine allows (see memory-guard.ts). */
export const ENFORCED: ReadonlySet<string> = new Set(['resources.limits.memory']);
export const NONE: ReadonlySet<string> = new Set();

/**
 * Names the settings of a spec that the local runtime records but cannot enforce, so a job's
 * message says so instead of ignoring them silently.
 */
export function unenforcedNote(spec: JobSpec, enforced: ReadonlySet<string> = NONE): string | undefined {
  const fields = [
    ...Object.keys(spec.resources.limits).map((key) => `resources.limits.${key}`).filter((field) => !enforced.has(field)),
    ...Object.keys(spec.resources.requests).map((key) => `resources.requests.${key}`),
    ...Object.keys(spec.node ?? {}).map((key) => `node.${key}`),
    ...Object.keys(spec.runtime ?? {}).map((key) => `runtime.${key}`),
    ...(spec.image ? ['image'] : []),
    ...(spec.imageTagName ? ['imageTagName'] : []),
  ];
  return fields.length === 0 ? undefined : `not enforced by the local runtime: ${fields.join(', ')}`;
}
