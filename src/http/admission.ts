import type { RequestHandler } from 'express';
import { ApiError, type FieldProblem, summarizeProblems } from '../core/errors.js';
import { checkBatchSize, checkTrackedJobs, EMPTY_EXEC_SIZE, execProblems, type ExecSize, overlayExecSize, type RequestLimits } from '../core/limits.js';
import type { BatchDescription, JobDescription, JobSettings } from '../core/model.js';
import { type OverridePolicy, overrideProblems } from '../core/trust.js';
import { unsafeKeyProblems } from '../core/validate.js';
import { idempotencyKeyOf } from './submit.js';

export interface AdmissionOptions {
  limits: RequestLimits;
  /** Which job fields clients may set (the component file decides). */
  policy: OverridePolicy;
  /** The component's own settings: what every job inherits first. */
  component: JobSettings;
  /** How many jobs the service tracks now. */
  trackedJobs: () => number;
  /** Sent with a 429: when room may have been made (the history check's period). */
  retryAfterSeconds: number;
  /** Whether a submission with this idempotency key (or batchId) answers a batch already made: it adds no job. */
  answersKnownKey?: (idempotencyKey: string | undefined, batchId?: string) => boolean;
}

/** Jobs checked between two turns of the event loop, so that a large batch never holds it long. */
const CHUNK = 1000;
const MAX_PROBLEMS = 20;

export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Before schema validation: the cheap refusals, first the batch size on the bare array length (a
 * million `{}` is refused before any work per job), then unsafe keys anywhere in the body.
 */
export function screenBody(limits: RequestLimits): RequestHandler {
  return async (req, _res, next) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null) {
      next();
      return;
    }
    const { jobScheduleDescriptions: jobs, ...rest } = body as { jobScheduleDescriptions?: unknown };
    if (!Array.isArray(jobs)) {
      refuseUnsafe(unsafeKeyProblems(body));
      next();
      return;
    }
    checkBatchSize(jobs.length, limits);
    // Parsing took this turn: the walk over the jobs, and then validation, get the next ones.
    const unsafe = unsafeKeyProblems(rest);
    for (let start = 0; start < jobs.length && unsafe.length < MAX_PROBLEMS; start += CHUNK) {
      await nextTurn();
      for (let i = start; i < Math.min(start + CHUNK, jobs.length); i++) unsafeKeyProblems(jobs[i], `jobScheduleDescriptions[${i}]`, unsafe, MAX_PROBLEMS);
    }
    refuseUnsafe(unsafe);
    await nextTurn();
    next();
  };
}

function refuseUnsafe(problems: FieldProblem[]): void {
  if (problems.length > 0) throw ApiError.invalid(summarizeProblems(problems), problems);
}

/**
 * After schema validation, on submissions: the trust model, the per-job bounds and the tracked-jobs bound. The
 * validator has matched the route (its `openApiRoute`), so no router of its own matches the path again.
 */
export function admitSubmissions(options: AdmissionOptions): RequestHandler {
  const inherited = overlayExecSize(EMPTY_EXEC_SIZE, options.component);
  return (req, _res, next) => {
    const route = (req as { openapi?: { openApiRoute?: string } }).openapi?.openApiRoute;
    if (route === '/api/v1/batches') return admitBatch(req.body as BatchDescription, options, idempotencyKeyOf(req)).then(() => next());
    if (route === '/api/v1/jobs') {
      const job = (req.body ?? {}) as JobDescription;
      const problems = { trust: overrideProblems(job, options.policy), size: execProblems(job, overlayExecSize(inherited, job), options.limits, '') };
      refuseOn(problems);
      if (!options.answersKnownKey?.(idempotencyKeyOf(req))) checkTrackedJobs(options.trackedJobs(), 1, options.limits, options.retryAfterSeconds);
    }
    next();
  };
}

/** The checks of a batch after schema validation, however it was sent: trust, per-job bounds, tracked jobs. */
export async function admitBatch(batch: BatchDescription, options: AdmissionOptions, idempotencyKey?: string): Promise<void> {
  refuseOn(await batchProblems(batch, overlayExecSize(EMPTY_EXEC_SIZE, options.component), options));
  // A replay is answered (or refused) by its key, whatever room is left.
  if (options.answersKnownKey?.(idempotencyKey, batch.batchId)) return;
  checkTrackedJobs(options.trackedJobs(), batch.jobScheduleDescriptions.length, options.limits, options.retryAfterSeconds);
}

interface Problems {
  trust: FieldProblem[];
  size: FieldProblem[];
}

async function batchProblems(batch: BatchDescription, inherited: ExecSize, { policy, limits }: AdmissionOptions): Promise<Problems> {
  const defaults = batch.defaultRadixJobComponentConfig;
  const prefix = 'defaultRadixJobComponentConfig.';
  const base = overlayExecSize(inherited, defaults);
  const problems: Problems = { trust: overrideProblems(defaults ?? {}, policy, prefix), size: execProblems(defaults, base, limits, prefix) };
  const jobs = batch.jobScheduleDescriptions;
  for (let start = 0; start < jobs.length; start += CHUNK) {
    if (start > 0) await nextTurn();
    for (let i = start; i < Math.min(start + CHUNK, jobs.length); i++) {
      const job = jobs[i]!;
      const at = `jobScheduleDescriptions[${i}].`;
      problems.trust.push(...overrideProblems(job, policy, at));
      problems.size.push(...execProblems(job, overlayExecSize(base, job), limits, at));
      if (problems.trust.length + problems.size.length >= MAX_PROBLEMS) return problems;
    }
  }
  return problems;
}

/** A refused override is the more basic answer: it is given before any size problem. */
function refuseOn({ trust, size }: Problems): void {
  if (trust.length > 0) throw ApiError.invalid(summarizeProblems(trust), trust);
  if (size.length > 0) throw ApiError.payloadTooLarge(summarizeProblems(size), size);
}

