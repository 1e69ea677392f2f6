import type { Attempt, FailurePolicy, JobRecord, JobStatusValue } from './model.js';
import { isTerminal } from './model.js';

/** What happens to a job after one of its attempts failed, by the rules of a Kubernetes Job. */
export type FailureDecision =
  | { action: 'retry'; counted: boolean }
  | { action: 'fail'; counted: boolean; reason: 'BackoffLimitExceeded' | 'PodFailurePolicy'; message: string };

/**
 * Applies `failurePolicy` (as Kubernetes `podFailurePolicy` on exit codes) and `backoffLimit`.
 * Rules are evaluated in order; the first that matches decides. `FailJob` fails the job at once,
 * `Ignore` retries without counting, `Count` (and no match) counts toward `backoffLimit`.
 * A failure with no exit code (the process was lost) matches no rule.
 */
export function decideAfterFailure(
  policy: FailurePolicy | undefined,
  backoffLimit: number,
  failedSoFar: number,
  exitCode: number | null,
): FailureDecision {
  const index = exitCode === null || exitCode === 0 ? -1 : (policy?.rules ?? []).findIndex((rule) => {
    const listed = rule.onExitCodes.values.includes(exitCode);
    return rule.onExitCodes.operator === 'In' ? listed : !listed;
  });
  const rule = index >= 0 ? policy?.rules[index] : undefined;
  if (rule?.action === 'FailJob') {
    return {
      action: 'fail',
      counted: true,
      reason: 'PodFailurePolicy',
      message: failJobRuleMessage(exitCode!, index),
    };
  }
  if (rule?.action === 'Ignore') return { action: 'retry', counted: false };
  if (failedSoFar + 1 > backoffLimit) {
    return {
      action: 'fail',
      counted: true,
      reason: 'BackoffLimitExceeded',
      message: backoffLimitMessage(backoffLimit),
    };
  }
  return { action: 'retry', counted: true };
}

/*
 * The messages of a job that ended, worded once for every runtime: a client must not be able to tell the runtime
 * from the JSON. A failed job's message is `<reason>: <what happened>`, then `; the last attempt ended with <its
 * reason>` when that reason says more than `Error`, then what the runtime adds (a cause it saw, a note).
 */
export const STOPPED_MESSAGE = 'stopped';
export const STOPPED_BEFORE_START_MESSAGE = 'stopped before it started';

/** A stopped job's message: whether an attempt of it had been created. */
export function stoppedMessage(attempts: readonly Attempt[]): string {
  return attempts.length === 0 ? STOPPED_BEFORE_START_MESSAGE : STOPPED_MESSAGE;
}

export function backoffLimitMessage(backoffLimit: number): string {
  return `job has reached the specified backoff limit (${backoffLimit})`;
}

/** `index` counts the rules of the job's own `failurePolicy`, as the user wrote them. */
export function failJobRuleMessage(exitCode: number, index: number): string {
  return `exit code ${exitCode} matched FailJob rule ${index} of failurePolicy`;
}

export function deadlineMessage(timeLimitSeconds: number): string {
  return `job ran longer than timeLimitSeconds (${timeLimitSeconds})`;
}

/** Attempt reasons that add nothing to a failed job's message. */
const PLAIN_REASONS = new Set(['Error', 'Completed']);

/** The message of a failed job (see above); `detail` is what the runtime saw of the cause, if anything. */
export function failedMessage(reason: string, what: string, lastAttempt: Attempt | undefined, detail?: string | null): string {
  const last = lastAttempt?.reason;
  const lastSays = last && !PLAIN_REASONS.has(last) && last !== reason ? `; the last attempt ended with ${last}` : '';
  return `${reason}: ${what}${lastSays}${detail ? `: ${detail}` : ''}`;
}

export interface BatchStatusRule {
  condition: 'All' | 'Any';
  operator: 'In' | 'NotIn';
  jobStatuses: JobStatusValue[];
  batchStatus: string;
}

export interface BatchSummary {
  status: string;
  started: string | null;
  ended: string | null;
  updated: string | null;
}

/** Per-status job counts of a batch; kept up to date incrementally by the index. */
export type StatusCounts = Record<JobStatusValue, number>;

export function emptyCounts(): StatusCounts {
  return { Waiting: 0, Active: 0, Running: 0, Succeeded: 0, Failed: 0, Stopping: 0, Stopped: 0 };
}

/**
 * The default batch status: `Waiting` until a job starts, `Running` while any job is not done
 * (`Stopping` when every unfinished job is stopping), and once all are done `Failed` if any
 * failed, else `Stopped` if any was stopped, else `Succeeded`. `batchStatusRules`, when given,
 * are evaluated in order and the first that matches overrides this, as Radix does.
 */
export function deriveBatchStatus(counts: StatusCounts, total: number, rules: BatchStatusRule[] = []): string {
  for (const rule of rules) {
    if (ruleMatches(rule, counts, total)) return rule.batchStatus;
  }
  const done = counts.Succeeded + counts.Failed + counts.Stopped;
  if (done === total) {
    if (counts.Failed > 0) return 'Failed';
    if (counts.Stopped > 0) return 'Stopped';
    return 'Succeeded';
  }
  if (counts.Stopping > 0 && counts.Stopping === total - done) return 'Stopping';
  if (counts.Waiting === total) return 'Waiting';
  return 'Running';
}

function ruleMatches(rule: BatchStatusRule, counts: StatusCounts, total: number): boolean {
  const listed = rule.jobStatuses.reduce((sum, status) => sum + counts[status], 0);
  const matching = rule.operator === 'In' ? listed : total - listed;
  return rule.condition === 'All' ? total > 0 && matching === total : matching > 0;
}

/** Counts the statuses of a list of jobs. */
export function countStatuses(jobs: Iterable<Pick<JobRecord, 'status'>>): StatusCounts {
  const counts = emptyCounts();
  for (const job of jobs) counts[job.status]++;
  return counts;
}

/** Whether a job in this status still needs the runtime (it is neither waiting nor done). */
export function isInFlight(status: JobStatusValue): boolean {
  return status === 'Active' || status === 'Running' || status === 'Stopping';
}

export function allDone(counts: StatusCounts, total: number): boolean {
  return counts.Succeeded + counts.Failed + counts.Stopped === total;
}


export { isTerminal };
