import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Attempt, BatchRecord, JobRecord, NewBatch, Snapshot } from '../../core/model.js';
import { isTerminal } from '../../core/model.js';
import { decideAfterFailure, isInFlight } from '../../core/status.js';
import type { Logger } from '../../logger.js';
import type { JobStore } from '../../store/store.js';
import type { Runtime, RuntimeEvents } from '../runtime.js';
import type { JobFiles } from './job-files.js';
import { ATTEMPT_MARKER, exitCodeOf, findMarkedProcesses, isRunning, signalGroup, startProcess } from './processes.js';
import { unenforcedNote } from './unenforced.js';

export interface LocalRuntimeOptions {
  store: JobStore;
  files: JobFiles;
  /** Working directory of every job process (the component's directory, like a container's WORKDIR). */
  workDir: string;
  /** Environment every job starts from (PATH and the like), before its variables. */
  baseEnv: Record<string, string>;
  killGraceMs: number;
  /** First delay before a retry; it doubles with each failed attempt, up to `maxRetryDelayMs`. */
  retryDelayMs: number;
  maxRetryDelayMs?: number;
  logger: Logger;
  now?: () => Date;
}

/** A job this runtime is carrying: between launch and a terminal status. */
interface Run {
  job: JobRecord;
  child?: ChildProcess;
  ending?: 'stop' | 'deadline';
  deadlineTimer?: NodeJS.Timeout;
  retryTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  finished: Promise<void>;
  resolveFinished: () => void;
}

/**
 * Runs each attempt of a job as a child process group on this machine, with the rules of a
 * Kubernetes Job: a deadline over all attempts, retries up to backoffLimit, failurePolicy on
 * exit codes. State lives in the store; a previous instance's processes are found by a marker
 * in their environment and ended when this one opens.
 */
export class LocalRuntime implements Runtime {
  private readonly runs = new Map<string, Run>();
  private events: RuntimeEvents | undefined;
  private instanceId = '';
  private closed = false;
  private readonly now: () => Date;

  constructor(private readonly options: LocalRuntimeOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async open(events: RuntimeEvents): Promise<Snapshot> {
    const { store } = this.options;
    this.instanceId = store.getMeta('instance') ?? randomUUID();
    store.setMeta('instance', this.instanceId);
    await this.endLeftoverProcesses();
    const snapshot = store.load();
    snapshot.jobs = snapshot.jobs.map((job) => (isInFlight(job.status) ? this.settleInterrupted(job) : job));
    store.flush();
    this.events = events;
    return snapshot;
  }

  async accept(batch: NewBatch): Promise<void> {
    await this.options.store.insertBatch(batch);
  }

  async launch(job: JobRecord): Promise<void> {
    if (this.closed || this.runs.has(job.name) || isTerminal(job.status)) return;
    let resolveFinished!: () => void;
    const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
    const run: Run = { job, finished, resolveFinished };
    this.runs.set(job.name, run);
    this.startAttempt(run);
  }

  async stop(job: JobRecord): Promise<void> {
    const run = this.runs.get(job.name);
    if (!run) {
      if (job.status === 'Waiting') this.commitStandalone({ ...job, ...this.endedAt('Stopped'), message: 'stopped before it started' });
      return;
    }
    if (run.ending) return;
    run.ending = 'stop';
    if (run.child) {
      this.commit(run, { ...run.job, status: 'Stopping', updated: this.iso() });
      this.terminate(run);
    } else {
      this.finish(run, 'Stopped', 'stopped');
    }
  }

  async remove(batch: BatchRecord, jobs: readonly JobRecord[]): Promise<void> {
    const unfinished = jobs.map((job) => this.runs.get(job.name)).filter((run): run is Run => run !== undefined);
    for (const run of unfinished) await this.stop(run.job);
    await Promise.all(unfinished.map((run) => run.finished));
    for (const job of jobs) this.options.files.remove(job.name);
    this.options.store.deleteBatch(batch.name);
  }

  /** With `terminate`, running processes are killed (their attempts are settled as interrupted at the next open). */
  async close(options: { terminate?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const run of this.runs.values()) {
      clearTimeout(run.deadlineTimer);
      clearTimeout(run.retryTimer);
      clearTimeout(run.killTimer);
      if (options.terminate && run.child?.pid !== undefined) signalGroup(run.child.pid, 'SIGKILL');
    }
    this.runs.clear();
    this.options.store.close();
  }

  private startAttempt(run: Run): void {
    const { store, files } = this.options;
    const now = this.now();
    const started = run.job.started ?? now.toISOString();
    const remainingMs = Date.parse(started) + run.job.spec.timeLimitSeconds * 1000 - now.getTime();
    if (remainingMs <= 0) {
      this.finish(run, 'Failed', `job ran longer than timeLimitSeconds (${run.job.spec.timeLimitSeconds})`, 'DeadlineExceeded');
      return;
    }
    run.deadlineTimer ??= setTimeout(() => this.onDeadline(run), remainingMs);
    const index = run.job.attempts.length;
    const attempt: Attempt = {
      name: `${run.job.name}-${index}`,
      created: now.toISOString(),
      startTime: null,
      endTime: null,
      exitCode: null,
      reason: null,
      replicaStatus: 'Pending',
    };
    this.commit(run, {
      ...run.job,
      status: 'Active',
      started,
      updated: attempt.created,
      message: unenforcedNote(run.job.spec) ?? null,
      attempts: [...run.job.attempts, attempt],
    });
    // The attempt must be on disk before its process exists, so a crash cannot leave it unseen.
    store.flush();
    let child: ChildProcess;
    let logFd: number | undefined;
    try {
      const dir = files.preparePayload(run.job.name, store.readPayload(run.job.name) ?? '');
      logFd = files.openLog(run.job.name, index);
      child = startProcess({
        command: run.job.spec.command[0] ?? '',
        args: [...run.job.spec.command.slice(1), ...run.job.spec.args],
        cwd: this.options.workDir,
        env: this.environment(run.job, dir, attempt.name),
        logFd,
      });
    } catch (error) {
      this.onAttemptEnded(run, { exitCode: null, reason: 'StartError', message: (error as Error).message });
      return;
    } finally {
      if (logFd !== undefined) files.closeLog(logFd);
    }
    run.child = child;
    let ended = false;
    child.once('spawn', () => {
      if (ended || this.closed) return;
      const at = this.iso();
      this.updateAttempt(run, { startTime: at, replicaStatus: 'Running' }, run.job.status === 'Stopping' ? 'Stopping' : 'Running');
    });
    child.once('error', (error) => {
      if (ended || child.pid !== undefined) return;
      ended = true;
      this.onAttemptEnded(run, { exitCode: null, reason: 'StartError', message: error.message });
    });
    child.once('exit', (code, signal) => {
      if (ended) return;
      ended = true;
      // The leader is gone; end whatever it left in its group, as a container's end would.
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      this.onAttemptEnded(run, { exitCode: exitCodeOf(code, signal) });
    });
  }

  private onAttemptEnded(run: Run, outcome: { exitCode: number | null; reason?: string; message?: string }): void {
    if (this.closed) return;
    clearTimeout(run.killTimer);
    run.child = undefined;
    const { exitCode } = outcome;
    const at = this.iso();
    if (run.ending === 'stop') {
      this.updateAttempt(run, { endTime: at, exitCode, reason: 'Stopped', replicaStatus: 'Stopped' });
      this.finish(run, 'Stopped', 'stopped');
      return;
    }
    if (run.ending === 'deadline') {
      this.updateAttempt(run, { endTime: at, exitCode, reason: 'DeadlineExceeded', replicaStatus: 'Failed' });
      this.finish(run, 'Failed', `job ran longer than timeLimitSeconds (${run.job.spec.timeLimitSeconds})`, 'DeadlineExceeded');
      return;
    }
    if (exitCode === 0) {
      this.updateAttempt(run, { endTime: at, exitCode, reason: 'Completed', replicaStatus: 'Succeeded' });
      this.finish(run, 'Succeeded', null);
      return;
    }
    const { spec, failed } = run.job;
    const decision = decideAfterFailure(spec.failurePolicy, spec.backoffLimit, failed, exitCode);
    this.updateAttempt(run, { endTime: at, exitCode, reason: outcome.reason ?? 'Error', replicaStatus: 'Failed', counted: decision.counted });
    const failedNow = failed + (decision.counted ? 1 : 0);
    if (decision.action === 'fail') {
      const detail = outcome.message ? `${decision.message}: ${outcome.message}` : decision.message;
      this.finish(run, 'Failed', detail, decision.reason, failedNow);
      return;
    }
    this.commit(run, { ...run.job, status: 'Active', failed: failedNow, updated: at, message: outcome.message ?? run.job.message });
    run.retryTimer = setTimeout(() => {
      run.retryTimer = undefined;
      if (!this.closed && !run.ending) this.startAttempt(run);
    }, this.retryDelay(run.job.attempts.length));
  }

  private onDeadline(run: Run): void {
    run.deadlineTimer = undefined;
    if (run.ending) return;
    run.ending = 'deadline';
    if (run.child) this.terminate(run);
    else this.finish(run, 'Failed', `job ran longer than timeLimitSeconds (${run.job.spec.timeLimitSeconds})`, 'DeadlineExceeded');
  }

  /** TERM to the whole group, then KILL once the grace period is over. */
  private terminate(run: Run): void {
    const pid = run.child?.pid;
    if (pid === undefined) return;
    signalGroup(pid, 'SIGTERM');
    run.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), this.options.killGraceMs);
  }

  private finish(run: Run, status: 'Succeeded' | 'Failed' | 'Stopped', message: string | null, reason?: string, failed = run.job.failed): void {
    clearTimeout(run.deadlineTimer);
    clearTimeout(run.retryTimer);
    clearTimeout(run.killTimer);
    const note = unenforcedNote(run.job.spec);
    const text = [reason, message, note].filter(Boolean).join(': ') || null;
    this.commit(run, { ...run.job, ...this.endedAt(status), failed, message: status === 'Succeeded' ? note ?? null : text });
    this.runs.delete(run.job.name);
    run.resolveFinished();
  }

  private updateAttempt(run: Run, change: Partial<Attempt>, status = run.job.status): void {
    const attempts = [...run.job.attempts];
    const last = attempts.length - 1;
    attempts[last] = { ...attempts[last]!, ...change };
    this.commit(run, { ...run.job, status, attempts, updated: this.iso() });
  }

  private commit(run: Run, job: JobRecord): void {
    run.job = job;
    this.commitStandalone(job);
  }

  private commitStandalone(job: JobRecord): void {
    this.options.store.saveJob(job);
    this.events?.jobChanged(job);
  }

  /** An in-flight job whose process ended with the previous instance: count it, then retry or fail. */
  private settleInterrupted(job: JobRecord): JobRecord {
    const at = this.iso();
    const attempts = job.attempts.map((attempt): Attempt => (attempt.replicaStatus === 'Pending' || attempt.replicaStatus === 'Running')
      ? { ...attempt, endTime: at, reason: 'Interrupted', replicaStatus: job.status === 'Stopping' ? 'Stopped' : 'Failed' }
      : attempt);
    const interrupted = attempts.some((attempt, i) => attempt !== job.attempts[i]);
    let settled: JobRecord;
    if (job.status === 'Stopping') {
      settled = { ...job, attempts, status: 'Stopped', ended: at, updated: at, message: 'stopped' };
    } else if (!interrupted) {
      settled = { ...job, status: 'Active', updated: at };
    } else {
      const decision = decideAfterFailure(job.spec.failurePolicy, job.spec.backoffLimit, job.failed, null);
      const failed = job.failed + 1;
      const message = 'the attempt was interrupted: its process ended with the previous instance of the scheduler';
      attempts[attempts.length - 1] = { ...attempts[attempts.length - 1]!, counted: true };
      settled = decision.action === 'fail'
        ? { ...job, attempts, failed, status: 'Failed', ended: at, updated: at, message: `${decision.reason}: ${decision.message}: ${message}` }
        : { ...job, attempts, failed, status: 'Active', updated: at, message };
    }
    this.options.store.saveJob(settled);
    return settled;
  }

  /** Ends every process a previous instance on this data directory started. */
  private async endLeftoverProcesses(): Promise<void> {
    const leftovers = findMarkedProcesses(`${this.instanceId}/`);
    if (leftovers.length === 0) return;
    this.options.logger.warn('ending processes left by a previous instance', { count: leftovers.length });
    const groups = new Set(leftovers.map((p) => p.pgid));
    for (const pgid of groups) signalGroup(pgid, 'SIGTERM');
    for (const { pid } of leftovers) if (!groups.has(pid)) signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + this.options.killGraceMs;
    while (leftovers.some((p) => isRunning(p.pid)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
    for (const { pid } of leftovers) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  }

  private environment(job: JobRecord, payloadDir: string, attemptName: string): Record<string, string> {
    const env: Record<string, string> = {
      ...this.options.baseEnv,
      ...job.spec.variables,
      PAYLOAD_PATH: payloadDir,
      JOB_NAME: job.name,
      BATCH_NAME: job.batchName,
      [ATTEMPT_MARKER]: `${this.instanceId}/${attemptName}`,
    };
    if (job.jobId !== undefined) env.JOB_ID = job.jobId;
    return env;
  }

  private retryDelay(attempts: number): number {
    const max = this.options.maxRetryDelayMs ?? 60_000;
    return Math.min(max, this.options.retryDelayMs * 2 ** Math.max(0, attempts - 1));
  }

  private endedAt(status: JobRecord['status']): Pick<JobRecord, 'status' | 'ended' | 'updated'> {
    const at = this.iso();
    return { status, ended: at, updated: at };
  }

  private iso(): string {
    return this.now().toISOString();
  }
}

