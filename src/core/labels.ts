/**
 * Labels that clients put on jobs and batches, and selectors over them, with Kubernetes' syntax so that
 * what works with `kubectl -l` works here. Pure.
 */
import { ApiError, type FieldProblem } from './errors.js';

export type Labels = Record<string, string>;

/** Most labels on one job (its batch's and its own together) or one batch. */
export const MAX_LABELS = 32;
/** Most requirements in one selector. */
export const MAX_REQUIREMENTS = 32;
/** The prefix of the scheduler's own labels on cluster objects: not a client's to set. */
export const RESERVED_PREFIX = 'job-scheduler.io';

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const KEY_RULE = 'must be a label key: an optional DNS subdomain prefix and "/", then at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
const VALUE_RULE = 'must be a label value: empty, or at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit';

/** Why a key is not a label key, or undefined when it is one. */
export function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return KEY_RULE;
  if (name.length > 63 || !NAME.test(name)) return KEY_RULE;
  if (prefix === RESERVED_PREFIX || prefix?.endsWith(`.${RESERVED_PREFIX}`)) return `uses the prefix ${RESERVED_PREFIX}/, which the scheduler keeps for its own labels`;
  return undefined;
}

export function valueProblem(value: string): string | undefined {
  return value === '' || (value.length <= 63 && NAME.test(value)) ? undefined : VALUE_RULE;
}

/** Every problem of one object's labels, at `path` (`labels`, `jobScheduleDescriptions[3].labels`). */
export function labelProblems(labels: Labels | undefined, path: string): FieldProblem[] {
  if (!labels) return [];
  const problems: FieldProblem[] = [];
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) problems.push({ path, message: `has ${keys.length} labels; at most ${MAX_LABELS} are allowed` });
  for (const key of keys) {
    const problem = keyProblem(key);
    if (problem) problems.push({ path: `${path}.${key}`, message: problem });
    else {
      const value = valueProblem(labels[key]!);
      if (value) problems.push({ path: `${path}.${key}`, message: value });
    }
  }
  return problems;
}

/** A batch's labels overlaid by a job's own: the job's labels. */
export function mergeLabels(batch: Labels | undefined, job: Labels | undefined): Labels | undefined {
  if (!batch || Object.keys(batch).length === 0) return job && Object.keys(job).length > 0 ? job : undefined;
  if (!job || Object.keys(job).length === 0) return batch;
  return { ...batch, ...job };
}

/** One requirement of a selector. `=`, `==` and `in` are `in`; `!=` and `notin` are `notin`. */
export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'absent' };

/**
 * Parses a Kubernetes label selector: requirements separated by commas, each `key`, `!key`, `key=value`,
 * `key==value`, `key!=value`, `key in (v1,v2)` or `key notin (v1,v2)`. Throws a 400 naming the parameter and
 * what is allowed.
 */
export function parseSelector(text: string, parameter = 'labelSelector'): Requirement[] {
  const fail = (why: string) => {
    const message = `${why}; a selector is requirements separated by commas: key, !key, key=value, key!=value, key in (a,b), key notin (a,b)`;
    return ApiError.badRequest(`${parameter} ${message}`, [{ path: parameter, message }]);
  };
  const requirements: Requirement[] = [];
  let at = 0;
  const skipSpace = () => {
    while (text[at] === ' ') at++;
  };
  const word = (): string => {
    skipSpace();
    const start = at;
    while (at < text.length && !' ,=!()'.includes(text[at]!)) at++;
    return text.slice(start, at);
  };
  const checkKey = (key: string) => {
    if (key === '') throw fail(`has a requirement without a key at character ${at + 1}`);
    const problem = keyProblem(key);
    if (problem && !problem.startsWith('uses the prefix')) throw fail(`has the key "${key}", which ${problem}`);
  };
  const checkValue = (value: string) => {
    const problem = valueProblem(value);
    if (problem) throw fail(`has the value "${value}", which ${problem}`);
  };
  skipSpace();
  if (at === text.length) return requirements;
  for (;;) {
    skipSpace();
    if (text[at] === '!') {
      at++;
      const key = word();
      checkKey(key);
      requirements.push({ key, op: 'absent' });
    } else {
      const key = word();
      checkKey(key);
      skipSpace();
      if (text.startsWith('==', at) || text[at] === '=' || text.startsWith('!=', at)) {
        const op = text[at] === '!' ? 'notin' : 'in';
        at += text.startsWith('==', at) || text.startsWith('!=', at) ? 2 : 1;
        const value = word();
        checkValue(value);
        requirements.push({ key, op, values: [value] });
      } else if (at < text.length && text[at] !== ',') {
        const operator = word();
        if (operator !== 'in' && operator !== 'notin') throw fail(`has "${operator}" after the key "${key}" where =, ==, !=, in or notin was expected`);
        skipSpace();
        if (text[at] !== '(') throw fail(`needs a list in parentheses after "${key} ${operator}"`);
        at++;
        skipSpace();
        if (text[at] === ')') throw fail(`needs at least one value in the list after "${key} ${operator}"`);
        const values: string[] = [];
        for (;;) {
          const value = word();
          checkValue(value);
          values.push(value);
          skipSpace();
          if (text[at] === ',') at++;
          else if (text[at] === ')') break;
          else throw fail(`has an unclosed list after "${key} ${operator}"`);
        }
        at++;
        requirements.push({ key, op: operator, values });
      } else {
        requirements.push({ key, op: 'exists' });
      }
    }
    skipSpace();
    if (requirements.length > MAX_REQUIREMENTS) throw fail(`has more than ${MAX_REQUIREMENTS} requirements`);
    if (at === text.length) return requirements;
    if (text[at] !== ',') throw fail(`has an unexpected "${text[at]}" at character ${at + 1}`);
    at++;
  }
}

/** Whether labels satisfy one requirement. */
export function satisfies(labels: Labels | undefined, requirement: Requirement): boolean {
  const value = labels && Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined;
  switch (requirement.op) {
    case 'exists': return value !== undefined;
    case 'absent': return value === undefined;
    case 'in': return value !== undefined && requirement.values.includes(value);
    case 'notin': return value === undefined || !requirement.values.includes(value);
  }
}

/** Whether labels satisfy every requirement (an empty selector selects everything). */
export function selects(labels: Labels | undefined, requirements: readonly Requirement[]): boolean {
  return requirements.every((requirement) => satisfies(labels, requirement));
}
