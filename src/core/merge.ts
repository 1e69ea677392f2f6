import type { Labels } from './labels.js';
import type { JobSettings, JobSpec } from './model.js';

/** A layer of a job's spec: settings, and labels (a batch's, or the job's own). */
export type SpecLayer = JobSettings & { labels?: Labels; priority?: number };

/** Radix's default when neither component, batch nor job sets a time limit: 12 hours. */
export const DEFAULT_TIME_LIMIT_SECONDS = 43200;
/** Radix's default: a failed job is not retried unless the component says so. */
export const DEFAULT_BACKOFF_LIMIT = 0;

/**
 * The effective spec of a job: the component's settings, overlaid by the batch's
 * `defaultRadixJobComponentConfig`, overlaid by the job's own description.
 * Scalars: the most specific value wins. `resources.limits`, `resources.requests`,
 * `variables` and `labels`: merged key by key (`priority`: a batch's or a job's, absent when 0). `node`, `runtime`, `failurePolicy`, `command`, `args`:
 * replaced whole.
 */
export function mergeJobSpec(...layers: Array<SpecLayer | undefined>): JobSpec {
  const spec: JobSpec = {
    timeLimitSeconds: DEFAULT_TIME_LIMIT_SECONDS,
    backoffLimit: DEFAULT_BACKOFF_LIMIT,
    resources: { limits: {}, requests: {} },
    variables: {},
    command: [],
    args: [],
  };
  for (const layer of layers) {
    if (layer) overlay(spec, layer);
  }
  if (spec.priority === 0) delete spec.priority;
  return spec;
}

function overlay(spec: JobSpec, layer: SpecLayer): void {
  if (layer.timeLimitSeconds !== undefined) spec.timeLimitSeconds = layer.timeLimitSeconds;
  if (layer.backoffLimit !== undefined) spec.backoffLimit = layer.backoffLimit;
  if (layer.image !== undefined) spec.image = layer.image;
  if (layer.imageTagName !== undefined) spec.imageTagName = layer.imageTagName;
  if (layer.failurePolicy !== undefined) spec.failurePolicy = structuredClone(layer.failurePolicy);
  if (layer.node !== undefined) spec.node = { ...layer.node };
  if (layer.runtime !== undefined) spec.runtime = { ...layer.runtime };
  if (layer.command !== undefined) spec.command = [...layer.command];
  if (layer.args !== undefined) spec.args = [...layer.args];
  if (layer.resources?.limits) Object.assign(spec.resources.limits, layer.resources.limits);
  if (layer.resources?.requests) Object.assign(spec.resources.requests, layer.resources.requests);
  if (layer.variables) Object.assign(spec.variables, layer.variables);
  if (layer.labels && Object.keys(layer.labels).length > 0) spec.labels = { ...spec.labels, ...layer.labels };
  if (layer.priority !== undefined) spec.priority = layer.priority;
}
