import type { JobSpec } from '../../core/model.js';

/**
 * Names the settings of a spec that the local runtime records but cannot enforce, so a job's
 * message says so instead of ignoring them silently.
 */
export function unenforcedNote(spec: JobSpec): string | undefined {
  const fields = [
    ...Object.keys(spec.resources.limits).map((key) => `resources.limits.${key}`),
    ...Object.keys(spec.resources.requests).map((key) => `resources.requests.${key}`),
    ...Object.keys(spec.node ?? {}).map((key) => `node.${key}`),
    ...Object.keys(spec.runtime ?? {}).map((key) => `runtime.${key}`),
    ...(spec.image ? ['image'] : []),
    ...(spec.imageTagName ? ['imageTagName'] : []),
  ];
  return fields.length === 0 ? undefined : `not enforced by the local runtime: ${fields.join(', ')}`;
}
