import type { ServerResponse } from 'node:http';
import type { Timers } from '../store/write-health.js';
import type { LiveEvent } from './event-window.js';

/** What a reader follows: a batch, a job (with the batch it belongs to), or everything. */
export interface EventFilter {
  batch?: string;
  job?: { name: string; batch: string };
}

export interface SseReaderOptions {
  /** Most bytes waiting for this reader (ours and the socket's) before it is cut off. */
  maxBufferBytes: number;
  /** How long a cut-off or closed reader's connection may take to take its last bytes before it is destroyed. */
  closeGraceMs: number;
  timers: Timers;
  /** Called once when the reader is gone, for whatever reason. */
  onGone: (reader: SseReader) => void;
}

/**
 * One client of `GET /events`. Events are queued in memory and written once per turn of the event loop, in
 * one write; when what waits for the client (in our queue and in the socket) would pass the bound, the
 * client is sent a `Resume` event naming the last event it was sent, and disconnected. So a reader that does
 * not read costs a bounded amount of memory and never slows anyone else.
 */
export class SseReader {
  private queue: string[] = [];
  private queuedBytes = 0;
  private queuedLastId: string | undefined;
  /** The last event handed to the connection: where a cut-off reader resumes. */
  private lastId: string | undefined;
  private gone = false;

  constructor(private readonly res: ServerResponse, private readonly filter: EventFilter, private readonly options: SseReaderOptions, lastId?: string) {
    this.lastId = lastId;
    res.once('close', () => this.forget());
  }

  get isGone(): boolean {
    return this.gone;
  }

  matches(event: LiveEvent): boolean {
    const { batch, job } = this.filter;
    if (batch !== undefined && event.batch !== batch) return false;
    if (job !== undefined) return event.type === 'Update' ? event.job === job.name : event.batch === job.batch;
    return true;
  }

  /** Queues an event (when it matches); answers whether the reader needs a flush. */
  offer(event: LiveEvent): boolean {
    if (this.gone || !this.matches(event)) return false;
    return this.enqueue(event.frame, event.id);
  }

  /** A line the client ignores, so that proxies see traffic on an idle stream. */
  heartbeat(): boolean {
    return !this.gone && this.enqueue(': heartbeat\n\n');
  }

  /** Writes what is queued, in one write. */
  flush(): void {
    if (this.gone || this.queue.length === 0) return;
    const text = this.queue.length === 1 ? this.queue[0]! : this.queue.join('');
    this.queue = [];
    this.queuedBytes = 0;
    if (this.queuedLastId !== undefined) this.lastId = this.queuedLastId;
    this.queuedLastId = undefined;
    this.res.write(text);
  }

  /** Writes a frame now, ahead of nothing queued (the reader's first lines). */
  writeNow(frame: string, id?: string): void {
    if (this.gone) return;
    this.flush();
    this.res.write(frame);
    if (id !== undefined) this.lastId = id;
  }

  /** Ends the stream (service shutdown): what is queued is written, then the connection closes. */
  end(): void {
    if (this.gone) return;
    this.flush();
    this.close();
  }

  private enqueue(frame: string, id?: string): boolean {
    const bytes = Buffer.byteLength(frame);
    if (this.res.writableLength + this.queuedBytes + bytes > this.options.maxBufferBytes) {
      this.cut();
      return false;
    }
    this.queue.push(frame);
    this.queuedBytes += bytes;
    if (id !== undefined) this.queuedLastId = id;
    return this.queue.length === 1;
  }

  /** The reader fell behind: what is queued is dropped, and it is told where to resume. */
  private cut(): void {
    this.queue = [];
    this.queuedBytes = 0;
    this.queuedLastId = undefined;
    const resumeFrom = this.lastId ?? null;
    const data = {
      message: 'this reader fell behind and was disconnected; reconnect with Last-Event-ID set to resumeFrom to receive every later event',
      resumeFrom,
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
    this.queue = [];
    this.options.onGone(this);
  }
}
