import type { Request, RequestHandler, Response } from 'express';
import { ApiError } from '../core/errors.js';
import { checkIdempotencyKey, IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from '../core/idempotency.js';
import type { BatchDescription, JobDescription } from '../core/model.js';
import type { Scheduler, Submitted } from '../scheduler/scheduler.js';

/** The request's `Idempotency-Key`, checked (400 when malformed); undefined when none was sent. */
export function idempotencyKeyOf(req: Request): string | undefined {
  return checkIdempotencyKey(req.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()]);
}

/**
 * Whether the request asks for a dry run (`?dryRun=true`; the validator has made it a boolean on JSON requests). Any
 * other value is refused rather than taken for a real submission.
 */
export function isDryRun(req: Request): boolean {
  const value: unknown = req.query.dryRun;
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw ApiError.badRequest('the query parameter dryRun must be true or false');
}

/** Sends a submission's answer; a replayed one says so in a header. */
export function sendSubmitted(res: Response, submitted: Submitted<unknown>): void {
  if (submitted.replayed) res.set(REPLAYED_HEADER, 'true');
  res.json(submitted.view);
}

/**
 * `POST /api/v1/jobs` and `POST /api/v1/batches` (JSON), after every check of the body: a dry run answers the
 * effective settings; otherwise the submission is accepted, once per idempotency key.
 */
export function submitHandler(scheduler: Scheduler, type: 'job' | 'batch'): RequestHandler {
  return async (req, res) => {
    const key = idempotencyKeyOf(req);
    const description: BatchDescription = type === 'job' ? { jobScheduleDescriptions: [(req.body ?? {}) as JobDescription] } : (req.body as BatchDescription);
    if (isDryRun(req)) {
      res.json(await scheduler.dryRun(description, type));
      return;
    }
    if (type === 'job') sendSubmitted(res, await scheduler.submitJob(description.jobScheduleDescriptions[0]!, { idempotencyKey: key }));
    else sendSubmitted(res, await scheduler.submitBatch(description, { idempotencyKey: key }));
  };
}
