import type { Labels } from './labels.js';
import { mergeJobSpec, type SpecLayer } from './merge.js';
import type { JobDescription, JobSettings, JobSpec, ResourceList } from './model.js';

/**
 * Copies, decided here: the description of a new job that runs as an existing one did. The copied job's
 * effective settings are given as what differs from the component's (so a copy overrides no more than the
 * original did, and the component's own settings stay the component's), and the request's overrides win.
 */

/** What of an effective spec differs from the component's own settings, as a spec layer. */
export function settingsBeyond(spec: JobSpec, component: JobSettings): JobSettings {
  const base = mergeJobSpec(component);
  const layer: JobSettings = {};
  if (spec.timeLimitSeconds !== base.timeLimitSeconds) layer.timeLimitSeconds = spec.timeLimitSeconds;
  if (spec.backoffLimit !== base.backoffLimit) layer.backoffLimit = spec.backoffLimit;
  if (spec.image !== base.image && spec.image !== undefined) layer.image = spec.image;
  if (spec.imageTagName !== base.imageTagName && spec.imageTagName !== undefined) layer.imageTagName = spec.imageTagName;
  for (const field of ['failurePolicy', 'node', 'runtime', 'command', 'args'] as const) {
    if (spec[field] !== undefined && JSON.stringify(spec[field]) !== JSON.stringify(base[field])) (layer as Record<string, unknown>)[field] = structuredClone(spec[field]);
  }
  const limits = changedKeys(spec.resources.limits, base.resources.limits);
  const requests = changedKeys(spec.resources.requests, base.resources.requests);
  if (limits || requests) layer.resources = { ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) };
  const variables = changedKeys(spec.variables, base.variables);
  if (variables) layer.variables = variables;
  return layer;
}

/** `over` laid on `under` by the merge rules (scalars and whole fields replaced, maps merged key by key). */
export function overlaySettings(under: SpecLayer, over: SpecLayer | undefined): SpecLayer {
  if (!over) return under;
  const result: SpecLayer = { ...under, ...definedFields(over) };
  for (const map of ['variables', 'labels'] as const) {
    if (under[map] && over[map]) result[map] = { ...under[map], ...over[map] };
  }
  if (under.resources && over.resources) {
    result.resources = {
      limits: { ...under.resources.limits, ...over.resources.limits },
      requests: { ...under.resources.requests, ...over.resources.requests },
    };
  }
  return result;
}

/** The labels a job had beyond its batch's (its own), or undefined when none. */
export function ownLabels(jobLabels: Labels | undefined, batchLabels: Labels | undefined): Labels | undefined {
  if (!jobLabels) return undefined;
  const own = Object.entries(jobLabels).filter(([key, value]) => batchLabels?.[key] !== value);
  return own.length > 0 ? Object.fromEntries(own) : undefined;
}

export interface CopiedJob {
  spec: JobSpec;
  jobId?: string;
  payload: string | undefined;
  /** The job's own labels (beyond its batch's). */
  labels?: Labels;
}

/** The description of a copy of one job: its settings beyond the component's, its payload and id, then `override`. */
export function copyDescription(job: CopiedJob, component: JobSettings, override: JobDescription = {}): JobDescription {
  const { jobId, payload, labels, ...settings } = override;
  const layer = overlaySettings({ ...settingsBeyond(job.spec, component), ...(job.labels ? { labels: job.labels } : {}) }, { ...settings, ...(labels ? { labels } : {}) });
  const description: JobDescription = layer;
  const id = jobId ?? job.jobId;
  if (id !== undefined) description.jobId = id;
  const text = payload ?? job.payload;
  if (text !== undefined) description.payload = text;
  return description;
}

function changedKeys(values: ResourceList, base: ResourceList): ResourceList | undefined {
  const changed = Object.entries(values).filter(([key, value]) => base[key] !== value);
  return changed.length > 0 ? Object.fromEntries(changed) : undefined;
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
