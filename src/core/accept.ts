import { mergeJobSpec } from './merge.js';
import type { BatchDescription, BatchType, JobRecord, JobSettings, JobSpec, NewBatch } from './model.js';
import { batchName, jobName } from './naming.js';

export interface BuildBatchInput {
  componentName: string;
  /** The component's own settings: the first layer of every job's spec. */
  component: JobSettings;
  description: BatchDescription;
  type: BatchType;
  now: Date;
  /** A fresh random suffix of 8 characters from [a-z0-9] per call. */
  suffix: () => string;
  /** The suffix of the job at this index in the batch, distinct for each index: instead of `suffix` (a large batch's, in order). */
  jobSuffix?: (index: number) => string;
  /** Whether a batch name is already taken. */
  taken: (name: string) => boolean;
  /**
   * A large batch is built in parts, one turn of the event loop each: the later parts carry the batch's
   * name, the index of their first job, and the suffixes already used.
   */
  part?: { name: string; firstIndex: number; usedSuffixes: Set<string> };
  /** Names given instead of drawn (a scheduled run's, derived from its tick): a single job's batch name and job suffix. */
  fixedNames?: { batchName: string; jobSuffix: string };
}

/**
 * Turns a checked description into the records to accept: a named batch and its `Waiting` jobs,
 * each with its effective spec. Jobs with the same description share one spec object.
 */
export function buildBatch(input: BuildBatchInput): NewBatch {
  const { description, now } = input;
  let name = input.part?.name ?? input.fixedNames?.batchName ?? batchName(input.componentName, now, input.suffix());
  while (!input.part && !input.fixedNames && input.taken(name)) name = batchName(input.componentName, now, input.suffix());
  const created = now.toISOString();
  const used = input.part?.usedSuffixes ?? new Set<string>();
  const firstIndex = input.part?.firstIndex ?? 0;
  const specs = new Map<string, JobSpec>();
  const jobs = description.jobScheduleDescriptions.map((job, index) => {
    const given = input.fixedNames?.jobSuffix ?? input.jobSuffix?.(firstIndex + index);
    let suffix = given ?? input.suffix();
    if (given === undefined) {
      while (used.has(suffix)) suffix = input.suffix();
      used.add(suffix);
    }
    const { jobId, payload, ...settings } = job;
    const key = JSON.stringify(settings);
    let spec = specs.get(key);
    if (!spec) {
      spec = mergeJobSpec(input.component, description.defaultRadixJobComponentConfig, { labels: description.labels, priority: description.priority }, settings);
      specs.set(key, spec);
    }
    const record: JobRecord = {
      name: jobName(name, suffix),
      batchName: name,
      index: firstIndex + index,
      spec,
      status: 'Waiting',
      created,
      started: null,
      ended: null,
      updated: created,
      message: null,
      failed: 0,
      attempts: [],
      ...(jobId === undefined ? {} : { jobId }),
    };
    return { record, payload: payload ?? '' };
  });
  return {
    batch: {
      name, type: input.type, created,
      ...(description.batchId === undefined ? {} : { batchId: description.batchId }),
      ...(description.labels === undefined || Object.keys(description.labels).length === 0 ? {} : { labels: description.labels }),
    },
    jobs,
  };
}
