import type { JobRecord, JobStatusValue } from './model.js';
import { isTerminal } from './model.js';

/**
 * Restart and rerun, decided here: which jobs may run again, and the record a job has once it is to run again.
 * A restarted job keeps its name, settings, payload and earlier attempts; what describes a run (`started`,
 * `ended`, `message`, `failed`) starts again, so that `backoffLimit` and `timeLimitSeconds` count the new run only.
 */

/** Which ended jobs a request runs again: every ended one (restart), or those that did not succeed (rerun-failed). */
export type RestartScope = 'ended' | 'unsuccessful';

export function isRestartable(status: JobStatusValue, scope: RestartScope): boolean {
  if (!isTerminal(status)) return false;
  return scope === 'ended' || status !== 'Succeeded';
}

/** Why a job cannot be restarted now, said so that the client knows what to do; undefined when it can. */
export function restartProblem(job: Pick<JobRecord, 'name' | 'status' | 'intent'>): string | undefined {
  if (job.intent === 'delete') return `job ${job.name} is being deleted and cannot be restarted`;
  if (isTerminal(job.status)) return undefined;
  if (job.status === 'Stopping') return `job ${job.name} is stopping; restart it once it is Stopped`;
  return `job ${job.name} has not ended (status ${job.status}); stop it first, or wait for it to end, then restart it`;
}

/**
 * The record of an ended job that is to run again: `Waiting`, one generation further, with its attempts kept
 * and everything that belongs to one run cleared. `now` is when the restart was asked.
 */
export function restartedRecord(job: JobRecord, now: Date): JobRecord {
  const { intent: _intent, ending: _ending, killAt: _killAt, retryAt: _retryAt, ...rest } = job;
  return {
    ...rest,
    status: 'Waiting',
    started: null,
    ended: null,
    updated: now.toISOString(),
    message: null,
    failed: 0,
    generation: (job.generation ?? 0) + 1,
  };
}
