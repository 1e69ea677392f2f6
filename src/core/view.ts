import type { Labels } from './labels.js';
import type { Attempt, BatchRecord, JobRecord, JobStatusValue } from './model.js';
import type { BatchSummary, StatusCounts } from './status.js';

/** A job's state as the API answers it (Radix `JobStatus`). */
export interface JobStatusView {
  name: string;
  jobId?: string;
  batchName?: string;
  created: string;
  started: string | null;
  ended: string | null;
  updated: string;
  status: JobStatusValue;
  message?: string;
  failed: number;
  podStatuses: PodStatusView[];
  /** The job's labels (its batch's and its own); absent when it has none. */
  labels?: Labels;
  /** The job's priority; absent when 0 (the Radix shape). */
  priority?: number;
  /** How many times the job was restarted; absent when never (so Radix shapes stay). */
  generation?: number;
}

export interface PodStatusView {
  name: string;
  created: string | null;
  startTime: string | null;
  endTime: string | null;
  exitCode: number | null;
  reason: string | null;
  replicaStatus: { status: string };
  restartCount: number;
  podIndex: number;
  image?: string;
}

/** A batch's state as the API answers it (Radix `BatchStatus`). */
export interface BatchStatusView {
  name: string;
  batchName: string;
  batchId?: string;
  batchType: BatchRecord['type'];
  created: string;
  started: string | null;
  ended: string | null;
  updated: string;
  status: string;
  message?: string;
  /** The batch's own labels; absent when it has none. */
  labels?: Labels;
  /** How many of the batch's jobs are in each status (API reads only). */
  jobCounts?: StatusCounts;
  jobStatuses?: JobStatusView[];
}

export function jobStatusView(job: JobRecord, batchType: BatchRecord['type']): JobStatusView {
  const view: JobStatusView = {
    name: job.name,
    created: job.created,
    started: job.started,
    ended: job.ended,
    updated: job.updated,
    status: job.status,
    failed: job.failed,
    podStatuses: job.attempts.map((attempt, index) => podStatusView(attempt, index, job)),
  };
  if (job.jobId !== undefined) view.jobId = job.jobId;
  if (batchType === 'batch') view.batchName = job.batchName;
  if (job.message) view.message = job.message;
  if (job.spec.labels) view.labels = job.spec.labels;
  if (job.spec.priority) view.priority = job.spec.priority;
  if (job.generation) view.generation = job.generation;
  return view;
}

function podStatusView(attempt: Attempt, index: number, job: JobRecord): PodStatusView {
  const view: PodStatusView = {
    name: attempt.name,
    created: attempt.created,
    startTime: attempt.startTime,
    endTime: attempt.endTime,
    exitCode: attempt.exitCode,
    reason: attempt.reason,
    replicaStatus: { status: attempt.replicaStatus },
    restartCount: 0,
    podIndex: index,
  };
  const image = imageOf(job);
  if (image) view.image = image;
  return view;
}

function imageOf(job: JobRecord): string | undefined {
  const { image, imageTagName } = job.spec;
  if (!image) return undefined;
  return imageTagName ? image.replace(/\{imageTagName\}/g, imageTagName) : image;
}

export function batchStatusView(
  batch: BatchRecord,
  summary: BatchSummary,
  jobs?: Iterable<JobStatusView>,
): BatchStatusView {
  const view: BatchStatusView = {
    name: batch.name,
    batchName: batch.name,
    batchType: batch.type,
    created: batch.created,
    started: summary.started,
    ended: summary.ended,
    updated: summary.updated ?? batch.created,
    status: summary.status,
  };
  if (batch.batchId !== undefined) view.batchId = batch.batchId;
  if (batch.labels) view.labels = batch.labels;
  if (jobs) view.jobStatuses = [...jobs];
  return view;
}

/** The Radix `Status` body for a successful operation. */
export interface SuccessView {
  status: 'Success';
  message: string;
  code: 200;
}

export function success(message: string): SuccessView {
  return { status: 'Success', message, code: 200 };
}
