import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { didYouMean } from './closest.js';
import type { FieldProblem } from './errors.js';
import { batchName, compactTimestamp, isDns1123Label, jobName } from './naming.js';

/** Kubernetes CronJob's concurrency policies, with its meanings. */
export const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'] as const;
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

/** Radix allows up to 20 schedules per job component. */
export const MAX_SCHEDULES = 20;

/** A missed tick older than this when the service can run it is not run (Kubernetes CronJob's `startingDeadlineSeconds`). */
export const DEFAULT_STARTING_DEADLINE_SECONDS = 3600;

/** The label every scheduled run carries: `schedule=<schedule name>`. */
export const SCHEDULE_LABEL = 'schedule';

/** One `schedules:` entry of the component file, with Kubernetes CronJob's field names. */
export interface ScheduleConfig {
  /** A DNS label, unique in the component: the `schedule` label's value on every run. */
  name: string;
  /** A cron expression (5 fields, or 6 with seconds first; `@daily` and the like). */
  schedule: string;
  /** An IANA time zone; default UTC. */
  timeZone?: string;
  concurrencyPolicy?: ConcurrencyPolicy;
  startingDeadlineSeconds?: number;
}

/** A checked schedule with its defaults applied and its expression parsed. */
export interface Schedule {
  name: string;
  schedule: string;
  timeZone: string;
  concurrencyPolicy: ConcurrencyPolicy;
  startingDeadlineSeconds: number;
  cron: Cron;
}

/** Every problem of the component's `schedules` (shape is checked by the file's schema first). */
export function scheduleProblems(schedules: readonly ScheduleConfig[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (schedules.length > MAX_SCHEDULES) problems.push({ path: 'schedules', message: `has ${schedules.length} entries; at most ${MAX_SCHEDULES} are allowed` });
  const seen = new Map<string, number>();
  const suffixes = new Map<string, string>();
  schedules.forEach((entry, i) => {
    const at = `schedules[${i}]`;
    if (!isDns1123Label(entry.name)) {
      problems.push({ path: `${at}.name`, message: 'must be lower case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters' });
    } else if (seen.has(entry.name)) {
      problems.push({ path: `${at}.name`, message: `"${entry.name}" is already the name of schedules[${seen.get(entry.name)}]; names must be unique` });
    } else {
      seen.set(entry.name, i);
      const suffix = scheduleSuffix(entry.name);
      const other = suffixes.get(suffix);
      if (other) problems.push({ path: `${at}.name`, message: `gives the same run names as the schedule "${other}"; choose another name` });
      suffixes.set(suffix, entry.name);
    }
    const zoneProblem = entry.timeZone === undefined ? undefined : timeZoneProblem(entry.timeZone);
    if (zoneProblem) problems.push({ path: `${at}.timeZone`, message: zoneProblem });
    const cronProblem = expressionProblem(entry.schedule, zoneProblem ? undefined : entry.timeZone);
    if (cronProblem) problems.push({ path: `${at}.schedule`, message: cronProblem });
  });
  return problems;
}

/** Applies the defaults and parses the expression; call on checked entries only. */
export function compileSchedule(config: ScheduleConfig): Schedule {
  const timeZone = config.timeZone ?? 'UTC';
  return {
    name: config.name,
    schedule: config.schedule,
    timeZone,
    concurrencyPolicy: config.concurrencyPolicy ?? 'Allow',
    startingDeadlineSeconds: config.startingDeadlineSeconds ?? DEFAULT_STARTING_DEADLINE_SECONDS,
    cron: new Cron(config.schedule, { timezone: timeZone, paused: true }),
  };
}

/** The first tick strictly after `after`, or undefined when the expression matches no later time. */
export function nextTick(schedule: Schedule, after: Date): Date | undefined {
  return schedule.cron.nextRun(after) ?? undefined;
}

/** The latest tick at or before `at`. */
export function latestTick(schedule: Schedule, at: Date): Date | undefined {
  return schedule.cron.previousRuns(1, new Date(at.getTime() + 1))[0];
}

/** What the service remembers of a schedule between runs (and across restarts). */
export interface ScheduleState {
  /** When the service first knew the schedule: ticks before it are not its to run. */
  since: string;
  /** The latest tick handled (run, skipped or missed). */
  lastTick?: string;
  lastResult?: TickResult;
  /** The run the latest started tick created. */
  lastJobName?: string;
}

/** A stored state, or undefined when it is missing or not one (the schedule then starts afresh). */
export function parseState(text: string | undefined): ScheduleState | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<ScheduleState>;
    if (typeof value.since !== 'string' || Number.isNaN(Date.parse(value.since))) return undefined;
    if (value.lastTick !== undefined && Number.isNaN(Date.parse(value.lastTick))) return undefined;
    return value as ScheduleState;
  } catch {
    return undefined;
  }
}

/** What was done at a tick: a run started, skipped by `Forbid`, or not started because it was found too late. */
export type TickResult = 'Started' | 'Skipped' | 'Missed';

/** What to do when the service looks at a schedule at `now`: nothing, run a tick, or record it as missed. */
export type Due = { kind: 'none' } | { kind: 'run'; tick: Date } | { kind: 'missed'; tick: Date };

/**
 * The tick due at `now`: only the latest tick since the last one handled, so a service down over many ticks
 * starts at most one; and only within the starting deadline.
 */
export function dueTick(schedule: Schedule, handled: Date, now: Date): Due {
  const tick = latestTick(schedule, now);
  if (!tick || tick.getTime() <= handled.getTime()) return { kind: 'none' };
  if (now.getTime() - tick.getTime() > schedule.startingDeadlineSeconds * 1000) return { kind: 'missed', tick };
  return { kind: 'run', tick };
}

/** What the concurrency policy asks for at a tick, given the schedule's runs that have not ended. */
export type Decision = { action: 'start' } | { action: 'skip' } | { action: 'replace'; stop: string[] };

export function decide(policy: ConcurrencyPolicy, activeRuns: readonly string[]): Decision {
  if (activeRuns.length === 0 || policy === 'Allow') return { action: 'start' };
  if (policy === 'Forbid') return { action: 'skip' };
  return { action: 'replace', stop: [...activeRuns] };
}

/**
 * The names of a tick's run, the same every time they are derived: a second attempt at one tick (after a
 * restart) finds the first one's job under this name instead of starting another.
 */
export function runNames(component: string, scheduleName: string, tick: Date): { batchName: string; jobSuffix: string; jobName: string } {
  const batch = batchName(component, tick, scheduleSuffix(scheduleName));
  const jobSuffix = digest(`${scheduleName}@${tick.toISOString()}`);
  return { batchName: batch, jobSuffix, jobName: jobName(batch, jobSuffix) };
}

/** The tick a run of this schedule was created for, read back from its job's name; undefined for any other name. */
export function tickOfRun(component: string, scheduleName: string, runJobName: string): Date | undefined {
  const prefix = `batch-${component}-`;
  const stamp = runJobName.slice(prefix.length, prefix.length + 14);
  if (!runJobName.startsWith(prefix) || !/^\d{14}$/.test(stamp)) return undefined;
  const tick = new Date(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:${stamp.slice(12, 14)}Z`);
  if (Number.isNaN(tick.getTime()) || compactTimestamp(tick) !== stamp) return undefined;
  return runNames(component, scheduleName, tick).jobName === runJobName ? tick : undefined;
}

function scheduleSuffix(scheduleName: string): string {
  return digest(`schedule:${scheduleName}`);
}

/** 8 characters of [a-z0-9] from a hash: the form of the random suffixes of other names. */
function digest(text: string): string {
  return BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 16)}`).toString(36).padStart(8, '0').slice(-8);
}

function timeZoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return undefined;
  } catch {
    return `"${zone}" is not an IANA time zone${didYouMean(zone, [...Intl.supportedValuesOf('timeZone'), 'UTC'])}`;
  }
}

function expressionProblem(expression: string, timeZone: string | undefined): string | undefined {
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: timeZone ?? 'UTC', paused: true });
  } catch (error) {
    return `"${expression}" is not a cron expression: ${(error as Error).message.replace(/^CronPattern: /, '')}`;
  }
  // An expression can parse and still name no time at all (30 February): it would never run.
  if (!cron.nextRun(new Date('2000-01-01T00:00:00Z'))) return `"${expression}" never matches a time`;
  return undefined;
}
