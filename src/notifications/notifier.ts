import type { BatchStatusView, JobStatusView } from '../core/view.js';
import type { Logger } from '../logger.js';
import type { Observer } from '../metrics.js';
import type { SchedulerListener } from '../scheduler/scheduler.js';
import { batchEvent, type BatchEventType, eventId, type OutboxEvent, signature, transitionKey } from './events.js';
import type { Outbox } from './outbox.js';

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
}

/**
 * Tells the component's webhook about every batch and job status change, reliably: events are
 * written to a durable outbox before anything is sent, delivered in order with capped
 * exponential backoff until the receiver answers 2xx, and carry an id (the same for the same
 * transition, even after a restart) for de-duplication. Sending happens apart from the API, so a
 * slow or dead receiver never slows a request.
 */
export class Notifier implements SchedulerListener {
  private told = new Map<string, string>();
  private buffer: { events: OutboxEvent[]; told: Array<[string, string]> } = { events: [], told: [] };
  private flushScheduled = false;
  private wake: (() => void) | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly options: NotifierOptions) {}

  /** Tells what changed while the service was down (or was never told), then starts sending. */
  opened(batches: BatchStatusView[]): void {
    this.told = this.options.outbox.lastTold();
    for (const batch of batches) {
      const jobs = batch.jobStatuses ?? [];
      if (!jobs.some((job) => this.told.has(job.name))) {
        // Accepted just before a crash, never told: its Create event carries the jobs as they are now.
        this.batchCreated(batch);
      } else {
        for (const job of jobs) if (this.told.get(job.name) !== transitionKey(job)) this.jobChanged(batch, job);
      }
    }
    this.flush();
    this.loop = this.deliverForever();
  }

  batchCreated(batch: BatchStatusView): void {
    const jobs = batch.jobStatuses ?? [];
    this.queue('Create', batch, jobs, eventId(batch.name, 'Create'));
  }

  jobChanged(batch: BatchStatusView, job: JobStatusView): void {
    const key = transitionKey(job);
    if (this.told.get(job.name) === key) return;
    this.queue('Update', batch, [job], eventId(batch.name, 'Update', job.name, key));
  }

  batchDeleted(batch: BatchStatusView, jobNames: string[]): void {
    this.queue('Delete', batch, [], eventId(batch.name, 'Delete'));
    this.flush();
    this.options.outbox.forget(jobNames);
    for (const name of jobNames) this.told.delete(name);
  }

  async close(): Promise<void> {
    this.flush();
    this.closed = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
    this.options.outbox.close();
  }

  private queue(type: BatchEventType, batch: BatchStatusView, jobs: JobStatusView[], id: string): void {
    if (this.closed) return;
    this.buffer.events.push({ id, body: JSON.stringify(batchEvent(type, batch, jobs)) });
    for (const job of jobs) {
      const key = transitionKey(job);
      this.told.set(job.name, key);
      this.buffer.told.push([job.name, key]);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what was queued in this turn of the event loop in one transaction. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.buffer.events.length === 0) return;
    const { events, told } = this.buffer;
    this.buffer = { events: [], told: [] };
    this.options.outbox.append(events, told);
    this.wake?.();
  }

  private async deliverForever(): Promise<void> {
    let delay = this.options.baseDelayMs;
    while (!this.closed) {
      const [next] = this.options.outbox.pending(1);
      if (!next) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      if (await this.deliver(next)) {
        this.options.outbox.delivered(next.id);
        delay = this.options.baseDelayMs;
      } else {
        await this.sleep(delay);
        delay = Math.min(this.options.maxDelayMs, delay * 2);
      }
    }
  }

  private async deliver(event: OutboxEvent): Promise<boolean> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-job-scheduler-event-id': event.id,
      'x-job-scheduler-timestamp': timestamp,
    };
    if (this.options.secret) headers['x-job-scheduler-signature'] = signature(this.options.secret, timestamp, event.body);
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body: event.body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        this.options.observer.webhookDelivery('delivered');
        return true;
      }
      this.options.logger.warn('webhook refused an event', { eventId: event.id, status: response.status });
    } catch (error) {
      if (this.closed) return false;
      this.options.logger.warn('webhook unreachable', { eventId: event.id, error: (error as Error).name });
    }
    this.options.observer.webhookDelivery('failed');
    return false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}
