import type { IdempotencyRecord } from './idempotency.js';
import type { Labels } from './labels.js';

/**
 * The domain model: what clients send, what the service records, what it answers.
 * Field names follow the Radix job-scheduler v1 API.
 */

export type ResourceList = Record<string, string>;

export interface Resources {
  limits?: ResourceList;
  requests?: ResourceList;
}

/** Radix `node`: GPU node selection (deprecated in Radix in favour of runtime.nodeType, still accepted). */
export interface NodeSelection {
  gpu?: string;
  gpuCount?: string;
}

export interface RuntimeSelection {
  architecture?: string;
  nodeType?: string;
}

export type FailurePolicyAction = 'FailJob' | 'Ignore' | 'Count';

export interface FailurePolicyRule {
  action: FailurePolicyAction;
  onExitCodes: { operator: 'In' | 'NotIn'; values: number[] };
}

export interface FailurePolicy {
  rules: FailurePolicyRule[];
}

/** The settings a component, a batch's defaults and a job description can each carry. */
export interface JobSettings {
  timeLimitSeconds?: number;
  backoffLimit?: number;
  failurePolicy?: FailurePolicy;
  resources?: Resources;
  node?: NodeSelection;
  runtime?: RuntimeSelection;
  image?: string;
  imageTagName?: string;
  variables?: Record<string, string>;
  command?: string[];
  args?: string[];
}

/** One job as a client describes it (`POST /jobs`, or an item of `jobScheduleDescriptions`). */
export interface JobDescription extends JobSettings {
  jobId?: string;
  payload?: string;
  /** The job's own labels; in a batch, they overlay the batch's. */
  labels?: Labels;
  /** Higher starts first (-1000..1000); in a batch, the job's own wins over the batch's. */
  priority?: number;
}

export interface BatchDescription {
  batchId?: string;
  /** The batch's labels; every job of the batch has them too (its own labels win). */
  labels?: Labels;
  /** The default `priority` of the batch's jobs. */
  priority?: number;
  defaultRadixJobComponentConfig?: JobSettings;
  jobScheduleDescriptions: JobDescription[];
}

/** The effective settings of one job after merging component, batch defaults and job. */
export interface JobSpec {
  timeLimitSeconds: number;
  backoffLimit: number;
  failurePolicy?: FailurePolicy;
  resources: { limits: ResourceList; requests: ResourceList };
  node?: NodeSelection;
  runtime?: RuntimeSelection;
  image?: string;
  imageTagName?: string;
  variables: Record<string, string>;
  command: string[];
  args: string[];
  /** The job's labels: its batch's, overlaid by its own; absent when it has none. */
  labels?: Labels;
  /** The job's priority: its own, else its batch's; absent when 0. */
  priority?: number;
}

export const JOB_STATUSES = ['Waiting', 'Active', 'Running', 'Succeeded', 'Failed', 'Stopping', 'Stopped'] as const;
export type JobStatusValue = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatusValue> = new Set(['Succeeded', 'Failed', 'Stopped']);

export function isTerminal(status: JobStatusValue): boolean {
  return TERMINAL_STATUSES.has(status);
}

export type BatchType = 'job' | 'batch';

/** State of one attempt (a pod on Kubernetes, a process on the local runtime). */
export interface Attempt {
  name: string;
  created: string;
  startTime: string | null;
  endTime: string | null;
  exitCode: number | null;
  reason: string | null;
  /** Pending, Running, Succeeded, Failed or Stopped. */
  replicaStatus: string;
  /** Whether this failure counts toward backoffLimit (false for failurePolicy Ignore). */
  counted?: boolean;
}

/** Everything the service knows about one job. Payloads are not part of it. */
export interface JobRecord {
  name: string;
  batchName: string;
  /** Position in the batch, for stable ordering. */
  index: number;
  jobId?: string;
  spec: JobSpec;
  status: JobStatusValue;
  created: string;
  started: string | null;
  ended: string | null;
  updated: string;
  message: string | null;
  /** Failed attempts counted toward backoffLimit. */
  failed: number;
  attempts: Attempt[];
  /**
   * What was asked of the job and is not done yet. Kept with the record (written before the signal that
   * carries it out), so a restart honours a stop or a delete instead of running the job again.
   */
  intent?: 'stop' | 'delete';
  /** Why the service is ending the live attempt on its own: its time ran out, or the service is shutting down. */
  ending?: 'deadline' | 'shutdown';
  /** When the live attempt, already sent SIGTERM, gets SIGKILL (ms since the epoch). */
  killAt?: number;
  /** When the next attempt may start after a failed one (ms since the epoch). */
  retryAt?: number;
  /** How many times the job was restarted after it ended (its run, counted from 0); absent before the first restart. */
  generation?: number;
}

export interface BatchRecord {
  name: string;
  type: BatchType;
  batchId?: string;
  /** The batch's own labels, as submitted. */
  labels?: Labels;
  created: string;
}

/** A batch and its jobs as one unit of acceptance. */
export interface NewBatch {
  batch: BatchRecord;
  jobs: Array<{ record: JobRecord; payload: string }>;
  /** The idempotency key that asked for the batch: recorded atomically with it. */
  idempotency?: IdempotencyRecord;
}

/** Every batch and job a runtime knows of, in acceptance order. */
export interface Snapshot {
  batches: BatchRecord[];
  jobs: JobRecord[];
  /** The idempotency keys recorded (those of deleted batches too); expired ones may be among them. */
  idempotency?: IdempotencyRecord[];
  /** Batches of `batches` whose jobs had all finished: their jobs are not in `jobs` but read from here after the start. */
  finished?: FinishedJobs;
}

/**
 * The jobs of the batches a snapshot leaves out of its `jobs` (every job finished, nothing asked of it), read
 * a part at a time once the service answers. Nothing changes them meanwhile: any change of such a job is
 * preceded by a read of its batch, which reads the rest of the batch first.
 */
export interface FinishedJobs {
  /** The batches (named in the snapshot's `batches`) whose jobs are read here. */
  readonly batchNames: ReadonlySet<string>;
  /** How many jobs they have in all. */
  readonly jobCount: number;
  /** About `limit` of their jobs (and of other batches' finished jobs), in (batch name, position) order, after the given one. */
  next(after: { batchName: string; index: number } | undefined, limit: number): JobRecord[];
  /** A batch's finished jobs after a position, in position order. */
  ofBatch(batchName: string, afterIndex: number): JobRecord[];
  /** The name of the batch a job belongs to; undefined when no job has that name. */
  batchOf(jobName: string): string | undefined;
  /** Everything was read: what reading held (caches) can go. */
  release?(): void;
}
