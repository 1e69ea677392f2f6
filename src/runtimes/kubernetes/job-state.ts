import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Attempt, JobRecord, JobStatusValue } from '../../core/model.js';
import { ANNOTATIONS } from './labels.js';

/** Container waiting reasons that mean the attempt cannot start without help: shown in the job's message. */
const STUCK_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff']);

function iso(value: Date | string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  return new Date(value).toISOString();
}

function latest(...values: Array<string | null | undefined>): string | null {
  let best: string | null = null;
  for (const value of values) if (value && (!best || value > best)) best = value;
  return best;
}

/** One pod as an attempt: its phase, and the exit code and reason of its job container. */
export function attemptOf(pod: V1Pod): Attempt {
  const container = pod.status?.containerStatuses?.find((status) => status.name === 'job') ?? pod.status?.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  const waiting = container?.state?.waiting;
  const phase = pod.status?.phase ?? 'Pending';
  const deleted = Boolean(pod.metadata?.deletionTimestamp);
  let replicaStatus = phase === 'Unknown' ? 'Pending' : phase;
  if (deleted && (phase === 'Pending' || phase === 'Running')) replicaStatus = 'Stopped';
  return {
    name: pod.metadata?.name ?? '',
    created: iso(pod.metadata?.creationTimestamp) ?? '',
    startTime: iso(container?.state?.running?.startedAt ?? terminated?.startedAt ?? pod.status?.startTime),
    endTime: iso(terminated?.finishedAt),
    exitCode: terminated?.exitCode ?? null,
    reason: terminated?.reason ?? waiting?.reason ?? (phase === 'Failed' ? pod.status?.reason ?? null : null),
    replicaStatus,
  };
}

function conditionOf(job: V1Job, type: string) {
  return job.status?.conditions?.find((condition) => condition.type === type && condition.status === 'True');
}

/**
 * A job's record from its Job and the attempts seen of it. Without a Job the job is still
 * `Waiting` (or `Stopped`, when it was stopped before it was created).
 */
export function deriveJobRecord(base: JobRecord, job: V1Job | undefined, attempts: Attempt[]): JobRecord {
  if (!job) return base;
  const record: JobRecord = { ...base, attempts, message: null };
  const status = job.status ?? {};
  const stoppedAt = job.metadata?.annotations?.[ANNOTATIONS.stoppedAt] ?? null;
  const complete = conditionOf(job, 'Complete');
  const failed = conditionOf(job, 'Failed');
  const running = attempts.some((attempt) => attempt.replicaStatus === 'Running');
  const live = attempts.some((attempt) => attempt.replicaStatus === 'Running' || attempt.replicaStatus === 'Pending');
  const stuck = [...attempts].reverse().find((attempt) => attempt.replicaStatus === 'Pending' && attempt.reason && STUCK_REASONS.has(attempt.reason));
  let value: JobStatusValue;
  let ended: string | null = null;
  if (complete) {
    value = 'Succeeded';
    ended = iso(status.completionTime ?? complete.lastTransitionTime);
  } else if (failed) {
    value = 'Failed';
    ended = iso(failed.lastTransitionTime);
    const last = attempts.at(-1);
    const lastReason = last?.reason && last.reason !== 'Error' ? `; the last attempt ended with ${last.reason}` : '';
    record.message = `${failed.reason ?? 'Failed'}: ${failed.message ?? 'the job failed'}${lastReason}`;
  } else if (stoppedAt) {
    value = live || (status.active ?? 0) > 0 ? 'Stopping' : 'Stopped';
    if (value === 'Stopped') ended = latest(stoppedAt, ...attempts.map((attempt) => attempt.endTime));
  } else if (running) {
    value = 'Running';
  } else {
    value = 'Active';
    if (stuck) record.message = `${stuck.reason}: the attempt ${stuck.name} cannot start`;
  }
  record.status = value;
  record.started = iso(status.startTime) ?? attempts.find((attempt) => attempt.startTime)?.startTime ?? null;
  record.ended = ended;
  record.failed = status.failed ?? 0;
  record.updated = latest(
    base.created,
    iso(job.metadata?.creationTimestamp),
    record.started,
    ended,
    stoppedAt,
    ...(job.status?.conditions ?? []).map((condition) => iso(condition.lastTransitionTime)),
    ...attempts.flatMap((attempt) => [attempt.created, attempt.startTime, attempt.endTime]),
  ) ?? base.updated;
  return record;
}
