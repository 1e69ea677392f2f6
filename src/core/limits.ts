/**
 * Bounds on the work one request can cause, each with the setting that changes it. Linux refuses to
 * start a program (E2BIG) when one argument or environment string is over 128 KiB (MAX_ARG_STRLEN,
 * counting its ending NUL) or when all of them together are over about 2 MiB (ARG_MAX): a job the
 * service accepted must not fail for that.
 */
import { ApiError, type FieldProblem } from './errors.js';
import type { JobSettings } from './model.js';

export interface RequestLimits {
  /** Jobs in one batch (`JOB_SCHEDULER_MAX_BATCH_JOBS`). */
  maxBatchJobs: number;
  /** Jobs tracked at once, finished or not, until deleted (`JOB_SCHEDULER_MAX_TRACKED_JOBS`). */
  maxTrackedJobs: number;
  /** Variables of one job after merging (`JOB_SCHEDULER_MAX_VARIABLES`). */
  maxVariables: number;
  /** One variable as `NAME=value`, or one command/args item, in UTF-8 bytes with its ending NUL (`JOB_SCHEDULER_MAX_VARIABLE_BYTES`). */
  maxVariableBytes: number;
  /** A job's command, args and variables together, counted the same way (`JOB_SCHEDULER_MAX_EXEC_BYTES`). */
  maxExecBytes: number;
}

export const LINUX_MAX_ARG_STRLEN = 128 * 1024;

export const DEFAULT_LIMITS: RequestLimits = {
  maxBatchJobs: 10_000,
  maxTrackedJobs: 100_000,
  maxVariables: 1_000,
  maxVariableBytes: LINUX_MAX_ARG_STRLEN,
  maxExecBytes: 1024 * 1024,
};

/** Checked on the bare array length, before anything costly is done with the jobs. */
export function checkBatchSize(jobs: number, limits: RequestLimits): void {
  if (jobs > limits.maxBatchJobs) {
    const problem = { path: 'jobScheduleDescriptions', message: `holds ${jobs} jobs; at most ${limits.maxBatchJobs} are allowed in one batch (JOB_SCHEDULER_MAX_BATCH_JOBS)` };
    throw ApiError.payloadTooLarge(`${problem.path} ${problem.message}; split it into several batches`, [problem]);
  }
}

/** Refuses a submission that would take the service over its tracked jobs, saying what frees room. */
export function checkTrackedJobs(tracked: number, adding: number, limits: RequestLimits, retryAfterSeconds: number): void {
  if (tracked + adding > limits.maxTrackedJobs) {
    throw ApiError.tooManyRequests(
      `the service tracks ${tracked} jobs and this request adds ${adding}; at most ${limits.maxTrackedJobs} are kept (JOB_SCHEDULER_MAX_TRACKED_JOBS): ` +
        'delete finished batches and jobs, or raise the setting, then try again',
      retryAfterSeconds,
    );
  }
}

/** The bytes a string takes when handed to a program: UTF-8 and an ending NUL. */
function execBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8') + 1;
}

/** Sizes of a job's command, args and variables after merging, as a program would receive them. */
export interface ExecSize {
  variables: Map<string, number>;
  variableBytes: number;
  argvBytes: number;
  command: readonly string[];
  args: readonly string[];
}

export const EMPTY_EXEC_SIZE: ExecSize = { variables: new Map(), variableBytes: 0, argvBytes: 0, command: [], args: [] };

/** Overlays one layer on a size, as `mergeJobSpec` overlays it on a spec (variables key by key, command and args whole). */
export function overlayExecSize(size: ExecSize, layer: JobSettings | undefined): ExecSize {
  if (!layer || (layer.variables === undefined && layer.command === undefined && layer.args === undefined)) return size;
  let variables = size.variables;
  let variableBytes = size.variableBytes;
  if (layer.variables) {
    variables = new Map(size.variables);
    for (const [name, value] of Object.entries(layer.variables)) {
      const bytes = execBytes(`${name}=${value}`);
      variableBytes += bytes - (variables.get(name) ?? 0);
      variables.set(name, bytes);
    }
  }
  const command = layer.command ?? size.command;
  const args = layer.args ?? size.args;
  const argvBytes = layer.command === undefined && layer.args === undefined ? size.argvBytes : [...command, ...args].reduce((sum, item) => sum + execBytes(item), 0);
  return { variables, variableBytes, argvBytes, command, args };
}

/** What one layer (at `prefix`) brings over the limits, given the merged size it makes with the layers below. */
export function execProblems(layer: JobSettings | undefined, merged: ExecSize, limits: RequestLimits, prefix: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const tooLong = (path: string, bytes: number, what: string) =>
    problems.push({ path, message: `is ${bytes} bytes ${what}; at most ${limits.maxVariableBytes} are allowed (JOB_SCHEDULER_MAX_VARIABLE_BYTES)` });
  for (const [name, value] of Object.entries(layer?.variables ?? {})) {
    const bytes = execBytes(`${name}=${value}`);
    if (bytes > limits.maxVariableBytes) tooLong(`${prefix}variables.${name}`, bytes, 'as NAME=value with its ending NUL');
  }
  for (const field of ['command', 'args'] as const) {
    layer?.[field]?.forEach((item, i) => {
      const bytes = execBytes(item);
      if (bytes > limits.maxVariableBytes) tooLong(`${prefix}${field}[${i}]`, bytes, 'with its ending NUL');
    });
  }
  if (layer?.variables && merged.variables.size > limits.maxVariables) {
    problems.push({
      path: `${prefix}variables`,
      message: `gives the job ${merged.variables.size} variables (with those it inherits); at most ${limits.maxVariables} are allowed (JOB_SCHEDULER_MAX_VARIABLES)`,
    });
  }
  const total = merged.variableBytes + merged.argvBytes;
  if (layer !== undefined && total > limits.maxExecBytes && (layer.variables || layer.command || layer.args)) {
    problems.push({
      path: prefix ? prefix.slice(0, -1) : '(body)',
      message: `gives the job ${total} bytes of command, args and variables (with what it inherits); at most ${limits.maxExecBytes} are allowed (JOB_SCHEDULER_MAX_EXEC_BYTES)`,
    });
  }
  return problems;
}
