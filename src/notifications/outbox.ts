import type { OutboxEvent } from './events.js';

/**
 * Where events wait until the receiver took them, and what was last told about each job.
 * `append` records both at once, so an event is never lost between the two.
 */
export interface Outbox {
  /** Transition keys last told about, by job name. */
  lastTold(): Map<string, string>;
  append(events: OutboxEvent[], told: Array<[job: string, key: string]>): void;
  /** The oldest undelivered events, in order. */
  pending(limit: number): OutboxEvent[];
  delivered(id: string): void;
  /** Forgets jobs that are gone (their batch was deleted and the Delete event queued). */
  forget(jobs: string[]): void;
  close(): void;
}

/**
 * An outbox in memory, for the Kubernetes runtime (whose only state is in the cluster): after a
 * restart, the current state of every job is told again under the same event ids.
 */
export class MemoryOutbox implements Outbox {
  private readonly told = new Map<string, string>();
  private readonly queue = new Map<string, OutboxEvent>();

  lastTold(): Map<string, string> {
    return new Map(this.told);
  }

  append(events: OutboxEvent[], told: Array<[string, string]>): void {
    for (const event of events) this.queue.set(event.id, event);
    for (const [job, key] of told) this.told.set(job, key);
  }

  pending(limit: number): OutboxEvent[] {
    // Only the first few: copying the whole queue on every delivery would cost O(n) each while a receiver catches up.
    const events: OutboxEvent[] = [];
    for (const event of this.queue.values()) {
      if (events.length >= limit) break;
      events.push(event);
    }
    return events;
  }

  delivered(id: string): void {
    this.queue.delete(id);
  }

  forget(jobs: string[]): void {
    for (const job of jobs) this.told.delete(job);
  }

  close(): void {}
}
