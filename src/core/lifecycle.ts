import { type ClusterJobInput, observedJobRecord, outcomeOf, type RecordedOutcome } from './cluster-job.js';
import type { Attempt, JobRecord, JobSpec } from './model.js';
import { isTerminal } from './model.js';
import { restartedRecord, restartProblem } from './restart.js';
import { deadlineMessage, decideAfterFailure, failedMessage, STOPPED_BEFORE_START_MESSAGE, STOPPED_MESSAGE, stoppedMessage } from './status.js';

/**
 * The job lifecycle, decided in one place: `transition(record, event, now, policy)` answers the job's next
 * record and the effects a runtime must carry out, in order. Nothing here performs I/O or reads a clock.
 *
 * Events are what was asked (start, stop, delete, shutdown) or observed (the attempt's process exists, it
 * exited, it was lost with the previous instance of the service, time passed). A runtime feeds the events of
 * one job one at a time, in the order they happened, and executes the effects; it takes no status decision.
 */
export type LifecycleEvent =
  /** A slot is free for the job: start an attempt (or resume one that was interrupted). */
  | { type: 'start' }
  /** The attempt's process exists. */
  | { type: 'spawned' }
  /**
   * The attempt's start was taken back before its process existed (it waited for a free process slot, and a stop,
   * a delete or the shutdown came first): nothing of it ran.
   */
  | { type: 'withdrawn' }
  /** The attempt's process ended (`exitCode` null when it could not start; then `reason` and `message` say why). */
  | { type: 'exited'; exitCode: number | null; reason?: string; message?: string }
  /** The attempt ended with the service, not by the job's fault (shutdown, crash, deploy, a node disruption). */
  | { type: 'lost' }
  /** Time passed: deadlines, retry delays and kill timers are compared with `now`. */
  | { type: 'tick' }
  | { type: 'stop' }
  | { type: 'delete' }
  /** The service is shutting down: end the live attempt, which is then interrupted, not failed. */
  | { type: 'shutdown' }
  /** An ended job is to run again under its name (see restart.ts); a job that has not ended is left as it is. */
  | { type: 'restart' }
  /**
   * Kubernetes: what the cluster shows of the job (its Job and pods) and what is recorded for it there. The
   * cluster's job controller runs the attempts, retries and deadline; the record follows from what is seen,
   * by the rules of `cluster-job.ts`.
   */
  | { type: 'observed'; observation: ClusterJobInput };

export type Effect =
  /** The new record must be on disk before any effect after this one is carried out. */
  | { kind: 'sync' }
  /** Start the attempt with this index (its record is already in `attempts`). */
  | { kind: 'spawn'; attempt: number }
  /** Signal the live attempt's process group. */
  | { kind: 'signal'; signal: 'SIGTERM' | 'SIGKILL' }
  /** Deliver a `tick` at this time (ms since the epoch) or soon after; a later wake replaces an earlier one. */
  | { kind: 'wake'; at: number }
  /** Nothing of the job runs any more and its deletion was asked: its files and rows may go. */
  | { kind: 'remove' }
  /**
   * Kubernetes: record the job's final outcome on the cluster, where it outlives the Job; `urgent` when the Job
   * is gone already and the outcome is all that is left of it.
   */
  | { kind: 'record'; outcome: RecordedOutcome; urgent: boolean };

export interface Transition {
  /** The same object as the input when nothing changed. */
  record: JobRecord;
  effects: Effect[];
}

export interface LifecyclePolicy {
  /** Between SIGTERM and SIGKILL when the service ends an attempt (stop, deadline, shutdown). */
  killGraceMs: number;
  /** Delay before the next attempt after `failedAttempts` attempts failed. */
  retryDelayMs(failedAttempts: number): number;
  /** Settings of the spec the runtime records but does not enforce, said in the job's message. */
  note?(spec: JobSpec): string | undefined;
  /**
   * Whether an attempt lost with the service counts toward `backoffLimit`. Off: an interruption by the
   * service is not the job's failure, and the job runs again.
   */
  countInterruptions?: boolean;
}

/** On Kubernetes the cluster's job controller applies retries, deadlines and kills: no policy of ours is used. */
export const CLUSTER_POLICY: LifecyclePolicy = { killGraceMs: 0, retryDelayMs: () => 0 };

export const INTERRUPTED_MESSAGE = 'the attempt was interrupted by the service (shutdown, crash or deploy); it runs again and does not count toward backoffLimit';

export function transition(job: JobRecord, event: LifecycleEvent, now: Date, policy: LifecyclePolicy): Transition {
  if (event.type === 'observed') return observed(event.observation);
  const step = new Step(job, now, policy);
  if (event.type === 'delete') return step.delete();
  // Waiting again, on disk before the restart is answered or the job is started (a crash cannot lose it).
  if (event.type === 'restart') return restartProblem(job) ? step.unchanged() : { record: restartedRecord(job, now), effects: [{ kind: 'sync' }] };
  if (isTerminal(job.status)) return step.unchanged();
  switch (event.type) {
    case 'start':
      return step.start();
    case 'spawned':
      return step.spawned();
    case 'withdrawn':
      return step.withdrawn();
    case 'exited':
      return step.exited(event.exitCode, event.reason, event.message);
    case 'lost':
      return step.lost();
    case 'tick':
      return step.tick();
    case 'stop':
      return step.stop();
    case 'shutdown':
      return step.shutdown();
  }
  return step.unchanged();
}

/** The record a cluster observation decides, and its outcome to record once the job has ended. */
function observed(observation: ClusterJobInput): Transition {
  const record = observedJobRecord(observation);
  const outcome = outcomeOf(record);
  return { record, effects: outcome ? [{ kind: 'record', outcome, urgent: observation.job?.exists === false }] : [] };
}

/** Index of the attempt still pending or running, or -1. */
export function liveAttempt(job: JobRecord): number {
  const last = job.attempts.length - 1;
  const status = job.attempts[last]?.replicaStatus;
  return status === 'Pending' || status === 'Running' ? last : -1;
}

/**
 * When `timeLimitSeconds` runs out: counted over all the attempts of the job's run (as `activeDeadlineSeconds`),
 * from the moment the run's first process started. An attempt handed to the runtime and waiting there for a free
 * process slot does not use up the job's time; attempts that never started are bounded by `backoffLimit`.
 */
export function deadlineOf(job: JobRecord): number | undefined {
  if (job.started === null) return undefined;
  for (const attempt of job.attempts) {
    // The run's attempts are those made since it started (a restarted job keeps its earlier runs' attempts).
    if (attempt.startTime !== null && attempt.created >= job.started) return Date.parse(attempt.startTime) + job.spec.timeLimitSeconds * 1000;
  }
  return undefined;
}

/** The attempts of the job's current run: none before it started (a restarted job keeps its earlier runs' attempts). */
function runAttempts(job: JobRecord): readonly Attempt[] {
  return job.started === null ? [] : job.attempts;
}

type Final = 'Succeeded' | 'Failed' | 'Stopped';

class Step {
  private readonly ms: number;
  private readonly at: string;

  constructor(private readonly job: JobRecord, now: Date, private readonly policy: LifecyclePolicy) {
    this.ms = now.getTime();
    this.at = now.toISOString();
  }

  unchanged(effects: Effect[] = []): Transition {
    return { record: this.job, effects };
  }

  start(): Transition {
    const { job } = this;
    if (job.intent === 'delete') return liveAttempt(job) < 0 ? this.unchanged([{ kind: 'remove' }]) : this.unchanged();
    if (liveAttempt(job) >= 0) return this.unchanged();
    if (job.intent === 'stop') return this.finish(job, 'Stopped', stoppedMessage(runAttempts(job)));
    if (this.deadlinePassed()) return this.deadlineExceeded(job);
    if (job.retryAt !== undefined && this.ms < job.retryAt) return this.unchanged([{ kind: 'wake', at: job.retryAt }]);
    return this.newAttempt(job);
  }

  spawned(): Transition {
    const live = liveAttempt(this.job);
    if (live < 0 || this.job.attempts[live]!.replicaStatus !== 'Pending') return this.unchanged();
    const status = this.job.status === 'Stopping' ? 'Stopping' : 'Running';
    const record: JobRecord = { ...this.withAttempt({ startTime: this.at, replicaStatus: 'Running' }), status };
    // The first process of a run starts the job's time limit.
    const wake = this.nextWake(record);
    return { record, effects: wake === undefined || wake === this.nextWake(this.job) ? [] : [{ kind: 'wake', at: wake }] };
  }

  withdrawn(): Transition {
    const live = liveAttempt(this.job);
    if (live < 0 || this.job.attempts[live]!.replicaStatus !== 'Pending') return this.unchanged();
    if (this.job.intent) {
      const record = this.withAttempt({ endTime: this.at, reason: 'Stopped', replicaStatus: 'Stopped' });
      return this.stopped(record, record.attempts.some((attempt) => attempt.startTime !== null) ? STOPPED_MESSAGE : STOPPED_BEFORE_START_MESSAGE);
    }
    // Nothing ran: whatever took the start back (the shutdown) is no failure of the job's.
    return this.interrupted(this.withAttempt({ endTime: this.at, reason: 'Interrupted', replicaStatus: 'Failed', counted: false }));
  }

  exited(exitCode: number | null, reason: string | undefined, message: string | undefined): Transition {
    const { job } = this;
    if (liveAttempt(job) < 0) return this.unchanged();
    const ended = (change: Partial<Attempt>) => this.withAttempt({ endTime: this.at, exitCode, ...change });
    if (job.intent === 'delete' || job.intent === 'stop') return this.stopped(ended({ reason: 'Stopped', replicaStatus: 'Stopped' }));
    if (job.ending === 'shutdown' && exitCode !== 0) return this.interrupted(ended({ reason: 'Interrupted', replicaStatus: 'Failed', counted: false }));
    // The attempt the deadline ended is a failed one, as the job controller counts it.
    if (job.ending === 'deadline') return this.deadlineExceeded({ ...ended({ reason: 'DeadlineExceeded', replicaStatus: 'Failed', counted: true }), failed: job.failed + 1 });
    if (exitCode === 0) return this.finish(ended({ reason: 'Completed', replicaStatus: 'Succeeded' }), 'Succeeded', null);
    const { spec, failed } = job;
    const decision = decideAfterFailure(spec.failurePolicy, spec.backoffLimit, failed, exitCode);
    const record = { ...ended({ reason: reason ?? 'Error', replicaStatus: 'Failed', counted: decision.counted }), failed: failed + (decision.counted ? 1 : 0) };
    if (decision.action === 'fail') {
      return this.finish(record, 'Failed', failedMessage(decision.reason, decision.message, record.attempts.at(-1), message));
    }
    const retryAt = this.ms + this.policy.retryDelayMs(record.failed);
    return {
      record: { ...this.active(record), retryAt, message: message ?? job.message },
      effects: [{ kind: 'wake', at: this.nextWake({ ...record, retryAt })! }],
    };
  }

  lost(): Transition {
    const { job } = this;
    if (liveAttempt(job) < 0) return this.unchanged();
    const counted = this.policy.countInterruptions === true;
    const record = this.withAttempt({ endTime: this.at, reason: 'Interrupted', replicaStatus: 'Failed', counted });
    if (job.intent) return this.stopped(record);
    if (job.ending === 'deadline' || this.deadlinePassed()) return this.deadlineExceeded(record);
    if (!counted) return this.interrupted(record);
    const decision = decideAfterFailure(job.spec.failurePolicy, job.spec.backoffLimit, job.failed, null);
    const failed = job.failed + 1;
    if (decision.action === 'fail') return this.finish({ ...record, failed }, 'Failed', failedMessage(decision.reason, decision.message, record.attempts.at(-1), INTERRUPTED_MESSAGE));
    return { record: { ...this.active({ ...record, failed }), message: INTERRUPTED_MESSAGE }, effects: [] };
  }

  tick(): Transition {
    const { job } = this;
    const live = liveAttempt(job);
    const effects: Effect[] = [];
    let record = job;
    if (live >= 0 && job.killAt !== undefined && this.ms >= job.killAt) {
      effects.push({ kind: 'signal', signal: 'SIGKILL' });
      record = { ...record, killAt: undefined };
    }
    if (this.deadlinePassed() && !job.intent && job.ending === undefined) {
      if (live < 0) return this.deadlineExceeded(job);
      record = { ...record, ending: 'deadline', killAt: this.ms + this.policy.killGraceMs };
      effects.push({ kind: 'signal', signal: 'SIGTERM' });
    } else if (live < 0 && !job.intent && job.retryAt !== undefined && this.ms >= job.retryAt) {
      return this.newAttempt(job);
    }
    const wake = this.nextWake(record);
    if (wake !== undefined) effects.push({ kind: 'wake', at: wake });
    return { record, effects };
  }

  stop(): Transition {
    const { job } = this;
    if (job.intent) return this.unchanged();
    if (liveAttempt(job) < 0) {
      // Answered as stopped: on disk first, or a crash would let it start after all.
      const result = this.finish(job, 'Stopped', stoppedMessage(runAttempts(job)));
      return { record: result.record, effects: [{ kind: 'sync' }] };
    }
    return this.endLive({ ...job, intent: 'stop', status: 'Stopping' });
  }

  delete(): Transition {
    const { job } = this;
    const live = liveAttempt(job) >= 0;
    if (job.intent === 'delete') return this.unchanged(live ? [] : [{ kind: 'remove' }]);
    const record: JobRecord = { ...job, intent: 'delete', updated: this.at };
    if (!live) return { record, effects: [{ kind: 'sync' }, { kind: 'remove' }] };
    // Already being ended (a stop, its deadline, a shutdown): only the intent changes; its exit removes it.
    if (job.intent === 'stop' || job.ending) return { record: { ...record, status: 'Stopping' }, effects: [{ kind: 'sync' }] };
    return this.endLive({ ...record, status: 'Stopping' });
  }

  shutdown(): Transition {
    const { job } = this;
    if (liveAttempt(job) < 0 || job.intent || job.ending) return this.unchanged();
    const killAt = this.ms + this.policy.killGraceMs;
    return { record: { ...job, ending: 'shutdown', killAt }, effects: [{ kind: 'signal', signal: 'SIGTERM' }, { kind: 'wake', at: killAt }] };
  }

  /** Records why the live attempt ends (durably), then TERM now and KILL after the grace period. */
  private endLive(record: JobRecord): Transition {
    const killAt = this.ms + this.policy.killGraceMs;
    return {
      record: { ...record, updated: this.at, killAt },
      effects: [{ kind: 'sync' }, { kind: 'signal', signal: 'SIGTERM' }, { kind: 'wake', at: killAt }],
    };
  }

  private newAttempt(job: JobRecord): Transition {
    const index = job.attempts.length;
    const attempt: Attempt = {
      name: `${job.name}-${index}`,
      created: this.at,
      startTime: null,
      endTime: null,
      exitCode: null,
      reason: null,
      replicaStatus: 'Pending',
    };
    const record: JobRecord = {
      ...job,
      status: 'Active',
      started: job.started ?? this.at,
      updated: this.at,
      // The first attempt of a run (a restart starts a new one) tells what the runtime does not enforce.
      message: job.started === null ? this.policy.note?.(job.spec) ?? null : job.message,
      attempts: [...job.attempts, attempt],
      retryAt: undefined,
      ending: undefined,
      killAt: undefined,
    };
    // The attempt is on disk before its process exists, so a crash cannot leave a process nobody knows of.
    const effects: Effect[] = [{ kind: 'sync' }, { kind: 'spawn', attempt: index }];
    const wake = this.nextWake(record);
    if (wake !== undefined) effects.push({ kind: 'wake', at: wake });
    return { record, effects };
  }

  private stopped(record: JobRecord, message = stoppedMessage(record.attempts)): Transition {
    const result = this.finish(record, 'Stopped', message);
    if (this.job.intent === 'delete') result.effects.push({ kind: 'remove' });
    return result;
  }

  private interrupted(record: JobRecord): Transition {
    return { record: { ...this.active(record), message: INTERRUPTED_MESSAGE }, effects: [] };
  }

  private deadlineExceeded(record: JobRecord): Transition {
    return this.finish(record, 'Failed', failedMessage('DeadlineExceeded', deadlineMessage(record.spec.timeLimitSeconds), record.attempts.at(-1)));
  }

  /** `message` is the ended job's message (see status.ts); the runtime's note follows it. */
  private finish(record: JobRecord, status: Final, message: string | null): Transition {
    const note = this.policy.note?.(record.spec);
    const text = status === 'Succeeded' ? note ?? null : [message, note].filter(Boolean).join(': ') || null;
    return {
      record: {
        ...record,
        status,
        ended: this.at,
        updated: this.at,
        message: text,
        killAt: undefined,
        retryAt: undefined,
        ending: undefined,
        intent: record.intent === 'delete' ? 'delete' : undefined,
      },
      effects: [],
    };
  }

  /** The job waits for its next attempt (or a start after an interruption). */
  private active(record: JobRecord): JobRecord {
    return { ...record, status: 'Active', updated: this.at, killAt: undefined, ending: undefined };
  }

  private withAttempt(change: Partial<Attempt>): JobRecord {
    const attempts = [...this.job.attempts];
    const last = attempts.length - 1;
    attempts[last] = { ...attempts[last]!, ...change };
    return { ...this.job, attempts, updated: this.at };
  }

  private deadlinePassed(): boolean {
    const deadline = deadlineOf(this.job);
    return deadline !== undefined && this.ms >= deadline;
  }

  /** The earliest time something is due for this record: a kill, its deadline, or its next attempt. */
  private nextWake(record: JobRecord): number | undefined {
    const live = liveAttempt(record) >= 0;
    const times = [
      live ? record.killAt : undefined,
      record.ending === undefined && !record.intent ? deadlineOf(record) : undefined,
      !live ? record.retryAt : undefined,
    ].filter((time): time is number => time !== undefined);
    return times.length === 0 ? undefined : Math.min(...times);
  }
}
