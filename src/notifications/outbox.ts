import type { BatchEventType, EventHeader, OutboxEvent } from './events.js';

/** An event the receiver refused for good, as the admin read lists it (never its body). */
export interface DeadLetter {
  id: string;
  event: BatchEventType;
  batchName: string;
  /** The job an `Update` was about. */
  jobName?: string;
  /** How many job statuses it carried. */
  jobs: number;
  /** The HTTP status the receiver answered. */
  responseStatus: number;
  /** When it was set aside (RFC 3339). */
  deadLettered: string;
  bytes: number;
}

/**
 * Where events wait until the receiver took them, what was last told about each job, and the
 * events the receiver refused for good. `append` records events and what they tell at once, so
 * an event is never lost between the two.
 */
export interface Outbox {
  /** Transition keys last told about, by job name. */
  lastTold(): Map<string, string>;
  /** The undelivered events, oldest first, without their bodies. */
  pending(): EventHeader[];
  body(id: string): string | undefined;
  /** Records new events and what they tell, and removes the `dropped` ones, in one transaction. */
  append(events: OutboxEvent[], told: Array<[job: string, key: string]>, dropped: string[]): void;
  delivered(id: string): void;
  /** Moves a refused event out of the outbox into the bounded dead-letter store (the oldest go first). */
  deadLetter(event: OutboxEvent, refusal: { responseStatus: number; at: string }): void;
  /** The newest dead letters first, at most `limit`. */
  deadLetters(limit: number): DeadLetter[];
  /** Forgets jobs that are gone (their batch was deleted and the Delete event queued). */
  forget(jobs: string[]): void;
  close(): void;
}

export function deadLetterOf(event: EventHeader, refusal: { responseStatus: number; at: string }): DeadLetter {
  const letter: DeadLetter = {
    id: event.id,
    event: event.type,
    batchName: event.batch,
    jobs: event.jobs,
    responseStatus: refusal.responseStatus,
    deadLettered: refusal.at,
    bytes: event.bytes,
  };
  if (event.job !== undefined) letter.jobName = event.job;
  return letter;
}

/**
 * An outbox in memory, for the Kubernetes runtime (whose only state is in the cluster): after a
 * restart, every batch's `Create` is told again under its id and each job's current transition after it.
 */
export class MemoryOutbox implements Outbox {
  private readonly told = new Map<string, string>();
  private readonly queue = new Map<string, OutboxEvent>();
  private readonly letters: DeadLetter[] = [];

  constructor(private readonly keepDeadLetters: number) {}

  lastTold(): Map<string, string> {
    return new Map(this.told);
  }

  pending(): EventHeader[] {
    return [...this.queue.values()].map(({ body: _body, ...header }) => header);
  }

  body(id: string): string | undefined {
    return this.queue.get(id)?.body;
  }

  append(events: OutboxEvent[], told: Array<[string, string]>, dropped: string[]): void {
    for (const event of events) if (!this.queue.has(event.id)) this.queue.set(event.id, event);
    for (const [job, key] of told) this.told.set(job, key);
    for (const id of dropped) this.queue.delete(id);
  }

  delivered(id: string): void {
    this.queue.delete(id);
  }

  deadLetter(event: OutboxEvent, refusal: { responseStatus: number; at: string }): void {
    this.queue.delete(event.id);
    this.letters.push(deadLetterOf(event, refusal));
    if (this.letters.length > this.keepDeadLetters) this.letters.splice(0, this.letters.length - this.keepDeadLetters);
  }

  deadLetters(limit: number): DeadLetter[] {
    return this.letters.slice(-limit).reverse();
  }

  forget(jobs: string[]): void {
    for (const job of jobs) this.told.delete(job);
  }

  close(): void {}
}
