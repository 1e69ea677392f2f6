import { ApiError, type FieldProblem } from './errors.js';
import type { BatchDescription, JobDescription, JobSettings } from './model.js';

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
  const [checked] = checkAll([job], '');
  return checked as JobDescription;
}

export function checkBatchDescription(batch: BatchDescription): BatchDescription {
  const problems: FieldProblem[] = [];
  const defaults = batch.defaultRadixJobComponentConfig;
  if (defaults) settingsProblems(defaults, 'defaultRadixJobComponentConfig.', problems);
  if (problems.length > 0) throw invalidFields(problems);
  const jobs = checkAll(batch.jobScheduleDescriptions, 'jobScheduleDescriptions');
  return {
    ...batch,
    defaultRadixJobComponentConfig: defaults && normalize(defaults),
    jobScheduleDescriptions: jobs,
  };
}

function checkAll(jobs: JobDescription[], listPath: string): JobDescription[] {
  const prefix = (i: number) => (listPath ? `${listPath}[${i}].` : '');
  const tooLarge: FieldProblem[] = [];
  jobs.forEach((job, i) => {
    const bytes = job.payload === undefined ? 0 : Buffer.byteLength(job.payload, 'utf8');
    if (bytes > MAX_PAYLOAD_BYTES) {
      tooLarge.push({ path: `${prefix(i)}payload`, message: `is ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES} are allowed` });
    }
  });
  if (tooLarge.length > 0) {
    throw ApiError.payloadTooLarge(`${describe(tooLarge)}`, tooLarge);
  }
  const problems: FieldProblem[] = [];
  jobs.forEach((job, i) => settingsProblems(job, prefix(i), problems));
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
  const strings: Array<[string, string]> = [
    ...(settings.command ?? []).map((v, i): [string, string] => [`${prefix}command[${i}]`, v]),
    ...(settings.args ?? []).map((v, i): [string, string] => [`${prefix}args[${i}]`, v]),
    ...Object.entries(settings.variables ?? {}).map(([k, v]): [string, string] => [`${prefix}variables.${k}`, v]),
  ];
  for (const [path, value] of strings) {
    if (value.includes('\0')) problems.push({ path, message: 'cannot contain a NUL character' });
  }
}

function normalize<T extends JobSettings>(settings: T): T {
  const legacyTag = (settings.resources as { imageTagName?: string } | undefined)?.imageTagName;
  if (legacyTag === undefined) return settings;
  const { imageTagName: _moved, ...resources } = settings.resources as { imageTagName?: string };
  return { ...settings, resources, imageTagName: settings.imageTagName ?? legacyTag };
}

function invalidFields(problems: FieldProblem[]): ApiError {
  return ApiError.invalid(describe(problems), problems);
}

function describe(problems: FieldProblem[]): string {
  const shown = problems.slice(0, 5).map((p) => `${p.path} ${p.message}`);
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return shown.join('; ') + more;
}
