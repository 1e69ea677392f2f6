import type { Labels } from '../core/labels.js';
import { mergeJobSpec } from '../core/merge.js';
import type { BatchDescription, BatchType, JobSettings, JobSpec } from '../core/model.js';
import { HIDDEN_VALUE } from './job-output.js';

/** One job of a dry run: what `GET /jobs/{jobName}/settings` would answer, less the name nothing was given. */
export interface DryRunJob {
  /** The job's position in the request. */
  index: number;
  jobId?: string;
  settings: JobSpec;
}

/** The answer to `?dryRun=true`: the effective settings every job would run with. Nothing was recorded. */
export interface DryRunView {
  dryRun: true;
  type: BatchType;
  batchId?: string;
  labels?: Labels;
  jobs: DryRunJob[];
}

export interface DryRunInput {
  /** The component's own settings: the first layer of every job's spec. */
  component: JobSettings;
  /** The component file's variables, shown by name only, as the settings endpoint does. */
  componentVariables: Readonly<Record<string, string>>;
  description: BatchDescription;
  type: BatchType;
}

/** Jobs merged between two turns of the event loop. */
const JOBS_PER_TURN = 1000;

/** Merges every job's settings as acceptance would (`buildBatch`), and records nothing. */
export async function dryRun({ component, componentVariables, description, type }: DryRunInput): Promise<DryRunView> {
  const specs = new Map<string, JobSpec>();
  const jobs: DryRunJob[] = [];
  const all = description.jobScheduleDescriptions;
  for (let start = 0; start < all.length; start += JOBS_PER_TURN) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    all.slice(start, start + JOBS_PER_TURN).forEach((job, offset) => {
      const { jobId, payload: _payload, ...settings } = job;
      const key = JSON.stringify(settings);
      let spec = specs.get(key);
      if (!spec) {
        spec = shown(mergeJobSpec(component, description.defaultRadixJobComponentConfig, { labels: description.labels }, settings), componentVariables);
        specs.set(key, spec);
      }
      jobs.push({ index: start + offset, ...(jobId === undefined ? {} : { jobId }), settings: spec });
    });
  }
  return {
    dryRun: true,
    type,
    ...(description.batchId === undefined ? {} : { batchId: description.batchId }),
    ...(description.labels === undefined || Object.keys(description.labels).length === 0 ? {} : { labels: description.labels }),
    jobs,
  };
}

/** A variable the component file set and the job did not change is shown by name only: it may hold the owner's secret. */
function shown(spec: JobSpec, owner: Readonly<Record<string, string>>): JobSpec {
  const variables = Object.fromEntries(Object.entries(spec.variables).map(([key, value]) => [key, owner[key] === value ? HIDDEN_VALUE : value]));
  return { ...spec, variables };
}
