import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../logger.js';
import { requestContext } from '../../request-context.js';
import { signalGroup } from './processes.js';

/** What the spawner needs to start one attempt: its files (paths already checked) and its process. */
export interface SpawnRequest {
  /** The job's private folder (created if missing) and the payload written there afresh. */
  dir: string;
  payload: string;
  /** The attempt's log file (appended to), which receives stdout and stderr. */
  log: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/**
 * One attempt's process as the spawner reports it. Emits `spawn` (the pid is known), `error` (it could not be
 * started: a message), `exit` (code, signal, the log's size in bytes or null; what the leader left in its group was
 * killed), `withdrawn` (a signal came while it waited for a free process slot: it never started) or `lost` (the
 * spawner ended before reporting an exit, so the process may still run: its group is the caller's to end).
 */
export class JobProcess extends EventEmitter {
  pid: number | undefined;
  /** When the process started (`performance.now()`), once it has. */
  startedAt: number | undefined;
  /** Whether it has ended, failed to start, been withdrawn or lost: nothing more will be reported. */
  done = false;
  /** A signal asked for before the pid was known, sent to the group once it is. */
  private pending: NodeJS.Signals | undefined;

  constructor(private readonly withdraw: () => void = () => {}) {
    super();
  }

  /**
   * Signals the attempt's process group, now or as soon as it has started. An attempt still waiting for a free
   * process slot is withdrawn instead (unless it starts first: then the group gets the signal).
   */
  signal(signal: NodeJS.Signals): void {
    if (this.done) return;
    if (this.pid !== undefined) {
      // In the next turn, after the withdrawals asked in this one: a stop of several jobs must not free a process
      // slot (its process ending at once) before the spawner has read that the starts waiting for one are taken back.
      const { pid } = this;
      setImmediate(() => signalGroup(pid, signal));
      return;
    }
    if (this.pending === undefined) this.withdraw();
    if (this.pending !== 'SIGKILL') this.pending = signal;
  }

  /** Resolves once nothing more will be reported. */
  whenDone(): Promise<void> {
    return this.done ? Promise.resolve() : new Promise((resolve) => this.once('done', () => resolve()));
  }

  /** @internal The spawner's reports. */
  report(message: SpawnerMessage): void {
    if (this.done) return;
    if (message.op === 'spawned') {
      this.pid = message.pid;
      this.startedAt = performance.now();
      this.emit('spawn');
      if (this.pending) signalGroup(message.pid, this.pending);
      return;
    }
    this.done = true;
    if (message.op === 'error') this.emit('error', new Error(message.message));
    else if (message.op === 'withdrawn') this.emit('withdrawn');
    else this.emit('exit', message.code, message.signal, message.logBytes);
    this.emit('done');
  }

  /** @internal */
  lose(): void {
    if (this.done) return;
    this.done = true;
    this.emit('lost');
    this.emit('done');
  }
}

type SpawnerMessage =
  | { op: 'spawned'; id: number; pid: number }
  | { op: 'error'; id: number; message: string }
  | { op: 'withdrawn'; id: number }
  | { op: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null; logBytes: number | null };

/** The spawner's program: beside this module (src under tsx, dist when built). */
const PROGRAM = fileURLToPath(new URL('./spawner.mjs', import.meta.url));
/** After a spawner ended without starting anything since the one before it, the wait before its attempts run again. */
const FIRST_RESTART_DELAY_MS = 100;
const LONGEST_RESTART_DELAY_MS = 30_000;
/** How long the spawner may take to exit once the service closes its channel. */
const CLOSE_WAIT_MS = 2000;

/**
 * Starts job processes through a small child process (`spawner.mjs`), so that each spawn copies its small memory
 * rather than the service's. It is started on first use and again after it ended (crashed, killed): the attempts
 * it had not reported an exit for are then `lost`. It exits when the service does (its channel closes).
 *
 * With `maxProcesses`, at most that many attempts run at once: a start asked beyond them waits in the spawner and
 * begins the moment one ends, so a short job's successor does not wait for the service's turn.
 */
export class Spawner {
  private child: ChildProcess | undefined;
  private readonly running = new Map<number, JobProcess>();
  private nextId = 0;
  private closed = false;
  /** Spawners in a row that ended without having started a process: a crash loop is slowed down, not spun. */
  private fruitless = 0;
  private startedAny = false;

  constructor(private readonly logger: Logger, private readonly maxProcesses = 0) {
    if (!existsSync(PROGRAM)) throw new Error(`the spawner's program is missing: ${PROGRAM}`);
  }

  /** The spawner's process id, while one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(request: SpawnRequest): JobProcess {
    const id = this.nextId++;
    const job = new JobProcess(() => {
      // A spawner that ended took the request with it (the attempt is lost); a new one never had it.
      if (this.child?.connected) this.child.send({ op: 'withdraw', id });
    });
    if (this.closed) {
      queueMicrotask(() => job.report({ op: 'error', id: -1, message: 'the service is shutting down' }));
      return job;
    }
    // Its reports (every later job's exit) belong to no request: not to the one whose job happened to start it.
    const child = this.child ?? requestContext.exit(() => this.launch());
    this.running.set(id, job);
    child.channel?.ref();
    child.send({ op: 'spawn', id, ...request });
    return job;
  }

  /** How long to wait before running again the attempts a spawner's end lost: 0 at first, growing while they keep being lost. */
  restartDelayMs(): number {
    return this.fruitless <= 1 ? 0 : Math.min(LONGEST_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** (this.fruitless - 2));
  }

  /** Ends the spawner (job processes run on, as when the service ends); idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.connected) child.disconnect();
    // It exits on its own at once; one that hangs (stopped, stuck) must not hold the service's shutdown. It holds
    // nothing of value: the job processes are not its to end.
    const stuck = setTimeout(() => child.kill('SIGKILL'), CLOSE_WAIT_MS);
    await exited;
    clearTimeout(stuck);
  }

  private launch(): ChildProcess {
    // No execArgv (no tsx loader, no inspector) and no NODE_OPTIONS: plain node, as small as it gets.
    const child = fork(PROGRAM, [String(this.maxProcesses)], { execArgv: [], env: {}, serialization: 'json', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    this.startedAny = false;
    child.on('message', (message: SpawnerMessage) => {
      const job = this.running.get(message.id);
      if (!job) return;
      if (message.op === 'spawned') this.startedAny = true;
      if (message.op !== 'spawned') this.running.delete(message.id);
      if (this.running.size === 0) child.channel?.unref();
      job.report(message);
    });
    // Its channel closes once every report it sent has been read (unlike 'exit', which may come before them).
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (this.child === child) this.child = undefined;
      this.fruitless = this.startedAny ? 1 : this.fruitless + 1;
      const lost = [...this.running.values()];
      this.running.clear();
      if (!this.closed) this.logger.warn('the spawner ended; its unfinished attempts are ended and run again', { pid: child.pid, attempts: lost.length });
      for (const job of lost) job.lose();
    };
    child.once('disconnect', end);
    child.once('error', (error) => {
      this.logger.error('the spawner failed', { error: error.message });
      // It could not be started at all: no channel will close.
      if (child.pid === undefined) end();
    });
    child.channel?.unref();
    this.logger.info('spawner started', { pid: child.pid });
    return child;
  }
}
