import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { ObservedAttempt, ObservedCondition, ObservedJob } from '../../core/cluster-job.js';
import { ANNOTATIONS } from './labels.js';

/** Translates Jobs and pods into the plain shapes the core decides from; no status decision here. */

function iso(value: Date | string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  return new Date(value).toISOString();
}

function condition(job: V1Job, type: string): ObservedCondition | undefined {
  const found = job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  return found && { at: iso(found.lastTransitionTime), reason: found.reason ?? null, message: found.message ?? null };
}

/** The Job as observed now (`exists`), or as last seen before it was deleted. */
export function observedJob(job: V1Job, gone?: { at: string }): ObservedJob {
  const status = job.status ?? {};
  const complete = condition(job, 'Complete');
  return {
    exists: gone === undefined,
    seen: true,
    goneAt: gone?.at ?? null,
    created: iso(job.metadata?.creationTimestamp),
    suspended: condition(job, 'Suspended') !== undefined,
    stoppedAt: job.metadata?.annotations?.[ANNOTATIONS.stoppedAt] ?? null,
    complete: complete && { ...complete, completionTime: iso(status.completionTime) },
    failed: condition(job, 'Failed'),
    startTime: iso(status.startTime),
    failedCount: status.failed ?? 0,
    active: status.active ?? 0,
    conditionTimes: (status.conditions ?? []).map((c) => iso(c.lastTransitionTime)).filter((at): at is string => at !== null),
  };
}

/** A Job recorded as launched that is not in the cluster when the service starts: gone, never seen by this instance. */
export function unseenGoneJob(at: string): ObservedJob {
  return { exists: false, seen: false, goneAt: at, created: null, suspended: false, stoppedAt: null, startTime: null, failedCount: 0, active: 0, conditionTimes: [] };
}

const PHASES = new Set(['Pending', 'Running', 'Succeeded', 'Failed']);

/** One pod as an attempt: its phase and the state of its job container; `gone` once it was seen deleted. */
export function observedAttempt(pod: V1Pod, gone?: { at: string }): ObservedAttempt {
  const container = pod.status?.containerStatuses?.find((status) => status.name === 'job') ?? pod.status?.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  const phase = pod.status?.phase ?? 'Pending';
  const attempt: ObservedAttempt = {
    name: pod.metadata?.name ?? '',
    created: iso(pod.metadata?.creationTimestamp) ?? '',
    phase: PHASES.has(phase) ? (phase as ObservedAttempt['phase']) : 'Unknown',
    startTime: iso(container?.state?.running?.startedAt ?? terminated?.startedAt ?? pod.status?.startTime),
    waitingReason: container?.state?.waiting?.reason ?? null,
    podReason: pod.status?.reason ?? null,
    terminating: Boolean(pod.metadata?.deletionTimestamp),
    disrupted: pod.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True') ?? false,
  };
  if (terminated) attempt.terminated = { exitCode: terminated.exitCode, reason: terminated.reason ?? null, finishedAt: iso(terminated.finishedAt) };
  if (gone) attempt.goneAt = gone.at;
  return attempt;
}
