import type { BatchEventType } from '../notifications/events.js';

/** One event of the live stream, with its wire form made once for every reader. */
export interface LiveEvent {
  /** The same id as the webhook event for the same transition. */
  id: string;
  type: BatchEventType;
  batch: string;
  /** The job an `Update` is about. */
  job?: string;
  /** `id:`, `event:` and `data:` lines and the blank line that ends the event. */
  frame: string;
}

/**
 * The newest events, for readers resuming with `Last-Event-ID`: a ring of at most `capacity` events and an
 * index from id to position, so a resume point is found without a scan.
 */
export class EventWindow {
  private readonly ring: Array<LiveEvent | undefined>;
  private readonly positions = new Map<string, number>();
  /** Position of the next event; the ring holds positions `[next - size, next)`. */
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<LiveEvent | undefined>(capacity);
  }

  push(event: LiveEvent): void {
    const slot = this.next % this.capacity;
    const evicted = this.ring[slot];
    if (evicted && this.positions.get(evicted.id) === this.next - this.capacity) this.positions.delete(evicted.id);
    this.ring[slot] = event;
    this.positions.set(event.id, this.next);
    this.next++;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** The newest event's id, if any. */
  get newest(): string | undefined {
    return this.size === 0 ? undefined : this.ring[(this.next - 1) % this.capacity]!.id;
  }

  /** The events after the one with this id, oldest first; undefined when that id is not in the window. */
  after(id: string): LiveEvent[] | undefined {
    const position = this.positions.get(id);
    if (position === undefined) return undefined;
    const events: LiveEvent[] = [];
    for (let at = position + 1; at < this.next; at++) events.push(this.ring[at % this.capacity]!);
    return events;
  }
}
