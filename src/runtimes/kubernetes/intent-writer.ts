import type { Logger } from '../../logger.js';
import { fingerprint } from './intent-codec.js';
import { statusOf } from './retry.js';

/** One state object of a batch, as the writer addresses it. */
export interface ShardRef {
  batchName: string;
  shard: number;
}

export interface IntentWriterOptions {
  /** Creates the shard's object with these keys (answers 409 when it exists). */
  create(shard: ShardRef, data: Record<string, string>): Promise<void>;
  /** Merge-patches these keys into the shard's object (null removes a key; answers 404 when it is missing). */
  patch(shard: ShardRef, data: Record<string, string | null>): Promise<void>;
  /** How long a write that nobody waits on (an outcome) may wait to share one patch with others. */
  delayMs: number;
  /** Delay before writing again after a failure (the n-th in a row). */
  retryDelayMs(failures: number): number;
  logger: Logger;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Shard extends ShardRef {
  exists: boolean;
  /** What is known to be written, by fingerprint (to skip writing a value again). */
  durable: Map<string, string>;
  pending: Map<string, string | null>;
  waiters: Waiter[];
  urgent: boolean;
  timer?: NodeJS.Timeout;
  immediate: boolean;
  flushing?: Promise<void>;
  failures: number;
}

/**
 * Writes jobs' intent keys to their batch's state objects, coalesced: every change queued for one object
 * until its write goes out shares one request. A write someone waits on (a launch, a stop, a refused create)
 * goes out on the next turn of the event loop; the others within `delayMs`. A failed write keeps its
 * changes queued and is tried again with backoff; it never throws past its waiters.
 */
export class IntentWriter {
  private readonly shards = new Map<string, Shard>();
  private closed = false;

  constructor(private readonly options: IntentWriterOptions) {}

  /** Tells the writer what a state object already holds (read when the runtime opens). */
  known(ref: ShardRef, data: Record<string, string>): void {
    const shard = this.shard(ref);
    shard.exists = true;
    for (const [key, value] of Object.entries(data)) shard.durable.set(key, fingerprint(value));
  }

  /** Queues a change and resolves once it is written (rejects when that write fails; it stays queued). */
  write(ref: ShardRef, key: string, value: string | null): Promise<void> {
    const shard = this.shard(ref);
    shard.pending.set(key, value);
    if (shard.pending.size === 1 && !shard.flushing && this.alreadyDurable(shard, key, value)) {
      shard.pending.delete(key);
      return Promise.resolve();
    }
    const written = new Promise<void>((resolve, reject) => shard.waiters.push({ resolve, reject }));
    shard.urgent = true;
    this.schedule(shard);
    return written;
  }

  /** Queues a change that nobody waits on; it goes out within `delayMs`, or sooner with another write. */
  writeLater(ref: ShardRef, key: string, value: string | null): void {
    const shard = this.shard(ref);
    shard.pending.set(key, value);
    this.schedule(shard);
  }

  /** Takes back a change still queued (one whose waiter was told it failed and gave up). */
  cancel(ref: ShardRef, key: string): void {
    this.shard(ref).pending.delete(key);
  }

  /** Drops everything queued for a batch that was deleted (its state objects go with its record). */
  forget(batchName: string): void {
    for (const [name, shard] of this.shards) {
      if (shard.batchName !== batchName) continue;
      clearTimeout(shard.timer);
      shard.pending.clear();
      shard.waiters.splice(0).forEach((waiter) => waiter.resolve());
      this.shards.delete(name);
    }
  }

  /** Writes what is queued now, once, and stops retrying. */
  async close(): Promise<void> {
    this.closed = true;
    const flushes: Array<Promise<void>> = [];
    for (const shard of this.shards.values()) {
      clearTimeout(shard.timer);
      flushes.push((shard.flushing ?? Promise.resolve()).then(() => this.flush(shard)));
    }
    await Promise.all(flushes);
  }

  private shard(ref: ShardRef): Shard {
    const name = `${ref.batchName}/${ref.shard}`;
    let shard = this.shards.get(name);
    if (!shard) {
      shard = { batchName: ref.batchName, shard: ref.shard, exists: false, durable: new Map(), pending: new Map(), waiters: [], urgent: false, immediate: false, failures: 0 };
      this.shards.set(name, shard);
    }
    return shard;
  }

  private alreadyDurable(shard: Shard, key: string, value: string | null): boolean {
    return value === null ? !shard.durable.has(key) : shard.durable.get(key) === fingerprint(value);
  }

  private schedule(shard: Shard): void {
    if (shard.flushing || this.closed) return;
    if (shard.urgent) {
      clearTimeout(shard.timer);
      shard.timer = undefined;
      if (!shard.immediate) {
        shard.immediate = true;
        setImmediate(() => void this.flush(shard));
      }
    } else if (!shard.timer) {
      shard.timer = setTimeout(() => void this.flush(shard), this.options.delayMs);
      shard.timer.unref();
    }
  }

  private flush(shard: Shard): Promise<void> {
    clearTimeout(shard.timer);
    shard.timer = undefined;
    shard.immediate = false;
    if (shard.flushing) return shard.flushing;
    const changes = new Map([...shard.pending].filter(([key, value]) => !this.alreadyDurable(shard, key, value)));
    const waiters = shard.waiters.splice(0);
    shard.pending = new Map();
    shard.urgent = false;
    if (changes.size === 0) {
      waiters.forEach((waiter) => waiter.resolve());
      return Promise.resolve();
    }
    shard.flushing = this.send(shard, changes).then(
      () => {
        shard.failures = 0;
        for (const [key, value] of changes) {
          if (value === null) shard.durable.delete(key);
          else shard.durable.set(key, fingerprint(value));
        }
        waiters.forEach((waiter) => waiter.resolve());
      },
      (error: unknown) => {
        shard.failures++;
        for (const [key, value] of changes) if (!shard.pending.has(key)) shard.pending.set(key, value);
        this.options.logger.warn('could not record job intent; trying again', { batchName: shard.batchName, shard: shard.shard, keys: changes.size, status: statusOf(error) });
        waiters.forEach((waiter) => waiter.reject(error));
      },
    ).finally(() => {
      shard.flushing = undefined;
      if (shard.pending.size === 0 || this.closed || !this.shards.has(`${shard.batchName}/${shard.shard}`)) return;
      if (shard.failures === 0) return this.schedule(shard);
      shard.timer = setTimeout(() => void this.flush(shard), this.options.retryDelayMs(shard.failures));
      shard.timer.unref();
    });
    return shard.flushing;
  }

  private async send(shard: Shard, changes: Map<string, string | null>): Promise<void> {
    if (!shard.exists) {
      const data = Object.fromEntries([...changes].filter((entry): entry is [string, string] => entry[1] !== null));
      try {
        await this.options.create(shard, data);
        shard.exists = true;
        return;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        shard.exists = true;
      }
    }
    try {
      await this.options.patch(shard, Object.fromEntries(changes));
    } catch (error) {
      // Deleted by someone else: the next try creates it again with what is queued.
      if (statusOf(error) === 404) shard.exists = false;
      throw error;
    }
  }
}
