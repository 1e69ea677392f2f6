import { ApiError } from '../core/errors.js';
import { checkTrackedJobs, type RequestLimits } from '../core/limits.js';
import { isTerminal, type JobStatusValue } from '../core/model.js';
import {
  compileSchedule, decide, dueTick, nextTick, runNames, type Schedule, SCHEDULE_LABEL, type ScheduleConfig, type ScheduleState,
  tickOfRun, type TickResult,
} from '../core/schedules.js';
import type { Logger } from '../logger.js';
import type { ScheduleStates } from '../runtimes/runtime.js';
import type { Scheduler } from './scheduler.js';

/** Time as the runner sees it: tests pass a clock they move themselves. */
export interface ScheduleClock {
  now(): Date;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: ScheduleClock = {
  now: () => new Date(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface ScheduleRunnerOptions {
  schedules: readonly ScheduleConfig[];
  component: string;
  /** The scheduler runs go through: its admission records them durably and tells webhooks and live events. */
  scheduler: Pick<Scheduler, 'isReady' | 'listJobsPage' | 'createScheduledJob' | 'stopJob' | 'trackedJobs'>;
  states: ScheduleStates;
  /** Scheduled runs count toward the tracked-jobs bound as submitted ones do. */
  limits: RequestLimits;
  logger: Logger;
  clock?: ScheduleClock;
}

/** A schedule as `GET /api/v1/schedules` answers it. */
export interface ScheduleView {
  name: string;
  schedule: string;
  timeZone: string;
  concurrencyPolicy: string;
  startingDeadlineSeconds: number;
  lastTick: string | null;
  lastResult: TickResult | null;
  lastJobName: string | null;
  nextTick: string | null;
  activeJobs: string[];
}

/** Node caps a timer at 24.8 days; the runner wakes at least this often and looks again. */
const MAX_WAIT_MS = 60 * 60 * 1000;
const MAX_RETRY_MS = 60 * 1000;

interface Entry {
  schedule: Schedule;
  state: ScheduleState;
  timer?: unknown;
  /** Wakes of one schedule run one after another. */
  chain: Promise<void>;
  failures: number;
}

/**
 * Runs the component's schedules: at each tick, a single job labelled `schedule=<name>`, submitted through the
 * scheduler under names derived from the tick (so a tick runs at most once, even across restarts), as the
 * concurrency policy allows. A service back after downtime runs only the latest missed tick, within its deadline.
 */
export class ScheduleRunner {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: ScheduleClock;
  private closed = false;

  constructor(private readonly options: ScheduleRunnerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Reads the schedules' state, looks at each at once (a missed tick), and arms a timer for each one's next tick. */
  async start(): Promise<void> {
    const { schedules, states } = this.options;
    if (schedules.length === 0) return;
    const stored = await states.load(schedules.map((entry) => entry.name)).catch((error: unknown) => {
      this.options.logger.error('could not read the schedules\' state; ticks before now are not run', { error: String(error) });
      return new Map<string, ScheduleState>();
    });
    const now = this.clock.now().toISOString();
    for (const config of schedules) {
      const state = stored.get(config.name);
      const entry: Entry = { schedule: compileSchedule(config), state: state ?? { since: now }, chain: Promise.resolve(), failures: 0 };
      this.entries.set(config.name, entry);
      if (!state) await this.save(entry);
    }
    // A missed tick is handled before the service answers its first request.
    for (const entry of this.entries.values()) this.wake(entry);
    await Promise.all([...this.entries.values()].map((entry) => entry.chain));
  }

  list(): ScheduleView[] {
    const now = this.clock.now();
    return [...this.entries.values()].map(({ schedule, state }) => {
      const latest = this.latestRun(schedule.name);
      const lastTick = later(state.lastTick, latest?.tick.toISOString());
      return {
        name: schedule.name,
        schedule: schedule.schedule,
        timeZone: schedule.timeZone,
        concurrencyPolicy: schedule.concurrencyPolicy,
        startingDeadlineSeconds: schedule.startingDeadlineSeconds,
        lastTick: lastTick ?? null,
        lastResult: lastTick === state.lastTick ? state.lastResult ?? null : 'Started',
        lastJobName: (latest && lastTick !== state.lastTick ? latest.name : state.lastJobName) ?? null,
        nextTick: nextTick(schedule, now)?.toISOString() ?? null,
        activeJobs: this.runs(schedule.name).filter((run) => !isTerminal(run.status)).map((run) => run.name),
      };
    });
  }

  /** Stops the timers and waits for a tick being handled. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.entries.values()) this.clock.clearTimeout(entry.timer);
    await Promise.all([...this.entries.values()].map((entry) => entry.chain));
  }

  private wake(entry: Entry): void {
    entry.chain = entry.chain.then(() => this.look(entry)).catch((error: unknown) => {
      this.options.logger.error('schedule failed', { schedule: entry.schedule.name, error: String(error) });
    });
  }

  private arm(entry: Entry, ms: number): void {
    if (this.closed) return;
    this.clock.clearTimeout(entry.timer);
    entry.timer = this.clock.setTimeout(() => this.wake(entry), Math.max(0, Math.min(ms, MAX_WAIT_MS)));
  }

  private async look(entry: Entry): Promise<void> {
    if (this.closed) return;
    const { schedule } = entry;
    const now = this.clock.now();
    if (this.options.scheduler.isReady) {
      const handled = new Date(later(later(entry.state.since, entry.state.lastTick), this.latestRun(schedule.name)?.tick.toISOString())!);
      const due = dueTick(schedule, handled, now);
      if (due.kind === 'missed') {
        this.options.logger.warn('schedule tick missed: past its starting deadline', { schedule: schedule.name, tick: due.tick.toISOString() });
        await this.record(entry, { lastTick: due.tick.toISOString(), lastResult: 'Missed' });
      } else if (due.kind === 'run' && !(await this.run(entry, due.tick))) {
        entry.failures++;
        this.arm(entry, Math.min(MAX_RETRY_MS, 1000 * 2 ** (entry.failures - 1)));
        return;
      }
    }
    entry.failures = 0;
    const next = nextTick(schedule, now);
    if (next) this.arm(entry, next.getTime() - now.getTime());
  }

  /** Handles one tick as its policy says; false when it could not and should be tried again. */
  private async run(entry: Entry, tick: Date): Promise<boolean> {
    const { schedule } = entry;
    const { scheduler, logger, component } = this.options;
    const names = runNames(component, schedule.name, tick);
    const fields = { schedule: schedule.name, tick: tick.toISOString() };
    const active = this.runs(schedule.name).filter((run) => !isTerminal(run.status) && run.name !== names.jobName).map((run) => run.name);
    const decision = decide(schedule.concurrencyPolicy, active);
    if (decision.action === 'skip') {
      logger.info('schedule tick skipped: an earlier run has not ended (concurrencyPolicy Forbid)', { ...fields, active });
      await this.record(entry, { lastTick: fields.tick, lastResult: 'Skipped' });
      return true;
    }
    try {
      if (decision.action === 'replace') {
        logger.info('schedule tick replaces the runs that have not ended (concurrencyPolicy Replace)', { ...fields, active });
        await Promise.all(decision.stop.map((name) => scheduler.stopJob(name).catch((error: unknown) => {
          // Ended or deleted meanwhile: nothing left to stop.
          if (!(error instanceof ApiError && (error.code === 400 || error.code === 404))) throw error;
        })));
      }
      checkTrackedJobs(scheduler.trackedJobs, 1, this.options.limits, 0);
      await scheduler.createScheduledJob({ batchName: names.batchName, jobSuffix: names.jobSuffix }, { [SCHEDULE_LABEL]: schedule.name });
    } catch (error) {
      logger.warn('schedule tick could not start its run; trying again', { ...fields, error: error instanceof ApiError ? error.message : String(error) });
      return false;
    }
    logger.info('schedule tick started a run', { ...fields, jobName: names.jobName });
    await this.record(entry, { lastTick: fields.tick, lastResult: 'Started', lastJobName: names.jobName });
    return true;
  }

  private async record(entry: Entry, change: Partial<ScheduleState>): Promise<void> {
    entry.state = { ...entry.state, ...change };
    await this.save(entry);
  }

  /** A failed save is logged: the run itself is recorded under its tick's name, which is what prevents a second one. */
  private async save(entry: Entry): Promise<void> {
    await this.options.states.save(entry.schedule.name, entry.state).catch((error: unknown) => {
      this.options.logger.warn('could not record a schedule\'s state', { schedule: entry.schedule.name, error: String(error) });
    });
  }

  /** The schedule's runs: jobs with its label and a name derived from one of its ticks (a client may set the label too). */
  private runs(name: string): Array<{ name: string; status: JobStatusValue }> {
    return this.options.scheduler.listJobsPage({ labelSelector: `${SCHEDULE_LABEL}=${name}` }).items
      .filter((run) => tickOfRun(this.options.component, name, run.name) !== undefined);
  }

  /** The run of this schedule with the latest tick, read back from the runs' names. */
  private latestRun(name: string): { name: string; tick: Date } | undefined {
    let latest: { name: string; tick: Date } | undefined;
    for (const run of this.runs(name)) {
      const tick = tickOfRun(this.options.component, name, run.name);
      if (tick && (!latest || tick > latest.tick)) latest = { name: run.name, tick };
    }
    return latest;
  }
}

/** State kept in memory only, for a runtime that keeps none (a test's). */
export function memoryScheduleStates(): ScheduleStates {
  const states = new Map<string, ScheduleState>();
  return {
    load: async (names) => new Map(names.flatMap((name) => (states.has(name) ? [[name, states.get(name)!] as const] : []))),
    save: async (name, state) => {
      states.set(name, state);
    },
  };
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}
