import type { ServerResponse } from 'node:http';
import type { Timers } from '../store/write-health.js';
import type { EventWindow, LiveEvent } from './event-window.js';

/** What a reader follows: a batch, a job (with the batch it belongs to), or everything. */
export interface EventFilter {
  batch?: string;
  job?: { name: string; batch: string };
}

export interface SseReaderOptions {
  window: EventWindow;
  /** Where the reader starts in the window. */
  from: number;
  /** The id of the last event the client had, if any. */
  lastId?: string;
  /** How far behind the newest event (in events) a reader whose connection takes no more may fall before it is cut off. */
  maxLag: number;
  /** How long a cut-off or closed reader's connection may take to take its last bytes before it is destroyed. */
  closeGraceMs: number;
  timers: Timers;
  /** Called once when the reader is gone, for whatever reason. */
  onGone: (reader: SseReader) => void;
}

/** Bytes handed to the connection in one write, at most (the socket's own buffer comes on top). */
const CHUNK_BYTES = 64 * 1024;

/** A run of events encoded once, for every reader with the same filter at the same position. */
export interface Chunk {
  bytes: Buffer;
  /** The position after the chunk's last event. */
  next: number;
  lastId: string | undefined;
}

/** Chunks made in one pass over the readers, by filter and position. */
export type ChunkCache = Map<string, Chunk>;

/**
 * One client of `GET /events`. The reader holds a position into the shared window, not a copy of what it has
 * not been sent: it writes the events that match its filter as fast as its connection takes them, and waits
 * for `drain` when the connection is full. So its memory is bounded by one chunk and the socket's buffer. A
 * reader whose connection takes no more while it falls more than `maxLag` events behind is sent a `Resume`
 * event naming the last event it was sent (still in the window, so a reconnect misses nothing) and cut off.
 */
export class SseReader {
  private position: number;
  private readonly filterKey: string;
  private lastId: string | undefined;
  private blocked = false;
  private gone = false;

  constructor(private readonly res: ServerResponse, private readonly filter: EventFilter, private readonly options: SseReaderOptions) {
    this.position = options.from;
    this.filterKey = `${filter.batch ?? ''}|${filter.job?.name ?? ''}`;
    this.lastId = options.lastId;
    res.once('close', () => this.forget());
    res.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
  }

  matches(event: LiveEvent): boolean {
    const { batch, job } = this.filter;
    if (batch !== undefined && event.batch !== batch) return false;
    if (job !== undefined) return event.type === 'Update' ? event.job === job.name : event.batch === job.batch;
    return true;
  }

  /**
   * Writes what the connection takes of the events from the reader's position on, in chunks shared with the
   * readers that follow the same filter from the same position; cuts the reader off when it lags too far.
   */
  pump(cache: ChunkCache = new Map()): void {
    if (this.gone) return;
    const { window } = this.options;
    if (this.blocked || this.position < window.oldest) {
      if (window.head - this.position > this.options.maxLag || this.position < window.oldest) this.cut();
      return;
    }
    while (this.position < window.head) {
      const key = `${this.filterKey}|${this.position}`;
      let chunk = cache.get(key);
      if (!chunk) {
        chunk = this.chunkFrom(this.position);
        cache.set(key, chunk);
      }
      this.position = chunk.next;
      if (chunk.bytes.length > 0 && !this.write(chunk.bytes, chunk.lastId)) return;
    }
  }

  private chunkFrom(start: number): Chunk {
    const { window } = this.options;
    let text = '';
    let lastId: string | undefined;
    let position = start;
    while (position < window.head && text.length < CHUNK_BYTES) {
      const event = window.at(position++)!;
      if (!this.matches(event)) continue;
      text += event.frame;
      lastId = event.id;
    }
    return { bytes: Buffer.from(text), next: position, lastId };
  }

  /** A line the client ignores, so that proxies see traffic on an idle stream. */
  heartbeat(): void {
    if (!this.gone && !this.blocked) this.write(': heartbeat\n\n');
  }

  /** Writes a frame at once, ahead of the events (the stream's first lines). */
  writeNow(frame: string, id?: string): void {
    if (!this.gone) this.write(frame, id);
  }

  /** Ends the stream (service shutdown): the connection closes once its last bytes are taken. */
  end(): void {
    if (!this.gone) this.close();
  }

  private write(text: string | Buffer, id?: string): boolean {
    if (id !== undefined) this.lastId = id;
    const more = this.res.write(text);
    if (!more) this.blocked = true;
    return more;
  }

  private cut(): void {
    const data = {
      message: 'this reader fell behind and was disconnected; reconnect with Last-Event-ID set to resumeFrom to receive every later event',
      resumeFrom: this.lastId ?? null,
    };
    this.res.write(`event: Resume\ndata: ${JSON.stringify(data)}\n\n`);
    this.close();
  }

  private close(): void {
    const socket = this.res.socket;
    this.forget();
    this.res.end();
    // A client that does not read would hold the connection (and the bytes for it) forever.
    if (socket && !socket.destroyed) {
      const timer = this.options.timers.setTimeout(() => socket.destroy(), this.options.closeGraceMs);
      socket.once('close', () => this.options.timers.clearTimeout(timer));
    }
  }

  private forget(): void {
    if (this.gone) return;
    this.gone = true;
    this.options.onGone(this);
  }
}
