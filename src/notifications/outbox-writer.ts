import type { Logger } from '../logger.js';
import type { OutboxEvent } from './events.js';
import type { Outbox } from './outbox.js';
import type { Dropped } from './pending-queue.js';

/** Delay before a failed outbox write is tried again. */
const RETRY_WRITE_MS = 1000;

/**
 * Writes to the outbox for the notifier: what is queued in one turn of the event loop goes in one
 * transaction, and only then becomes deliverable. A write that fails (disk full, file locked) never
 * throws into the scheduler: its events stay in memory, are delivered from there, and the write is
 * tried again until it succeeds, with one log line when it starts failing and one when it recovers.
 */
export class OutboxWriter {
  private fresh: OutboxEvent[] = [];
  private unwritten = { events: new Map<string, OutboxEvent>(), told: [] as Array<[string, string]>, dropped: [] as string[] };
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failing = false;
  private closed = false;

  /** `enqueue` makes written events deliverable and answers what the outbox's bound pushed out. */
  constructor(private readonly outbox: Outbox, private readonly logger: Logger, private readonly enqueue: (events: OutboxEvent[]) => Dropped[]) {}

  queue(events: OutboxEvent[], told: Array<[string, string]>): void {
    if (this.closed) return;
    this.fresh.push(...events);
    this.unwritten.told.push(...told);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Events the bound pushed out: removed with the next write (or never written at all). */
  drop(dropped: Dropped[]): void {
    for (const { id } of dropped) if (!this.unwritten.events.delete(id)) this.unwritten.dropped.push(id);
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.fresh.length > 0) {
      const events = this.fresh;
      this.fresh = [];
      for (const event of events) this.unwritten.events.set(event.id, event);
      this.drop(this.enqueue(events));
    }
    this.write();
  }

  body(id: string): string | undefined {
    const unwritten = this.unwritten.events.get(id);
    if (unwritten) return unwritten.body;
    try {
      return this.outbox.body(id);
    } catch (error) {
      this.logger.error('webhook outbox read failed', { eventId: id, error: (error as Error).message });
      return undefined;
    }
  }

  delivered(id: string): void {
    if (!this.unwritten.events.delete(id)) this.attempt(() => this.outbox.delivered(id));
  }

  deadLetter(event: OutboxEvent, refusal: { responseStatus: number; at: string }): void {
    this.unwritten.events.delete(event.id);
    this.attempt(() => this.outbox.deadLetter(event, refusal));
  }

  forget(jobs: string[]): void {
    this.attempt(() => this.outbox.forget(jobs));
  }

  /** Tries a last write; what still fails to be written is told again after the next start. */
  close(): void {
    this.flush();
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  private write(): void {
    const { events, told, dropped } = this.unwritten;
    if (events.size === 0 && told.length === 0 && dropped.length === 0) return;
    const written = this.attempt(() => {
      this.outbox.append([...events.values()], told, dropped);
      return true;
    });
    if (written) {
      this.unwritten = { events: new Map(), told: [], dropped: [] };
    } else if (!this.closed) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.write(), RETRY_WRITE_MS);
      this.retryTimer.unref();
    }
  }

  private attempt<T>(action: () => T): T | undefined {
    try {
      const result = action();
      if (this.failing) this.logger.info('webhook outbox writable again');
      this.failing = false;
      return result;
    } catch (error) {
      if (!this.failing) this.logger.error('webhook outbox write failed; events kept in memory and the write retried', { error: (error as Error).message });
      this.failing = true;
      return undefined;
    }
  }
}
