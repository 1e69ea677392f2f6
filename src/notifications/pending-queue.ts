import type { EventHeader } from './events.js';

/** The most the outbox holds; whichever is reached first counts. */
export interface OutboxBound {
  maxEvents: number;
  maxBytes: number;
}

/** An event the bound pushed out: a transition superseded by a newer one of its job, or the oldest event. */
export interface Dropped {
  id: string;
  reason: 'superseded' | 'overflow';
}

interface Lane {
  batch: string;
  events: Map<string, EventHeader>;
  /** Consecutive failed deliveries of its head. */
  failures: number;
  readyAt: number;
}

/**
 * The undelivered events, in memory and without their bodies: one lane per batch, delivered in order,
 * one event of a lane in flight at a time, lanes taken in turn, so a slow or failing batch holds back
 * only its own events. Keeps the outbox within its bound: first it drops transitions a newer one of
 * the same job supersedes, then the oldest events; an event in flight is never dropped. Time is an
 * input (`now`, `at`); it owns no timer.
 */
export class PendingQueue {
  private readonly events = new Map<string, { header: EventHeader; lane: Lane }>();
  private readonly lanes = new Map<string, Lane>();
  private readonly ready = new Set<Lane>();
  private readonly waiting = new Set<Lane>();
  private readonly inFlight = new Set<string>();
  /** Each job's pending `Update`s, oldest first, and the jobs that have more than one. */
  private readonly updates = new Map<string, Map<string, EventHeader>>();
  private readonly superseded = new Set<string>();
  private heldBytes = 0;

  constructor(private readonly bound: OutboxBound) {}

  get size(): number {
    return this.events.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  has(id: string): boolean {
    return this.events.has(id);
  }

  /** Puts events at the end of their batches' lanes; answers what had to go to stay within the bound. */
  add(headers: Iterable<EventHeader>): Dropped[] {
    for (const header of headers) {
      if (this.events.has(header.id)) continue;
      let lane = this.lanes.get(header.batch);
      if (!lane) {
        lane = { batch: header.batch, events: new Map(), failures: 0, readyAt: 0 };
        this.lanes.set(header.batch, lane);
        this.ready.add(lane);
      }
      lane.events.set(header.id, header);
      this.events.set(header.id, { header, lane });
      this.heldBytes += header.bytes;
      if (header.job !== undefined) {
        const updates = this.updates.get(header.job) ?? new Map<string, EventHeader>();
        updates.set(header.id, header);
        this.updates.set(header.job, updates);
        if (updates.size > 1) this.superseded.add(header.job);
      }
    }
    return this.keepWithinBound();
  }

  /** The next event to send: the head of the next lane whose turn it is. Its lane waits until it is settled. */
  next(now: number): EventHeader | undefined {
    for (const lane of this.waiting) {
      if (lane.readyAt <= now) {
        this.waiting.delete(lane);
        this.ready.add(lane);
      }
    }
    const [lane] = this.ready;
    if (!lane) return undefined;
    this.ready.delete(lane);
    const [head] = lane.events.values();
    this.inFlight.add(head!.id);
    return head;
  }

  /** The event was delivered or set aside: its lane moves on to its next event. */
  settle(id: string): void {
    const entry = this.events.get(id);
    this.inFlight.delete(id);
    if (!entry) return;
    this.remove(id);
    entry.lane.failures = 0;
    this.requeue(entry.lane);
  }

  /** The event failed: it stays at the head of its lane, which waits `delayMs(failures so far)` from `now`. */
  retry(id: string, now: number, delayMs: (failures: number) => number): void {
    const entry = this.events.get(id);
    this.inFlight.delete(id);
    if (!entry) return;
    entry.lane.failures += 1;
    entry.lane.readyAt = now + delayMs(entry.lane.failures);
    this.waiting.add(entry.lane);
  }

  /** When the earliest waiting lane is due, if any lane waits. */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const lane of this.waiting) due = due === undefined ? lane.readyAt : Math.min(due, lane.readyAt);
    return due;
  }

  private keepWithinBound(): Dropped[] {
    const dropped: Dropped[] = [];
    while (this.events.size > this.bound.maxEvents || this.heldBytes > this.bound.maxBytes) {
      const victim = this.oldestSuperseded();
      if (victim) {
        dropped.push({ id: victim, reason: 'superseded' });
      } else {
        const oldest = this.oldestIdle();
        if (!oldest) break;
        dropped.push({ id: oldest, reason: 'overflow' });
      }
      const { lane } = this.events.get(dropped.at(-1)!.id)!;
      this.remove(dropped.at(-1)!.id);
      this.requeue(lane);
    }
    return dropped;
  }

  private oldestSuperseded(): string | undefined {
    for (const job of this.superseded) {
      const updates = [...this.updates.get(job)!.keys()];
      const victim = updates.slice(0, -1).find((id) => !this.inFlight.has(id));
      if (victim) return victim;
    }
    return undefined;
  }

  private oldestIdle(): string | undefined {
    for (const id of this.events.keys()) if (!this.inFlight.has(id)) return id;
    return undefined;
  }

  private remove(id: string): void {
    const { header, lane } = this.events.get(id)!;
    this.events.delete(id);
    lane.events.delete(id);
    this.heldBytes -= header.bytes;
    if (header.job === undefined) return;
    const updates = this.updates.get(header.job)!;
    updates.delete(id);
    if (updates.size <= 1) this.superseded.delete(header.job);
    if (updates.size === 0) this.updates.delete(header.job);
  }

  /** Puts a lane back in turn if it has events and none in flight; forgets it when empty. */
  private requeue(lane: Lane): void {
    const [head] = lane.events.keys();
    if (head === undefined) {
      this.lanes.delete(lane.batch);
      this.ready.delete(lane);
      this.waiting.delete(lane);
    } else if (!this.inFlight.has(head) && !this.waiting.has(lane)) {
      this.ready.add(lane);
    }
  }
}
