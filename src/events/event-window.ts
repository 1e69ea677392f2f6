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
 * The newest events: a ring of at most `capacity`, numbered by position since the start. Readers keep a
 * position into it instead of a copy of what they have not been sent, and a reader resuming with
 * `Last-Event-ID` finds its place through the index from id to position.
 */
export class EventWindow {
  private readonly ring: Array<LiveEvent | undefined>;
  private readonly positions = new Map<string, number>();
  /** Position of the next event; the ring holds positions `[head - size, head)`. */
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

  /** The position the next event will have. */
  get head(): number {
    return this.next;
  }

  /** The position of the oldest event kept. */
  get oldest(): number {
    return this.next - this.size;
  }

  /** The event at a position, if it is still kept. */
  at(position: number): LiveEvent | undefined {
    return position >= this.oldest && position < this.next ? this.ring[position % this.capacity] : undefined;
  }

  /** The position of the event with this id, if it is still kept. */
  positionOf(id: string): number | undefined {
    return this.positions.get(id);
  }

  /** The newest event's id, if any. */
  get newest(): string | undefined {
    return this.at(this.next - 1)?.id;
  }
}
