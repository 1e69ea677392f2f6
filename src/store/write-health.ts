import { ApiError } from '../core/errors.js';
import type { Logger } from '../logger.js';
import type { StoreFault, StoreHealth } from './store.js';

/** A timer port, so that tests drive retries with a fake clock instead of waiting. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unref'd: a pending retry never keeps the process alive on its own. */
export const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Where failed writes are counted (the service's metrics). */
export interface StoreObserver {
  storeWriteFailed(cause: StoreFault): void;
}

/** Thrown (and counted) when the database file at the store's path is not the one it opened. */
export class StoreGoneError extends Error {
  readonly code = 'STORE_GONE';
  constructor() {
    super('the database file was removed or replaced while the service ran');
  }
}

/**
 * What a failed SQLite call means for the store; undefined for errors that are not faults of the
 * disk or of other processes (a constraint broken by one batch, a bug).
 */
export function faultOf(error: unknown): StoreFault | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'STORE_GONE' || code === 'SQLITE_READONLY_DBMOVED') return 'gone';
  if (code === 'SQLITE_FULL') return 'disk-full';
  if (/^SQLITE_(BUSY|LOCKED)(_|$)/.test(code)) return 'locked';
  if (/^SQLITE_(IOERR|CANTOPEN|READONLY|CORRUPT|NOTADB|PERM|NOLFS)(_|$)/.test(code)) return 'io';
  return undefined;
}

/** The answer to a client while the store cannot write: what happened and what to do. */
export function refusalOf(cause: StoreFault): ApiError {
  switch (cause) {
    case 'disk-full':
      return ApiError.insufficientStorage("the data directory's disk is full; free space, the service retries by itself; try again later");
    case 'locked':
      return ApiError.unavailable('the store is locked by another process (a second writer on scheduler.db); end that process, the service retries by itself; try again later');
    case 'gone':
      return ApiError.unavailable('the data directory was removed or replaced while the service ran, so nothing more can be recorded; put it back or restart the service (see its log)');
    case 'io':
      return ApiError.unavailable('the store cannot write to the data directory (an I/O error); check its disk and mount, the service retries by itself; try again later');
  }
}

export interface WriteHealthOptions {
  logger: Logger;
  observer?: StoreObserver;
  timers?: Timers;
  now?: () => Date;
  /** First retry delay after a failure; it doubles with each failure in a row, up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Tries the pending writes again; reports back through `failed` or `succeeded`. */
  retry: () => void;
  /**
   * Whether the disk has (almost) no space left: an I/O error then counts as a full disk (SQLite reports a
   * -shm file that cannot grow as SQLITE_IOERR_SHMSIZE, not SQLITE_FULL).
   */
  isDiskFull?: () => boolean;
}

/**
 * The store's write health: every failed write is counted and keeps the store not writable until a
 * write succeeds; a retry is scheduled with capped exponential backoff. One log line when a fault
 * starts (or changes cause) and one when it ends.
 */
export class WriteHealth {
  private state: StoreHealth;
  private failuresInRow = 0;
  private timer: unknown;
  private closed = false;
  private readonly listeners = new Set<(health: StoreHealth) => void>();
  private readonly timers: Timers;
  private readonly now: () => Date;

  constructor(private readonly options: WriteHealthOptions) {
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? (() => new Date());
    this.state = { writable: true, since: this.now().toISOString() };
  }

  get current(): StoreHealth {
    return this.state;
  }

  get writable(): boolean {
    return this.state.writable;
  }

  onChange(listener: (health: StoreHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A write failed: the store is not writable until a write succeeds; a retry is scheduled. */
  failed(error: unknown): StoreFault {
    let cause = faultOf(error) ?? 'io';
    if (cause === 'io' && this.options.isDiskFull?.()) cause = 'disk-full';
    this.options.observer?.storeWriteFailed(cause);
    this.failuresInRow += 1;
    const delayMs = this.retryDelay();
    if (this.state.writable || this.state.cause !== cause) {
      this.options.logger.error('store cannot write', {
        cause,
        code: (error as { code?: unknown } | null)?.code ?? 'none',
        error: error instanceof Error ? error.message : String(error),
        retryInMs: delayMs,
      });
      this.change({ writable: false, cause, since: this.now().toISOString() });
    }
    this.schedule(delayMs);
    return cause;
  }

  /** A write committed: the fault, if any, is over. */
  succeeded(): void {
    this.failuresInRow = 0;
    if (this.state.writable) return;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const fault = this.state;
    this.change({ writable: true, since: this.now().toISOString() });
    this.options.logger.info('store writable again', { cause: fault.cause, faultSince: fault.since });
  }

  close(): void {
    this.closed = true;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.options.retry();
    }, delayMs);
  }

  private retryDelay(): number {
    const base = this.options.retryMs ?? 250;
    const max = this.options.maxRetryMs ?? 5000;
    return Math.min(max, base * 2 ** Math.min(30, this.failuresInRow - 1));
  }

  private change(next: StoreHealth): void {
    this.state = next;
    for (const listener of this.listeners) listener(next);
  }
}
