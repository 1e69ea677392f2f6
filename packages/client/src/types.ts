import type { components } from './generated/api.js';

type Schemas = components['schemas'];

/** A job's state. */
export type JobStatus = Schemas['JobStatus'];
/** A batch's state (with `jobStatuses` when one batch is read or created). */
export type BatchStatus = Schemas['BatchStatus'];
/** One job to start: every field optional. */
export type JobScheduleDescription = Schemas['JobScheduleDescription'];
/** A batch to start. */
export type BatchScheduleDescription = Schemas['BatchScheduleDescription'];
/** What a copy of a batch changes. */
export type BatchCopyDescription = Schemas['BatchCopyDescription'];
/** The settings a component, a batch's defaults and a job can each carry. */
export type JobSettings = Schemas['JobSettings'];
/** A job's effective settings. */
export type EffectiveJobSettings = Schemas['EffectiveJobSettings'];
/** The answer to a dry run: the effective settings of every job of the submission. */
export type DryRunResult = Schemas['DryRunResult'];
/** A job's status timeline. */
export type JobTimeline = Schemas['JobTimeline'];
/** How many of a batch's jobs are in each status. */
export type JobCounts = Schemas['JobCounts'];
/** A webhook event the receiver refused for good. */
export type DeadLetter = Schemas['DeadLetter'];
/** The `Status` body of a result or an error. */
export type Status = Schemas['Status'];
/** A job's status value. */
export type JobStatusValue = Schemas['JobStatusValue'];

/** Filters of a list of jobs (`GET /jobs`, a batch's jobs). */
export interface JobFilters {
  /** Only jobs in these statuses. */
  status?: JobStatusValue | JobStatusValue[];
  jobId?: string;
  /** A Kubernetes label selector (`team=vision,stage in (train,eval)`). */
  labelSelector?: string;
  /** At most this many per page. */
  limit?: number;
  /** The `continue` of the previous page. */
  continue?: string;
}

/** Filters of the list of batches. */
export interface BatchFilters extends Omit<JobFilters, 'status'> {
  /** Only batches in these statuses (the batch's own). */
  status?: BatchStatus['status'] | Array<BatchStatus['status']>;
  batchId?: string;
}

/** One page of a list; `continue` is there when more follow. */
export interface Page<T> {
  items: T[];
  continue: string | undefined;
}

/** Options of a submit (`createJob`, `createBatch`). */
export interface SubmitOptions {
  /**
   * The `Idempotency-Key`: the service answers a repeat of the same submit with the first answer. The client
   * makes one per submit when none is given, and retries the submit only with one; `false` sends none.
   */
  idempotencyKey?: string | false;
  signal?: AbortSignal;
}

/** Which attempt's log, and how much of it. */
export interface LogOptions {
  /** The attempt (`podIndex`), the latest by default. */
  attempt?: number;
  /** Only the last this many lines. */
  tail?: number;
  signal?: AbortSignal;
}
