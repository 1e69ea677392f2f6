import type { FieldProblem } from './errors.js';
import type { JobSpec } from './model.js';

/** A job's or batch's `priority`: higher starts first; 0 when not given. */
export const MIN_PRIORITY = -1000;
export const MAX_PRIORITY = 1000;

/** The problem with a given `priority`, if any (the schema checks it too; the core does not rely on that). */
export function priorityProblems(value: unknown, path: string): FieldProblem[] {
  if (value === undefined) return [];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_PRIORITY || value > MAX_PRIORITY) {
    return [{ path, message: `must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}` }];
  }
  return [];
}

/** The priority the run queue orders a job by. */
export function priorityOf(spec: JobSpec): number {
  return spec.priority ?? 0;
}
