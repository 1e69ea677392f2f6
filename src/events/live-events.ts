import type { ServerResponse } from 'node:http';
import { ApiError } from '../core/errors.js';
import type { BatchStatusView, JobStatusView } from '../core/view.js';
import { deleteEvent, eventId, isInitial, type OutboxEvent, transitionKey, updateEvent } from '../notifications/events.js';
import type { OpenedBatch, SchedulerListener } from '../scheduler/scheduler.js';
import { isInitialRecord, recordTransitionKey } from '../core/stored-job.js';
import { Interner } from '../core/interner.js';
import { realTimers, type Timers } from '../store/write-health.js';
import { EventWindow, type LiveEvent } from './event-window.js';
import { type ChunkCache, type EventFilter, SseReader } from './sse-reader.js';

export interface LiveEventsOptions {
  /**
   * How many of the newest events are kept: a reader resumes after any of them (`Last-Event-ID`), and a reader
   * whose connection takes no more is cut off once it falls three quarters of this behind.
   */
  windowEvents: number;
  /** Between heartbeats on every stream. */
  heartbeatMs: number;
  /** Most readers at once. */
  maxReaders: number;
  timers?: Timers;
}

/** Advice to EventSource clients: reconnect after this long. */
const RETRY_MS = 2000;
const CLOSE_GRACE_MS = 30_000;
/** Distinct transition keys shared; past this many, sharing starts over (only memory is at stake). */
const MAX_KEYS = 1000;
/** How long new events wait to be written to readers, at most. */
const PUMP_MS = 20;

/**
 * The live event stream behind `GET /events`. It listens to the scheduler like the webhook notifier and
 * makes the same events, with the same ids (a transition's id is a hash of its batch, job and transition
 * key), whether or not a webhook is configured. The newest events are kept in a bounded window, shared by
 * every reader and by readers resuming with `Last-Event-ID`. Each event is serialised once; readers are
 * written every few milliseconds, as fast as their connections take it, and a reader that falls
 * behind is cut off (see `SseReader`), so readers never slow the service.
 */
export class LiveEvents implements SchedulerListener {
  private readonly window: EventWindow;
  private readonly readers = new Set<SseReader>();
  /** The transition last told per job that has left its initial state. */
  private readonly told = new Map<string, string>();
  /** Transition keys are few and every job has one: each job holds the same string, not its own copy. */
  private readonly keys = new Interner<string>(MAX_KEYS, (key) => key);
  private readonly timers: Timers;
  private pumpScheduled = false;
  private heartbeat: unknown;
  private closed = false;

  constructor(private readonly options: LiveEventsOptions) {
    this.window = new EventWindow(options.windowEvents);
    this.timers = options.timers ?? realTimers;
  }

  get readerCount(): number {
    return this.readers.size;
  }

  opened(batches: OpenedBatch[]): void {
    for (const { jobs } of batches) {
      for (const job of jobs) if (!isInitialRecord(job)) this.told.set(job.name, this.keys.shared(recordTransitionKey(job)));
    }
  }

  batchCreated(batch: BatchStatusView): void {
    const { jobStatuses: jobs, ...status } = batch;
    // The batch's state without its jobs: a batch of 10,000 jobs would otherwise be megabytes for every reader.
    this.publish({ id: eventId(batch.name, 'Create'), type: 'Create', batch: batch.name, body: JSON.stringify({ ...status, event: 'Create' }) });
    for (const job of jobs ?? []) this.jobChanged(batch, job);
  }

  jobChanged(batch: BatchStatusView, job: JobStatusView): void {
    const key = transitionKey(job);
    const told = this.told.get(job.name);
    if (told === key || (told === undefined && isInitial(job))) return;
    this.told.set(job.name, this.keys.shared(key));
    this.publish(updateEvent(batch, job));
  }

  batchDeleted(batch: BatchStatusView, jobNames: string[]): void {
    for (const name of jobNames) this.told.delete(name);
    this.publish(deleteEvent(batch));
  }

  /**
   * Starts a stream on `res`: the events after `lastEventId` when it is in the window, or a `Reset` event
   * telling the client to read the state again and resume from now; then every new event that matches.
   */
  follow(res: ServerResponse, filter: EventFilter, lastEventId: string | undefined): void {
    if (this.closed) throw ApiError.unavailable('the service is shutting down; reconnect once it is back');
    if (this.readers.size >= this.options.maxReaders) {
      throw ApiError.tooManyRequests(`${this.options.maxReaders} readers follow the events already (JOB_SCHEDULER_EVENTS_MAX_READERS); try again later`, 5);
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      // The stream ends only when it is cut off or the service stops: the connection goes with it.
      connection: 'close',
    });
    const known = lastEventId === undefined ? undefined : this.window.positionOf(lastEventId);
    const reader = new SseReader(res, filter, {
      window: this.window,
      from: known === undefined ? this.window.head : known + 1,
      lastId: known === undefined ? undefined : lastEventId,
      maxLag: Math.floor((this.window.capacity * 3) / 4),
      closeGraceMs: CLOSE_GRACE_MS,
      timers: this.timers,
      onGone: (gone) => this.readers.delete(gone),
    });
    this.readers.add(reader);
    reader.writeNow(`retry: ${RETRY_MS}\n\n`);
    if (lastEventId !== undefined && known === undefined) {
      const newest = this.window.newest;
      const data = {
        message: 'the events after this Last-Event-ID are no longer kept; read the state again (GET /api/v1/batches/{batchName}) and follow from here',
        resumeFrom: newest ?? null,
      };
      reader.writeNow(`id: ${newest ?? ''}\nevent: Reset\ndata: ${JSON.stringify(data)}\n\n`, newest);
    }
    reader.pump();
    this.armHeartbeat();
  }

  /** Ends every stream at once (service shutdown); can be called twice. */
  close(): void {
    this.closed = true;
    this.timers.clearTimeout(this.heartbeat);
    for (const reader of [...this.readers]) reader.end();
  }

  private publish(event: Pick<OutboxEvent, 'id' | 'type' | 'batch' | 'job' | 'body'>): void {
    const live: LiveEvent = { id: event.id, type: event.type, batch: event.batch, frame: `id: ${event.id}\nevent: ${event.type}\ndata: ${event.body}\n\n` };
    if (event.job !== undefined) live.job = event.job;
    this.window.push(live);
    if (this.pumpScheduled || this.readers.size === 0) return;
    // Events are gathered for a short while and written together: fewer, larger writes, each encoded once.
    this.pumpScheduled = true;
    this.timers.setTimeout(() => {
      this.pumpScheduled = false;
      const cache: ChunkCache = new Map();
      for (const reader of [...this.readers]) reader.pump(cache);
    }, PUMP_MS);
  }

  private armHeartbeat(): void {
    if (this.heartbeat !== undefined || this.closed) return;
    this.heartbeat = this.timers.setTimeout(() => {
      this.heartbeat = undefined;
      for (const reader of this.readers) reader.heartbeat();
      if (this.readers.size > 0) this.armHeartbeat();
    }, this.options.heartbeatMs);
  }
}
