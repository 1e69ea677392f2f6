import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
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
 * Events per block. A full block is compressed: the events of a window are mostly the same batch and job
 * texts again, so a block of them shrinks about twentyfold, and the window of 20,000 events costs a few
 * MiB instead of tens (memory the service otherwise holds per finished job, issue 14).
 */
export const BLOCK_EVENTS = 128;
/** Inflated blocks kept for readers catching up (each reads its blocks in order). */
const INFLATED_KEPT = 2;
const HEX_ID = /^[0-9a-f]{32}$/;

/**
 * What a sealed block keeps of an event besides its frame: type, batch, job (or null), the frame's length, and the
 * id when it is not 32 hex digits (or null; those are kept apart, see `ids`).
 */
type EventMeta = [BatchEventType, string, string | null, number, string | null];

interface SealedBlock {
  /** Position of the block's first event. */
  first: number;
  /**
   * The block's events, deflated, one byte a character: a line of JSON with each event's `EventMeta`, then the
   * frames one after the other (as they are: escaping them into JSON cost about as much as deflating them).
   * Strings, not Buffers: they live in V8's heap, which its GC compacts; Buffers are malloc's, and blocks made
   * and dropped all day long left it holding memory it had freed between them (issue 14).
   */
  data: string;
  /** Each event's id as 16 bytes (event ids are 32 hex digits), one a character, to find a `Last-Event-ID` without inflating. */
  ids: string;
}

/**
 * The newest events: at most `capacity`, numbered by position since the start. Readers keep a position into
 * it instead of a copy of what they have not been sent, and a reader resuming with `Last-Event-ID` finds its
 * place by id. The newest events (the open block) are kept as they are; older ones in compressed blocks.
 */
export class EventWindow {
  private readonly sealed: SealedBlock[] = [];
  private open: LiveEvent[] = [];
  private readonly inflated = new Map<number, LiveEvent[]>();
  /** Position of the next event; the window holds positions `[head - size, head)`. */
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {}

  push(event: LiveEvent): void {
    this.open.push(event);
    this.next++;
    this.size = Math.min(this.size + 1, this.capacity);
    if (this.open.length === BLOCK_EVENTS) this.seal();
    while (this.sealed.length > 0 && this.sealed[0]!.first + BLOCK_EVENTS <= this.oldest) {
      this.inflated.delete(this.sealed.shift()!.first);
    }
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
    if (position < this.oldest || position >= this.next) return undefined;
    const openFirst = this.next - this.open.length;
    if (position >= openFirst) return this.open[position - openFirst];
    const first = position - (position % BLOCK_EVENTS);
    return this.eventsOf(first)?.[position - first];
  }

  /** The position of the event with this id, if it is still kept. */
  positionOf(id: string): number | undefined {
    const openFirst = this.next - this.open.length;
    for (let i = this.open.length - 1; i >= 0; i--) if (this.open[i]!.id === id) return this.kept(openFirst + i);
    if (!HEX_ID.test(id)) return undefined;
    const needle = Buffer.from(id, 'hex').toString('latin1');
    for (let b = this.sealed.length - 1; b >= 0; b--) {
      const { first, ids } = this.sealed[b]!;
      for (let at = ids.lastIndexOf(needle); at >= 0; at = at > 0 ? ids.lastIndexOf(needle, at - 1) : -1) {
        if (at % needle.length === 0) return this.kept(first + at / needle.length);
      }
    }
    return undefined;
  }

  /** The newest event's id, if any. */
  get newest(): string | undefined {
    return this.at(this.next - 1)?.id;
  }

  private kept(position: number): number | undefined {
    return position >= this.oldest ? position : undefined;
  }

  private seal(): void {
    const events = this.open;
    this.open = [];
    const idBytes = Buffer.alloc(16 * events.length);
    const meta: EventMeta[] = [];
    let frames = '';
    events.forEach((event, i) => {
      const hex = HEX_ID.test(event.id);
      if (hex) idBytes.write(event.id, 16 * i, 'hex');
      meta.push([event.type, event.batch, event.job ?? null, event.frame.length, hex ? null : event.id]);
      frames += event.frame;
    });
    const ids = idBytes.toString('latin1');
    const first = this.next - events.length;
    // The fastest level: the window's texts repeat so much that it shrinks them about as well (issue 14: CPU per event).
    const data = deflateRawSync(`${JSON.stringify(meta)}\n${frames}`, { level: constants.Z_BEST_SPEED }).toString('latin1');
    this.sealed.push({ first, data, ids });
  }

  private unseal({ data, ids }: SealedBlock): LiveEvent[] {
    const text = inflateRawSync(Buffer.from(data, 'latin1')).toString();
    const lineEnd = text.indexOf('\n');
    const meta = JSON.parse(text.slice(0, lineEnd)) as EventMeta[];
    let at = lineEnd + 1;
    return meta.map(([type, batch, job, length, id], i) => {
      const event: LiveEvent = { id: id ?? Buffer.from(ids.slice(16 * i, 16 * (i + 1)), 'latin1').toString('hex'), type, batch, frame: text.slice(at, at += length) };
      if (job !== null) event.job = job;
      return event;
    });
  }

  private eventsOf(first: number): LiveEvent[] | undefined {
    const cached = this.inflated.get(first);
    if (cached) return cached;
    const oldest = this.sealed[0];
    const block = oldest && this.sealed[(first - oldest.first) / BLOCK_EVENTS];
    if (!block || block.first !== first) return undefined;
    const events = this.unseal(block);
    this.keepInflated(first, events);
    return events;
  }

  private keepInflated(first: number, events: LiveEvent[]): void {
    this.inflated.delete(first);
    this.inflated.set(first, events);
    if (this.inflated.size > INFLATED_KEPT) this.inflated.delete(this.inflated.keys().next().value!);
  }
}
