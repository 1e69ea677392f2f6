import type { JobRecord } from './model.js';

/** What an operator needs to know about a job that has just ended: one `info` log line's fields. */
export interface JobOutcome {
  job: string;
  batch: string;
  status: string;
  reason: string | null;
  durationSeconds: number | null;
  attempts: number;
}

/** A failed job's message starts with its reason (`BackoffLimitExceeded: ...`); otherwise the last attempt's says it. */
const LEADING_REASON = /^([A-Z][A-Za-z]+):/;

/** The outcome of an ended job. Its message is not part of it: it may quote what the job printed. */
export function jobOutcome(job: JobRecord): JobOutcome {
  const leading = job.status === 'Failed' ? LEADING_REASON.exec(job.message ?? '')?.[1] : undefined;
  const started = job.started ?? job.attempts[0]?.startTime ?? null;
  return {
    job: job.name,
    batch: job.batchName,
    status: job.status,
    reason: leading ?? job.attempts.at(-1)?.reason ?? null,
    durationSeconds: started && job.ended ? (Date.parse(job.ended) - Date.parse(started)) / 1000 : null,
    attempts: job.attempts.length,
  };
}
