import type { JobRecord, JobStatusValue } from './model.js';

/** One transition of a job: when, to which status, why. */
export interface TimelineEntry {
  time: string;
  status: JobStatusValue;
  /** A short machine-readable cause (`Accepted`, `AttemptCreated`, `Started`, `Error`, `Completed`, `StopRequested`...). */
  reason: string | null;
  message: string | null;
  /** Index of the attempt the transition is about, when it is about one. */
  attempt: number | null;
}

/** A transition as the local store records it: the entry and the key that names it (see `transitionKeyOf`). */
export interface RecordedTransition extends TimelineEntry {
  key: string;
}

/** A job's timeline as a runtime knows it. */
export interface JobTimeline {
  /** Oldest first; the first entry is always the job's acceptance. */
  entries: Array<TimelineEntry & { key?: string }>;
  /** Transitions left out between the acceptance and the oldest entry kept (the bound below). */
  dropped: number;
  /** False when the timeline is derived from what a cluster keeps and may miss transitions. */
  complete: boolean;
}

/**
 * Most transitions kept per job after its acceptance; older ones are dropped, newest kept. A job retried many
 * times makes about three transitions per attempt, so the bound shows its last twenty attempts or so.
 */
export const TIMELINE_MAX_ENTRIES = 64;

/**
 * What makes a job's state a new one to tell about: its status, how many attempts it had, the last attempt's
 * replica status, and a restart generation when a record has one. Webhook and live event ids are made from it.
 */
export function transitionKeyOf(status: string, attempts: number, lastReplicaStatus: string | undefined, generation?: number): string {
  const key = `${status}#${attempts}#${lastReplicaStatus ?? '-'}`;
  return generation ? `${key}#g${generation}` : key;
}

/** A job as accepted: its first timeline entry, never stored (every job has it). */
export function isAcceptedState(job: JobRecord): boolean {
  return job.status === 'Waiting' && job.attempts.length === 0 && !job.generation;
}

export function acceptedEntry(job: Pick<JobRecord, 'created'>): TimelineEntry {
  return { time: job.created, status: 'Waiting', reason: 'Accepted', message: null, attempt: null };
}

/** The transition a record shows: its key and entry, with a reason taken from its last attempt or its status. */
export function transitionOf(job: JobRecord): RecordedTransition {
  const last = job.attempts.at(-1);
  const attempt = last ? job.attempts.length - 1 : null;
  return {
    key: transitionKeyOf(job.status, job.attempts.length, last?.replicaStatus, job.generation),
    time: job.updated,
    status: job.status,
    reason: reasonOf(job),
    message: job.message,
    attempt,
  };
}

function reasonOf(job: JobRecord): string {
  const last = job.attempts.at(-1);
  if (job.status === 'Stopping') return job.intent === 'delete' ? 'DeleteRequested' : 'StopRequested';
  if (job.status === 'Waiting' && job.generation) return 'Restarted';
  if (last && last.endTime !== null && last.reason) return last.reason;
  if (job.status === 'Running') return 'Started';
  // The first attempt of a run (a restarted job's too) is created as the run starts.
  if (job.status === 'Active' && last?.replicaStatus === 'Pending') return job.attempts.length > 1 && last.created !== job.started ? 'Retrying' : 'AttemptCreated';
  if (job.status === 'Failed' && job.message) return job.message.split(':')[0]!;
  return job.status;
}
