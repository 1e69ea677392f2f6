import { createHash } from 'node:crypto';
import type { Attempt, JobRecord, JobStatusValue } from './model.js';
import { isTerminal } from './model.js';
import { backoffLimitMessage, deadlineMessage, decideAfterFailure, failedMessage, stoppedMessage } from './status.js';

/**
 * What a job's record is on a cluster, decided from what was recorded for the job (launched, stop, outcome)
 * and what is observed of its Job and pods, in plain shapes: the Kubernetes adapter translates its objects
 * into these and takes no status decision of its own.
 */

/** A condition the job controller set on the Job. */
export interface ObservedCondition {
  at: string | null;
  reason?: string | null;
  message?: string | null;
}

/** The Job as last seen. `exists: false` means it is gone (deleted), and the other fields are its last state. */
export interface ObservedJob {
  exists: boolean;
  /** Whether it was ever seen; false for a Job that was recorded as launched but is gone when the service starts. */
  seen: boolean;
  /** When the scheduler found it gone. */
  goneAt?: string | null;
  created: string | null;
  /** The job controller acknowledged a suspension (condition `Suspended`). */
  suspended: boolean;
  /** The stopped-at annotation the scheduler put on the Job with the suspension. */
  stoppedAt: string | null;
  complete?: ObservedCondition & { completionTime?: string | null };
  failed?: ObservedCondition;
  startTime: string | null;
  /** `status.failed`: failures the job controller counted toward backoffLimit. */
  failedCount: number;
  active: number;
  conditionTimes: string[];
}

/** One pod of the Job as last seen. */
export interface ObservedAttempt {
  name: string;
  created: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  startTime: string | null;
  terminated?: { exitCode: number; reason: string | null; finishedAt: string | null };
  waitingReason?: string | null;
  podReason?: string | null;
  /** Being deleted (deletionTimestamp set). */
  terminating: boolean;
  /** When the scheduler saw the pod deleted; absent while it exists. */
  goneAt?: string | null;
  /** The platform interrupted it (condition `DisruptionTarget`): eviction, preemption, node drain. */
  disrupted: boolean;
}

/** A final outcome as recorded on the cluster: enough to answer for the job when its Job is gone. */
export interface RecordedOutcome {
  status: 'Succeeded' | 'Failed' | 'Stopped';
  started: string | null;
  ended: string | null;
  updated: string;
  failed: number;
  message: string | null;
  attempts: Attempt[];
}

/**
 * A restart recorded on the cluster: the job's current run (its Job is named for it, see `runJobName`), when the
 * restart was asked, and the last attempts of its earlier runs, kept here until the run's own outcome holds them.
 */
export interface RecordedRestart {
  run: number;
  at: string;
  attempts: Attempt[];
}

/** What was recorded on the cluster for a job. */
export interface RecordedIntent {
  /** A Job may have been created for it (recorded before each create). */
  launched: boolean;
  stoppedAt: string | null;
  outcome: RecordedOutcome | null;
  /** Absent until the job is first restarted. */
  restart?: RecordedRestart;
}

export interface ClusterJobInput {
  base: JobRecord;
  intent: RecordedIntent;
  /** Undefined while no Job was seen (not created yet, a create in flight, or a watch that has not told yet). */
  job?: ObservedJob;
  attempts: readonly ObservedAttempt[];
  /** No Job can exist: nothing was created, or a stop found none once no create could still land. */
  knownAbsent?: boolean;
  /** The namespace's quota allows no more Jobs for now. */
  waitingForQuota?: boolean;
  /** The cluster refused the Job for good (an HTTP status other than 409, 429 and quota's 403). */
  createRefused?: { code: number | undefined; at: string };
}

/** Recorded outcomes keep this many attempts (the last ones) and this much message, to bound the record's size. */
export const OUTCOME_ATTEMPTS = 5;
export const OUTCOME_MESSAGE_CHARS = 512;

const STUCK_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff']);
export const WAITING_FOR_QUOTA = "the namespace's resource quota allows no more Jobs now; the Job is created as soon as it does";

function latest(...values: Array<string | null | undefined>): string | null {
  let best: string | null = null;
  for (const value of values) if (value && (!best || value > best)) best = value;
  return best;
}

/**
 * The restart to record for an ended job: its next run, when it was asked, and the last attempts it has shown
 * (earlier runs' included), which its record keeps showing once the previous run's Job and outcome are gone.
 */
export function nextRestart(record: JobRecord, previous: RecordedRestart | undefined, at: string): RecordedRestart {
  return { run: (previous?.run ?? 0) + 1, at, attempts: record.attempts.slice(-OUTCOME_ATTEMPTS) };
}

/** Whether the scheduler may (still) create the job's Job: never after a stop, an outcome, or a Job seen gone. */
export function mayCreateJob(intent: RecordedIntent, job: ObservedJob | undefined): boolean {
  return !intent.outcome && !intent.stoppedAt && job === undefined;
}

/**
 * One attempt as the API shows it. A pod deleted without a terminated state ended when its deletion was
 * seen, for the reason the job gives (stopped, deadline); a pod the platform interrupted is `Interrupted`
 * and does not count toward backoffLimit.
 */
export function attemptRecord(pod: ObservedAttempt, context: { stopped: boolean; deadlineExceeded: boolean }): Attempt {
  const ended = pod.terminated !== undefined || pod.goneAt !== undefined;
  const attempt: Attempt = {
    name: pod.name,
    created: pod.created,
    startTime: pod.startTime,
    endTime: pod.terminated?.finishedAt ?? pod.goneAt ?? null,
    exitCode: pod.terminated?.exitCode ?? null,
    reason: pod.terminated?.reason ?? pod.waitingReason ?? (pod.phase === 'Failed' ? pod.podReason ?? null : null),
    replicaStatus: pod.phase === 'Unknown' ? 'Pending' : pod.phase,
  };
  const unfinished = pod.phase !== 'Succeeded' && pod.phase !== 'Failed';
  const deleted = pod.terminating || pod.goneAt !== undefined;
  if (pod.disrupted && (pod.phase === 'Failed' || (unfinished && ended))) {
    return { ...attempt, reason: 'Interrupted', replicaStatus: 'Failed', counted: false };
  }
  // Deleted because the job was stopped or ran out of time: ended for that reason, whatever its container said as
  // it was killed (the exit code stays: it is what the process did with the signal).
  if (context.stopped && deleted && pod.phase !== 'Succeeded') return { ...attempt, reason: 'Stopped', replicaStatus: 'Stopped' };
  if (context.deadlineExceeded && deleted && pod.phase !== 'Succeeded') return { ...attempt, reason: 'DeadlineExceeded', replicaStatus: 'Failed' };
  if (unfinished && ended) return { ...attempt, reason: attempt.reason ?? (context.deadlineExceeded ? 'DeadlineExceeded' : 'Deleted'), replicaStatus: 'Failed' };
  return attempt;
}

function isLive(attempt: Attempt): boolean {
  return attempt.endTime === null && attempt.replicaStatus !== 'Succeeded' && attempt.replicaStatus !== 'Failed';
}

function byCreation(a: ObservedAttempt, b: ObservedAttempt): number {
  return a.created < b.created ? -1 : a.created > b.created ? 1 : a.name < b.name ? -1 : 1;
}

/**
 * The job's record on a cluster. A recorded outcome is final. Otherwise the Job decides: its Complete or
 * Failed condition; a stop (recorded, or the Job's annotation) is `Stopping` until the job controller has
 * suspended the Job and no attempt runs; a Job gone without an outcome was deleted by someone else, and the
 * job is `Failed` (it is never created again, so it never runs twice). Without a Job the job is `Waiting`,
 * `Stopped` once stopped, or `Failed` when the cluster refused its Job for good.
 */
export function observedJobRecord(input: ClusterJobInput): JobRecord {
  const { intent, job } = input;
  const base = restartedBase(input.base, intent.restart);
  const stoppedAt = intent.stoppedAt ?? job?.stoppedAt ?? null;
  const context = { stopped: stoppedAt !== null, deadlineExceeded: job?.failed?.reason === 'DeadlineExceeded' };
  // The observed attempts are the current run's (the runtime gives only the pods of the run's Job).
  const attempts = [...input.attempts].sort(byCreation).map((pod) => attemptRecord(pod, context));
  const past = intent.restart?.attempts ?? [];
  if (intent.outcome) {
    const outcome = intent.outcome;
    // A restarted run's outcome holds the earlier runs' last attempts too: those the cluster no longer shows stay.
    const shown = attempts.length === 0 ? outcome.attempts : intent.restart ? withEarlier(outcome.attempts, attempts) : attempts;
    return inOrder({
      ...base,
      status: outcome.status,
      started: outcome.started,
      ended: outcome.ended,
      failed: outcome.failed,
      message: outcome.message,
      attempts: shown,
      updated: latest(outcome.updated, ...shown.flatMap((a) => [a.created, a.startTime, a.endTime])) ?? outcome.updated,
    });
  }
  const record: JobRecord = { ...base, attempts: [...past, ...attempts], message: null };
  const started = job?.startTime ?? attempts.find((attempt) => attempt.startTime)?.startTime ?? null;
  const live = attempts.some(isLive) || (job?.exists === true && job.active > 0);
  let status: JobStatusValue;
  let ended: string | null = null;
  if (input.createRefused && !job) {
    status = 'Failed';
    ended = input.createRefused.at;
    record.message = `CreateFailed: the cluster refused the Job (HTTP ${input.createRefused.code ?? 'error'}); see the service log`;
  } else if (!job) {
    if (stoppedAt && (input.knownAbsent || !intent.launched)) {
      status = 'Stopped';
      ended = stoppedAt;
    } else if (stoppedAt) {
      status = 'Stopping';
    } else {
      const waiting = past.length > 0 ? { ...base, attempts: past } : base;
      return input.waitingForQuota ? { ...waiting, message: WAITING_FOR_QUOTA } : waiting;
    }
  } else if (job.complete) {
    status = 'Succeeded';
    ended = job.complete.completionTime ?? job.complete.at;
  } else if (job.failed) {
    status = 'Failed';
    ended = job.failed.at;
    record.message = failedJobMessage(base, job.failed, attempts);
  } else if (stoppedAt) {
    const settled = !job.exists || (job.suspended && !live);
    status = settled ? 'Stopped' : 'Stopping';
    if (settled) ended = latest(stoppedAt, ...attempts.map((attempt) => attempt.endTime), job.exists ? null : job.goneAt);
  } else if (!job.exists) {
    status = 'Failed';
    ended = job.goneAt ?? null;
    record.message = job.seen
      ? 'the Job was deleted outside the scheduler before it finished; it is not created again'
      : 'the Job is gone and no outcome was recorded (it was deleted outside the scheduler, or its creation was cut short by a restart); it is not created again, so the job never runs twice';
  } else if (attempts.some((attempt) => attempt.replicaStatus === 'Running')) {
    status = 'Running';
  } else {
    status = 'Active';
    const stuck = [...attempts].reverse().find((attempt) => attempt.replicaStatus === 'Pending' && attempt.reason && STUCK_REASONS.has(attempt.reason));
    if (stuck) record.message = `${stuck.reason}: the attempt ${stuck.name} cannot start`;
  }
  if (status === 'Stopped') record.message = stoppedMessage(attempts);
  record.status = status;
  record.started = started;
  record.ended = ended;
  record.failed = job?.failedCount ?? 0;
  record.updated = latest(
    base.updated,
    base.created,
    job?.created,
    started,
    ended,
    stoppedAt,
    job?.exists === false ? job.goneAt : null,
    ...(job?.conditionTimes ?? []),
    ...record.attempts.flatMap((attempt) => [attempt.created, attempt.startTime, attempt.endTime]),
  ) ?? base.updated;
  return inOrder(record);
}

/** The record of a restarted job before its run is seen: its run as its generation, updated when the restart was asked. */
function restartedBase(base: JobRecord, restart: RecordedRestart | undefined): JobRecord {
  if (!restart) return base;
  return { ...base, generation: restart.run, updated: latest(base.updated, restart.at) ?? base.updated };
}

/** The current run's attempts after the earlier ones an outcome kept (by name), in the order they were created. */
function withEarlier(kept: readonly Attempt[], current: readonly Attempt[]): Attempt[] {
  const names = new Set(current.map((attempt) => attempt.name));
  return [...kept.filter((attempt) => !names.has(attempt.name)), ...current];
}

/**
 * The name of the Job of a job's run: the job's own name for its first run (as before restarts existed), and a
 * name of its own for each later run, so that a create for one run can never make a second Job for it (the
 * name is taken) nor be taken for an earlier run's Job. At most 63 characters, as the job-name label needs: a
 * name too long for the suffix is cut and made unique again by a digest of the whole name.
 */
export function runJobName(name: string, run: number): string {
  if (run === 0) return name;
  const suffix = `-r${run}`;
  if (name.length + suffix.length <= MAX_JOB_NAME) return `${name}${suffix}`;
  const tail = `-${createHash('sha256').update(name).digest('hex').slice(0, 12)}${suffix}`;
  return `${name.slice(0, MAX_JOB_NAME - tail.length).replace(/-+$/, '')}${tail}`;
}

const MAX_JOB_NAME = 63;

function notBefore<T extends string | null>(time: T, floor: string): T | string {
  return time !== null && time < floor ? floor : time;
}

/**
 * The cluster keeps times in whole seconds, the scheduler in milliseconds: a Job created at 05.651 starts at
 * 05.000 by the cluster's clock. Times are shown in their order (created ≤ started ≤ ended; an attempt's
 * created ≤ startTime ≤ endTime, none before the job's creation), as the local runtime shows them: a cluster
 * time rounded below the time it follows is shown as that time.
 */
function inOrder(record: JobRecord): JobRecord {
  const floor = record.created;
  let changed = false;
  const attempts = record.attempts.map((attempt) => {
    const created = notBefore(attempt.created, floor);
    const startTime = notBefore(attempt.startTime, created);
    const endTime = notBefore(attempt.endTime, startTime ?? created);
    if (created === attempt.created && startTime === attempt.startTime && endTime === attempt.endTime) return attempt;
    changed = true;
    return { ...attempt, created, startTime, endTime };
  });
  const started = notBefore(record.started, floor);
  const ended = notBefore(record.ended, started ?? floor);
  const updated = notBefore(record.updated, ended ?? started ?? floor);
  if (!changed && started === record.started && ended === record.ended && updated === record.updated) return record;
  return { ...record, attempts: changed ? attempts : record.attempts, started, ended, updated };
}

/**
 * A failed Job's message in the words the local runtime uses for the same failure (status.ts), from the job's own
 * settings: the job controller's wording and its rule numbers (which count the rules the scheduler adds) are not
 * shown. A reason the scheduler does not know keeps the controller's message.
 */
function failedJobMessage(base: JobRecord, failed: ObservedCondition, attempts: readonly Attempt[]): string {
  const last = attempts.at(-1);
  const { spec } = base;
  switch (failed.reason) {
    case 'BackoffLimitExceeded':
      return failedMessage('BackoffLimitExceeded', backoffLimitMessage(spec.backoffLimit), last);
    case 'DeadlineExceeded':
      return failedMessage('DeadlineExceeded', deadlineMessage(spec.timeLimitSeconds), last);
    case 'PodFailurePolicy': {
      const exitCode = [...attempts].reverse().find((attempt) => attempt.exitCode !== null && attempt.exitCode !== 0)?.exitCode ?? null;
      const decision = decideAfterFailure(spec.failurePolicy, spec.backoffLimit, 0, exitCode);
      if (decision.action === 'fail' && decision.reason === 'PodFailurePolicy') return failedMessage('PodFailurePolicy', decision.message, last);
      return failedMessage('PodFailurePolicy', failed.message ?? 'a failurePolicy rule failed the job', last);
    }
    default:
      return failedMessage(failed.reason ?? 'Failed', failed.message ?? 'the job failed', last);
  }
}

/**
 * What to record for a finished job, or null while it is not finished. Bounded: the last attempts and the
 * start of the message, so that the outcomes of hundreds of jobs fit one cluster object.
 */
export function outcomeOf(record: JobRecord): RecordedOutcome | null {
  if (!isTerminal(record.status)) return null;
  return {
    status: record.status as RecordedOutcome['status'],
    started: record.started,
    ended: record.ended,
    updated: record.updated,
    failed: record.failed,
    message: record.message === null ? null : record.message.slice(0, OUTCOME_MESSAGE_CHARS),
    attempts: record.attempts.slice(-OUTCOME_ATTEMPTS),
  };
}
