import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ApiError } from '../../core/errors.js';
import { type Effect, type LifecycleEvent, type LifecyclePolicy, liveAttempt, transition } from '../../core/lifecycle.js';
import { type BatchRecord, isTerminal, type JobRecord, type NewBatch, type Snapshot } from '../../core/model.js';
import { quantityValue } from '../../core/quantity.js';
import { isInFlight } from '../../core/status.js';
import { type JobRecordSource, StoredJob } from '../../core/stored-job.js';
import type { JobTimeline } from '../../core/timeline.js';
import type { Logger } from '../../logger.js';
import { StoreScheduleStates } from '../../store/schedule-state.js';
import type { JobStore } from '../../store/store.js';
import { refusalOf } from '../../store/write-health.js';
import type { LogRequest, Runtime, RuntimeEvents, ScheduleStates } from '../runtime.js';
import { AttemptLogs, DEFAULT_MAX_LOG_BYTES } from './attempt-logs.js';
import type { JobFiles } from './job-files.js';
import { MemoryGuard } from './memory-guard.js';
import { LostAttempts } from './lost-attempts.js';
import { ATTEMPT_MARKER, endLeftoverProcesses, exitCodeOf } from './processes.js';
import { type JobProcess, Spawner } from './spawner.js';
import { CommittedChanges } from './committed-changes.js';
import { DeferredSaves } from './deferred-saves.js';
import { DurableSync } from './durable-sync.js';
import { ENFORCED, NONE, unenforcedNote } from './unenforced.js';

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
  /** Count an attempt interrupted by the service toward backoffLimit (off by default). */
  countInterruptions?: boolean;
  /** Bytes of each attempt's log kept (the newest); default 10 MiB. */
  maxLogBytes?: number;
  /**
   * Most attempts whose processes run at once (the scheduler's `maxRunning`). With it, starts may be handed ahead
   * (`lookAhead`) and wait in the spawner for a free process slot. Without it, every start is spawned at once.
   */
  maxRunning?: number;
  logger: Logger;
  now?: () => Date;
}

/** Node cannot arm a timer beyond 2^31-1 ms; a longer wait is a chain of shorter ones (the lifecycle compares times). */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
/** How soon a start whose attempt could not be written is tried again. */
const STORE_RETRY_MS = 1000;
/** An attempt that ran shorter than this is short: its successor is worth starting without the service's turn. */
const SHORT_RUN_MS = 1000;
/** Most starts handed ahead, whatever `maxRunning` is. */
const MOST_LOOK_AHEAD = 8;

/** A job this runtime has been told about: its record, its process, its timer, and its queue of events. */
interface Run {
  job: JobRecord;
  child?: JobProcess;
  timer?: NodeJS.Timeout;
  /** Events of one job are handled one at a time, in order: this is the tail of its queue. */
  tail: Promise<unknown>;
  /** Resolves when the job may be removed (its deletion was asked and nothing of it runs). */
  removable?: () => void;
  /** The process the memory guard killed for going over `resources.limits.memory`. */
  overMemory?: JobProcess;
  /** The latest record the scheduler was told: until it is `job`, a request brings an older record than this run's. */
  told: JobRecord;
}

/**
 * Runs each attempt of a job as a child process group on this machine. What happens to a job is decided by
 * the core lifecycle (`transition`); this runtime feeds it what it observes (spawn, exit, time) and what is
 * asked (start, stop, delete, shutdown), and carries out the effects: write, spawn, signal, wake, remove.
 */
export class LocalRuntime implements Runtime {
  private readonly runs = new Map<string, Run>();
  private readonly memory = new MemoryGuard();
  private readonly policy: LifecyclePolicy;
  private readonly now: () => Date;
  private readonly logs: AttemptLogs;
  private readonly spawner: Spawner;
  private readonly lost: LostAttempts;
  private readonly changes = new CommittedChanges((job) => this.told(job));
  private readonly deferred = new DeferredSaves((job) => this.save(job));
  private readonly durable: DurableSync;
  private events: RuntimeEvents | undefined;
  private instanceId = '';
  private closing: Promise<void> | undefined;
  private closed = false;
  /** Whether the attempt that ended last ran short (see `lookAhead`). */
  private lastRunShort = false;

  constructor(private readonly options: LocalRuntimeOptions) {
    this.now = options.now ?? (() => new Date());
    this.spawner = new Spawner(options.logger, options.maxRunning ?? 0);
    this.durable = new DurableSync({ flush: () => options.store.flush() !== false, changes: this.changes, logger: options.logger });
    this.lost = new LostAttempts(options.killGraceMs);
    this.logs = new AttemptLogs({ files: options.files, maxBytes: options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES, logger: options.logger });
    const max = options.maxRetryDelayMs ?? 60_000;
    this.policy = {
      killGraceMs: options.killGraceMs,
      retryDelayMs: (failed) => Math.min(max, options.retryDelayMs * 2 ** Math.max(0, failed - 1)),
      note: (spec) => unenforcedNote(spec, MemoryGuard.supported ? ENFORCED : NONE),
      countInterruptions: options.countInterruptions ?? false,
    };
  }

  async open(events: RuntimeEvents): Promise<Snapshot> {
    const { store, files, logger } = this.options;
    this.instanceId = store.getMeta('instance') ?? randomUUID();
    store.setMeta('instance', this.instanceId);
    await endLeftoverProcesses(`${this.instanceId}/`, this.options.killGraceMs, logger);
    const snapshot = store.load({ deferFinished: true });
    // A batch whose deletion was asked before the previous instance ended is finished being deleted.
    const deleting = new Set(snapshot.jobs.filter((job) => job.intent === 'delete').map((job) => job.batchName));
    for (const name of deleting) {
      for (const job of snapshot.jobs) if (job.batchName === name) files.remove(job.name);
      store.deleteBatch(name);
    }
    snapshot.batches = snapshot.batches.filter((batch) => !deleting.has(batch.name));
    snapshot.jobs = snapshot.jobs.filter((job) => !deleting.has(job.batchName)).map((job) => {
      if (job instanceof StoredJob || liveAttempt(job) < 0) return job;
      this.logs.compact(job.name, liveAttempt(job));
      // Its process ended with the previous instance: an interruption by the service, not the job's failure.
      const { record } = transition(job, { type: 'lost' }, this.now(), this.policy);
      store.saveJob(record);
      return record;
    });
    store.flush();
    this.events = events;
    store.onJobsCommitted(() => this.durable.committed());
    return snapshot;
  }

  async accept(batch: NewBatch): Promise<void> {
    await this.options.store.insertBatch(batch);
  }

  /**
   * While attempts end quickly, a start is handed ahead for each process slot: the job is recorded Active (its
   * start durable, as any start) and its process begins in the spawner the moment another ends, so the service is
   * not in the chain from one short job to the next. Long jobs get none: a job handed ahead would wait Active for
   * as long as they run (its time limit counts from its process, so only its status would show it).
   */
  lookAhead(): number {
    const { maxRunning } = this.options;
    return maxRunning !== undefined && this.lastRunShort ? Math.min(maxRunning, MOST_LOOK_AHEAD) : 0;
  }

  async launch(job: JobRecord): Promise<void> {
    if (this.closing) return;
    await this.dispatch(this.runOf(job), { type: 'start' });
  }

  async stop(job: JobRecord): Promise<void> {
    if (this.closing) throw ApiError.unavailable('the service is shutting down; stop the job again once it is back');
    const done = await this.dispatch(this.runOf(job), { type: 'stop' });
    if (!done) throw ApiError.unavailable('the stop could not be recorded because the store cannot write now; try again shortly');
  }

  async restart(jobs: readonly JobRecord[]): Promise<void> {
    if (this.closing) throw ApiError.unavailable('the service is shutting down; restart the jobs again once it is back');
    const done = await Promise.all(jobs.map((job) => this.dispatch(this.runOf(job), { type: 'restart' })));
    if (done.includes(false)) throw restartRefusal(this.options.store);
  }

  async readLog(job: JobRecord, request: LogRequest): Promise<Readable | undefined> {
    const attemptName = job.attempts[request.attempt]?.name;
    // Live while this runtime runs a process for that very attempt.
    const isLive = () => {
      const run = this.runs.get(job.name);
      return run?.child !== undefined && run.job.attempts[liveAttempt(run.job)]?.name === attemptName;
    };
    return this.logs.read(job.name, request, isLive);
  }

  async readPayload(job: JobRecord): Promise<Buffer | undefined> {
    const payload = this.options.store.readPayload(job.name);
    return payload === undefined ? undefined : Buffer.from(payload, 'utf8');
  }

  timeline(job: JobRecord): JobTimeline {
    return this.options.store.readTimeline(job);
  }

  get recordSource(): JobRecordSource {
    return this.options.store;
  }

  async remove(batch: BatchRecord, jobs: readonly JobRecord[]): Promise<void> {
    const removable = jobs.map((job) => {
      const run = this.runOf(job);
      return new Promise<void>((resolve, reject) => {
        run.removable = resolve;
        void this.dispatch(run, { type: 'delete' }).then((done) => {
          if (!done) reject(ApiError.unavailable('the deletion could not be recorded because the store cannot write now; try again shortly'));
        });
      });
    });
    await Promise.all(removable);
    // The rows first: when the store cannot write (507/503) the batch stays whole, files and all.
    this.options.store.deleteBatch(batch.name);
    for (const job of jobs) {
      this.forget(job.name);
      this.options.files.remove(job.name);
    }
  }

  scheduleStates(): ScheduleStates {
    return new StoreScheduleStates(this.options.store);
  }

  /**
   * With `terminate`, running attempts get SIGTERM, then SIGKILL after the kill grace period; each is recorded
   * as interrupted (not failed) and runs again at the next start. Without it, they are left to the next `open`.
   */
  close(options: { terminate?: boolean } = {}): Promise<void> {
    this.closing ??= this.shutDown(options.terminate ?? false);
    return this.closing;
  }

  private async shutDown(terminate: boolean): Promise<void> {
    if (terminate) {
      const live = [...this.runs.values()].filter((run) => run.child);
      const exited = live.map((run) => run.child?.whenDone());
      for (const run of live) void this.dispatch(run, { type: 'shutdown' });
      await Promise.all(exited);
      // Let the exits be handled (they are queued behind the shutdown events).
      await Promise.all(live.map((run) => run.tail));
    }
    this.closed = true;
    this.deferred.saveAll();
    await this.spawner.close();
    this.memory.close();
    this.logs.close();
    for (const run of this.runs.values()) clearTimeout(run.timer);
    this.runs.clear();
    this.options.store.close();
  }

  private runOf(job: JobRecord): Run {
    let run = this.runs.get(job.name);
    if (!run) {
      // No run means everything of this job was told: the record a request brings is its latest.
      run = { job, tail: Promise.resolve(), told: job };
      this.runs.set(job.name, run);
    }
    return run;
  }

  private forget(name: string): void {
    const run = this.runs.get(name);
    if (run) clearTimeout(run.timer);
    this.runs.delete(name);
  }

  /** Queues an event for a job; resolves false when its state could not be made durable (nothing was done). */
  private dispatch(run: Run, event: LifecycleEvent): Promise<boolean> {
    const handled = run.tail.then(() => this.handle(run, event));
    run.tail = handled.catch((error: unknown) => this.options.logger.error('job event failed', { jobName: run.job.name, event: event.type, error: String(error) }));
    return handled;
  }

  private async handle(run: Run, event: LifecycleEvent): Promise<boolean> {
    if (this.closed) return false;
    this.deferred.saveNow(run.job.name);
    const previous = run.job;
    const { record, effects } = transition(previous, event, this.now(), this.policy);
    if (record !== previous) {
      run.job = record;
      if (event.type === 'spawned' && !effects.some((effect) => effect.kind === 'sync')) this.deferred.defer(record);
      else this.save(record);
    }
    const syncAt = effects.findIndex((effect) => effect.kind === 'sync');
    if (syncAt >= 0 && !(await this.durable.sync())) {
      // Not on disk: act as if the event had not come, and try a start again later.
      run.job = previous;
      this.changes.undone(record);
      this.options.store.saveJob(previous);
      if (event.type === 'start') this.wakeWith(run, this.now().getTime() + STORE_RETRY_MS, { type: 'start' });
      return false;
    }
    for (const effect of effects) this.apply(run, effect);
    this.forgetIfDone(run);
    // Its slot goes to the next job now, whose start then commits with this end (one transaction, one turn).
    if (isInFlight(previous.status) && isTerminal(record.status)) this.events?.runEnded?.(record.name);
    return true;
  }

  /** A committed record goes to the scheduler; a finished job's run is kept until then. */
  private told(job: JobRecord): void {
    this.events?.jobChanged(job);
    const run = this.runs.get(job.name);
    if (!run) return;
    run.told = job;
    this.forgetIfDone(run);
  }

  /**
   * A finished job needs nothing more of this runtime once the scheduler was told its end, unless its removal is
   * still to come. Not before: a stop or a delete may yet arrive with the record the scheduler holds (Running), and
   * a run made afresh from it would wait for the end of a process that has ended.
   */
  private forgetIfDone(run: Run): void {
    const { job } = run;
    if (isTerminal(job.status) && !job.intent && run.told === job && this.runs.get(job.name) === run) this.forget(job.name);
  }

  private save(job: JobRecord): void {
    this.options.store.saveJob(job);
    this.changes.saved(job);
  }

  private apply(run: Run, effect: Effect): void {
    switch (effect.kind) {
      case 'sync':
        return;
      case 'spawn':
        this.spawn(run, effect.attempt);
        return;
      case 'signal':
        run.child?.signal(effect.signal);
        return;
      case 'wake':
        this.wakeWith(run, effect.at, { type: 'tick' });
        return;
      case 'remove':
        clearTimeout(run.timer);
        run.removable?.();
        return;
    }
  }

  /** One timer per job: a later wake replaces the earlier one; a wait longer than a timer allows is chained. */
  private wakeWith(run: Run, at: number, event: LifecycleEvent): void {
    clearTimeout(run.timer);
    // An event whose write was under way as the runtime closed ends here: what it would wake is the next start's.
    if (this.closed) return;
    const delay = Math.min(LONGEST_TIMER_MS, Math.max(0, at - this.now().getTime()));
    run.timer = setTimeout(() => {
      run.timer = undefined;
      void this.dispatch(run, event);
    }, delay);
  }

  private spawn(run: Run, attempt: number): void {
    const { store, files } = this.options;
    const job = run.job;
    const attemptName = job.attempts[attempt]!.name;
    let child: JobProcess;
    try {
      const dir = files.dirOf(job.name);
      child = this.spawner.start({
        dir,
        payload: store.readPayload(job.name) ?? '',
        log: files.logPath(job.name, attempt),
        command: job.spec.command[0] ?? '',
        args: [...job.spec.command.slice(1), ...job.spec.args],
        cwd: this.options.workDir,
        env: this.environment(job, dir, attemptName),
      });
    } catch (error) {
      void this.dispatch(run, { type: 'exited', exitCode: null, reason: 'StartError', message: (error as Error).message });
      return;
    }
    run.child = child;
    this.logs.started(job.name, attempt);
    let unwatch = () => {};
    const ended = (logBytes?: number | null) => {
      unwatch();
      if (run.child === child) run.child = undefined;
      this.logs.ended(job.name, attempt, logBytes);
    };
    child.once('spawn', () => {
      unwatch = this.guardMemory(run, child);
      void this.dispatch(run, { type: 'spawned' });
    });
    child.once('error', (error: Error) => {
      ended();
      void this.dispatch(run, { type: 'exited', exitCode: null, reason: 'StartError', message: error.message });
    });
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null, logBytes: number | null) => {
      ended(logBytes);
      this.lastRunShort = child.startedAt !== undefined && performance.now() - child.startedAt < SHORT_RUN_MS;
      const overMemory = run.overMemory === child;
      void this.dispatch(run, { type: 'exited', exitCode: exitCodeOf(code, signal), ...(overMemory ? { reason: 'OOMKilled' } : {}) });
    });
    // It waited for a free process slot and a stop, a delete or the shutdown came first: it never started.
    child.once('withdrawn', () => {
      ended();
      void this.dispatch(run, { type: 'withdrawn' });
    });
    // The spawner ended before this attempt did: it is ended as a previous instance's would be, then runs again.
    child.once('lost', () => {
      ended();
      void this.lost.end(`${this.instanceId}/${attemptName}`, child.pid)
        .then(() => this.dispatch(run, { type: 'lost' }))
        .then(() => {
          if (this.runs.get(job.name) !== run || isTerminal(run.job.status) || liveAttempt(run.job) >= 0) return;
          clearTimeout(run.timer);
          run.timer = setTimeout(() => void this.launch(run.job), this.spawner.restartDelayMs());
        });
    });
  }

  /** Kills the attempt when its processes go over the job's memory limit, as the kubelet does. */
  private guardMemory(run: Run, child: JobProcess): () => void {
    const limit = run.job.spec.resources.limits.memory;
    const bytes = limit === undefined ? undefined : quantityValue(limit);
    const pid = child.pid;
    if (!MemoryGuard.supported || bytes === undefined || pid === undefined) return () => {};
    return this.memory.watch(pid, bytes, () => {
      run.overMemory = child;
      child.signal('SIGKILL');
    });
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
}

/** Why a restart could not be recorded: the store's fault (507 for a full disk), or a generic 503. */
function restartRefusal(store: JobStore): ApiError {
  const { cause } = store.health();
  if (cause) return refusalOf(cause);
  return ApiError.unavailable('the restart could not be recorded because the store cannot write now; try again shortly');
}
