import type { JobRecord } from '../core/model.js';
import { fullRecord, recordTransitionKey } from '../core/stored-job.js';
import { type BatchStatusView, type JobStatusView, jobStatusView } from '../core/view.js';
import { Interner } from '../core/interner.js';
import type { Logger } from '../logger.js';
import type { Observer } from '../metrics.js';
import type { OpenedBatch, SchedulerListener } from '../scheduler/scheduler.js';
import { PermanentRefusal, post, receiverHost, retryDelayMs, TransientFailure } from './delivery.js';
import { createEvents, deleteEvent, type EventHeader, isInitial, type OutboxEvent, transitionKey, updateEvent } from './events.js';
import type { DeadLetter, Outbox } from './outbox.js';
import { type Dropped, type OutboxBound, PendingQueue } from './pending-queue.js';
import { OutboxWriter } from './outbox-writer.js';

/** Distinct transition keys shared; past this many, sharing starts over (only memory is at stake). */
const MAX_KEYS = 1000;

export interface NotifierOptions {
  url: string;
  /** Signs each body with HMAC-SHA256 when set. */
  secret?: string;
  outbox: Outbox;
  logger: Logger;
  observer: Observer;
  /** First delay after a failed delivery; doubles up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** How long one delivery may take before it counts as failed. */
  timeoutMs: number;
  /** Most deliveries in flight at once (one per batch). */
  concurrency: number;
  bound: OutboxBound;
  /** Most jobs one `Create` event carries; a larger batch's `Create` comes in parts. */
  jobsPerEvent: number;
  now?: () => number;
}

/**
 * Tells the component's webhook about every batch and job status change: events are written to a
 * durable, bounded outbox before anything is sent; each batch's events are delivered in order, one
 * at a time, and batches take turns within a global cap, so a slow receiver for one batch delays
 * only that batch. Transient failures are retried with capped backoff (honouring `Retry-After`);
 * a permanent refusal is set aside as a dead letter. Every event id names one transition, the same
 * after a restart. Sending happens apart from the API, so a slow or dead receiver never slows a request.
 */
export class Notifier implements SchedulerListener {
  /** The transition last told per job, for every job (its key shared with the jobs told the same: issue 14). */
  private told = new Map<string, string>();
  /** Transition keys are few and every job has one: each job holds the same string, not its own copy. */
  private readonly keys = new Interner<string>(MAX_KEYS, (key) => key);
  private readonly queue: PendingQueue;
  private readonly writer: OutboxWriter;
  private readonly deliveries = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: NotifierOptions) {
    this.now = options.now ?? Date.now;
    this.queue = new PendingQueue(options.bound);
    this.writer = new OutboxWriter(options.outbox, options.logger, (events) => this.enqueue(events));
  }

  /** Events waiting and their bytes (for metrics). */
  get held(): { events: number; bytes: number } {
    return { events: this.queue.size, bytes: this.queue.bytes };
  }

  /** Tells what changed while the service was down (or was never told), then starts sending. */
  opened(batches: OpenedBatch[]): void {
    // Later calls bring batches read after the start: only what they have to tell.
    if (!this.started) {
      this.told = this.options.outbox.lastTold();
      for (const [job, key] of this.told) this.told.set(job, this.keys.shared(key));
      this.writer.drop(this.counted(this.queue.add(this.options.outbox.pending())));
    }
    for (const { view, jobs } of batches) {
      // A job's view is made only when it has something to tell: a finished job's is read from the store.
      const jobView = (job: JobRecord) => jobStatusView(fullRecord(job), view.batchType);
      if (!jobs.some((job) => this.told.has(job.name))) {
        this.batchCreated({ ...view, jobStatuses: jobs.map(jobView) });
      } else {
        for (const job of jobs) if (this.told.get(job.name) !== recordTransitionKey(job)) this.jobChanged(view, jobView(job));
      }
    }
    this.started = true;
    this.writer.flush();
    this.pump();
  }

  /** The batch's `Create` (in parts for a large batch), then each job that is already past `Waiting`. */
  batchCreated(batch: BatchStatusView): void {
    const jobs = batch.jobStatuses ?? [];
    this.writer.queue(createEvents(batch, this.options.jobsPerEvent), jobs.map((job) => [job.name, transitionKey(job)]));
    for (const job of jobs) this.told.set(job.name, this.keys.shared(transitionKey(job)));
    for (const job of jobs) if (!isInitial(job)) this.writer.queue([updateEvent(batch, job)], []);
  }

  jobChanged(batch: BatchStatusView, job: JobStatusView): void {
    const key = transitionKey(job);
    if (this.told.get(job.name) === key) return;
    this.told.set(job.name, this.keys.shared(key));
    this.writer.queue([updateEvent(batch, job)], [[job.name, key]]);
  }

  batchDeleted(batch: BatchStatusView, jobNames: string[]): void {
    this.writer.queue([deleteEvent(batch)], []);
    this.writer.flush();
    this.writer.forget(jobNames);
    for (const name of jobNames) this.told.delete(name);
  }

  /** The newest dead letters first, at most `limit`. */
  deadLetters(limit: number): DeadLetter[] {
    return this.options.outbox.deadLetters(limit);
  }

  /** Stops sending (what is not delivered stays in the outbox for the next start); can be called twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.writer.flush();
      this.closed = true;
      clearTimeout(this.timer);
      this.abort.abort();
      await Promise.allSettled([...this.deliveries]);
      this.writer.close();
      this.options.outbox.close();
    })();
    return this.closing;
  }

  /** Events being written in this turn: into their lanes, within the bound (sending starts on a later turn, after the write). */
  private enqueue(events: OutboxEvent[]): Dropped[] {
    const dropped = this.counted(this.queue.add(events));
    if (this.started) setImmediate(() => this.pump());
    return dropped;
  }

  private counted(dropped: Dropped[]): Dropped[] {
    for (const reason of ['superseded', 'overflow'] as const) {
      const count = dropped.filter((drop) => drop.reason === reason).length;
      if (count > 0) this.options.observer.webhookEventsDropped(reason, count);
    }
    return dropped;
  }

  private pump(): void {
    if (this.closed) return;
    while (this.deliveries.size < this.options.concurrency) {
      const next = this.queue.next(this.now());
      if (!next) break;
      const delivery: Promise<void> = this.send(next).finally(() => {
        this.deliveries.delete(delivery);
        this.pump();
      });
      this.deliveries.add(delivery);
    }
    clearTimeout(this.timer);
    const due = this.queue.nextDue();
    if (due !== undefined) this.timer = setTimeout(() => this.pump(), Math.max(0, due - this.now()));
  }

  private async send(header: EventHeader): Promise<void> {
    const body = this.writer.body(header.id);
    if (body === undefined) {
      this.queue.settle(header.id);
      return;
    }
    try {
      await post(this.options, header.id, body, { signal: this.abort.signal, now: this.now() });
    } catch (error) {
      if (this.closed) return;
      if (error instanceof PermanentRefusal) return this.setAside({ ...header, body }, error.status);
      const failure = error instanceof TransientFailure ? error : new TransientFailure(undefined, undefined, (error as Error).name);
      this.options.observer.webhookDelivery('failed');
      if (!this.failing) this.options.logger.warn('webhook delivery failing; retrying', { eventId: header.id, host: receiverHost(this.options.url), status: failure.status, error: failure.message });
      this.failing = true;
      const policy = { baseMs: this.options.baseDelayMs, maxMs: this.options.maxDelayMs };
      this.queue.retry(header.id, this.now(), (failures) => retryDelayMs(failures, policy, failure.retryAfterMs));
      return;
    }
    this.options.observer.webhookDelivery('delivered');
    if (this.failing) this.options.logger.info('webhook delivering again');
    this.failing = false;
    this.queue.settle(header.id);
    this.writer.delivered(header.id);
  }

  private setAside(event: OutboxEvent, status: number): void {
    this.options.observer.webhookDelivery('refused');
    this.options.logger.warn('webhook refused an event for good; set aside as a dead letter', { eventId: event.id, batchName: event.batch, status });
    this.queue.settle(event.id);
    this.writer.deadLetter(event, { responseStatus: status, at: new Date(this.now()).toISOString() });
  }
}
