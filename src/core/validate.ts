import { ApiError, type FieldProblem, summarizeProblems } from './errors.js';
import { labelProblems, MAX_LABELS, mergeLabels } from './labels.js';
import type { BatchDescription, JobDescription, JobSettings } from './model.js';
import { priorityProblems } from './priority.js';

/** The Radix guide promises 1 MB per payload; we honour a full MiB, measured in UTF-8 bytes. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Environment variables the scheduler sets itself; a description may not override them. */
export const RESERVED_VARIABLES: ReadonlySet<string> = new Set(['PAYLOAD_PATH', 'JOB_NAME', 'BATCH_NAME', 'JOB_ID']);

/**
 * Checks what the OpenAPI schema cannot express, and moves `resources.imageTagName` (where the
 * Radix guide's first example prints it) to `imageTagName`. Throws a 413 when a payload is over
 * the limit, else a 422 naming every bad field.
 */
export function checkJobDescription(job: JobDescription): JobDescription {
  const [checked] = toEnd(checkAll([job], ''));
  return checked as JobDescription;
}

export function checkBatchDescription(batch: BatchDescription): BatchDescription {
  return toEnd(checkingBatch(batch));
}

/**
 * The same checks, giving the event loop a turn (`nextTurn`) between parts of PART jobs: a 100,000-job batch
 * checked in one go held it 80-100 ms.
 */
export async function checkBatchDescriptionInTurns(batch: BatchDescription, nextTurn: () => Promise<void>): Promise<BatchDescription> {
  const checking = checkingBatch(batch);
  for (let step = checking.next(); ; step = checking.next()) {
    if (step.done) return step.value;
    await nextTurn();
  }
}

/** Jobs checked between two turns of the event loop. */
const PART = 2000;

function toEnd<T>(steps: Generator<void, T>): T {
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/** Yields where a turn may be given. */
function* checkingBatch(batch: BatchDescription): Generator<void, BatchDescription> {
  const problems: FieldProblem[] = [];
  const defaults = batch.defaultRadixJobComponentConfig;
  if (defaults) settingsProblems(defaults, 'defaultRadixJobComponentConfig.', problems);
  if (batch.batchId !== undefined) {
    nulProblems(batch.batchId, 'batchId', problems);
    idProblems(batch.batchId, 'batchId', problems);
  }
  problems.push(...labelProblems(batch.labels, 'labels'), ...priorityProblems(batch.priority, 'priority'));
  if (batch.labels) {
    for (const [i, job] of batch.jobScheduleDescriptions.entries()) {
      if (i > 0 && i % PART === 0) yield;
      const count = job.labels ? Object.keys(mergeLabels(batch.labels, job.labels) ?? {}).length : 0;
      if (count > MAX_LABELS) problems.push({ path: `jobScheduleDescriptions[${i}].labels`, message: `gives the job ${count} labels with the batch's; at most ${MAX_LABELS} are allowed` });
    }
  }
  const jobs = yield* checkAll(batch.jobScheduleDescriptions, 'jobScheduleDescriptions', problems);
  return {
    ...batch,
    defaultRadixJobComponentConfig: defaults && normalize(defaults),
    jobScheduleDescriptions: jobs,
  };
}

/** Checks every job; `problems` already found (in a batch's defaults) are answered with the jobs'. */
function* checkAll(jobs: JobDescription[], listPath: string, problems: FieldProblem[] = []): Generator<void, JobDescription[]> {
  const prefix = (i: number) => (listPath ? `${listPath}[${i}].` : '');
  const tooLarge: FieldProblem[] = [];
  for (const [i, job] of jobs.entries()) {
    if (i > 0 && i % PART === 0) yield;
    const bytes = job.payload === undefined ? 0 : Buffer.byteLength(job.payload, 'utf8');
    if (bytes > MAX_PAYLOAD_BYTES) {
      tooLarge.push({ path: `${prefix(i)}payload`, message: `is ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES} are allowed` });
    }
  }
  if (tooLarge.length > 0) {
    throw ApiError.payloadTooLarge(`${summarizeProblems(tooLarge)}`, tooLarge);
  }
  for (const [i, job] of jobs.entries()) {
    if (i > 0 && i % PART === 0) yield;
    settingsProblems(job, prefix(i), problems);
    if (job.jobId !== undefined) idProblems(job.jobId, `${prefix(i)}jobId`, problems);
    problems.push(...labelProblems(job.labels, `${prefix(i)}labels`), ...priorityProblems(job.priority, `${prefix(i)}priority`));
  }
  if (problems.length > 0) throw invalidFields(problems);
  return jobs.map(normalize);
}

function settingsProblems(settings: JobSettings, prefix: string, problems: FieldProblem[]): void {
  for (const name of Object.keys(settings.variables ?? {})) {
    if (!ENV_NAME.test(name)) {
      problems.push({ path: `${prefix}variables.${name}`, message: 'is not a valid environment variable name (letters, digits and _, not starting with a digit)' });
    } else if (RESERVED_VARIABLES.has(name)) {
      problems.push({ path: `${prefix}variables.${name}`, message: 'is set by the scheduler and cannot be overridden' });
    }
  }
  settings.failurePolicy?.rules.forEach((rule, i) => {
    if (rule.onExitCodes.operator === 'In' && rule.onExitCodes.values.includes(0)) {
      problems.push({ path: `${prefix}failurePolicy.rules[${i}].onExitCodes.values`, message: 'cannot contain 0 with operator In' });
    }
  });
  // A payload is bytes to deliver as a file, NUL included; every other string reaches an environment,
  // an argument list, a label or a log, where a NUL ends it early or is refused.
  for (const [key, value] of Object.entries(settings)) if (key !== 'payload') nulProblems(value, `${prefix}${key}`, problems);
}

function nulProblems(value: unknown, path: string, problems: FieldProblem[]): void {
  if (typeof value === 'string') {
    if (value.includes('\0')) problems.push({ path: path || '(body)', message: 'cannot contain a NUL character' });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => nulProblems(item, `${path}[${i}]`, problems));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (key.includes('\0')) problems.push({ path: at, message: 'is a name that cannot contain a NUL character' });
      else nulProblems(item, at, problems);
    }
  }
}

/** A client's own id is echoed in answers, logs and the job's environment: printable text only. */
function idProblems(id: string, path: string, problems: FieldProblem[]): void {
  if (/\p{Cc}/u.test(id) && !id.includes('\0')) problems.push({ path, message: 'must be printable (no control characters)' });
}

/** Keys JavaScript objects treat specially: `__proto__` would be dropped on merging, the others shadow what every object has. */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Every place a parsed body holds an unsafe key (JSON.parse keeps `__proto__` as an own property),
 * so that it is refused instead of silently lost. Stops after `max` findings.
 */
export function unsafeKeyProblems(value: unknown, path = '', problems: FieldProblem[] = [], max = 20): FieldProblem[] {
  if (problems.length >= max || typeof value !== 'object' || value === null) return problems;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && problems.length < max; i++) unsafeKeyProblems(value[i], `${path}[${i}]`, problems, max);
    return problems;
  }
  for (const key of Object.keys(value)) {
    const at = path ? `${path}.${key}` : key;
    if (UNSAFE_KEYS.has(key)) problems.push({ path: at, message: `is not accepted as a name: ${[...UNSAFE_KEYS].join(', ')} are refused anywhere in a request` });
    else unsafeKeyProblems((value as Record<string, unknown>)[key], at, problems, max);
  }
  return problems;
}

function normalize<T extends JobSettings>(settings: T): T {
  const legacyTag = (settings.resources as { imageTagName?: string } | undefined)?.imageTagName;
  if (legacyTag === undefined) return settings;
  const { imageTagName: _moved, ...resources } = settings.resources as { imageTagName?: string };
  return { ...settings, resources, imageTagName: settings.imageTagName ?? legacyTag };
}

function invalidFields(problems: FieldProblem[]): ApiError {
  return ApiError.invalid(summarizeProblems(problems), problems);
}

