import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { JobSchedulerError } from './errors.js';
import type { BatchStatus } from './types.js';

/**
 * A batch's event: `Create` (accepted; its state without `jobStatuses`), `Update` (a job changed; `jobStatuses`
 * holds only that job) or `Delete`. The id is the webhook's for the same transition.
 */
export interface BatchEvent {
  id: string | undefined;
  event: 'Create' | 'Update' | 'Delete';
  data: BatchStatus;
}

/**
 * `Reset`: the events after the `Last-Event-ID` are no longer kept: read the state again. `Resume`: the
 * connection fell behind and was closed; the client reconnects from `resumeFrom` by itself.
 */
export interface StreamEvent {
  id: string | undefined;
  event: 'Reset' | 'Resume';
  data: { message: string; resumeFrom: string | null };
}

/** One live event (narrow it on `event`). */
export type LiveEvent = BatchEvent | StreamEvent;

/** Which events to follow and how. */
export interface FollowEventsOptions {
  /** Only this batch's events. */
  batch?: string;
  /** Only this job's events (and its batch's `Create` and `Delete`). */
  job?: string;
  /** Start after this event (sent as `Last-Event-ID`). */
  lastEventId?: string;
  /** Ends the iteration (the stream is closed). */
  signal?: AbortSignal;
  /** Called each time the stream is open, before its first event: read the state here so no event is missed. */
  onOpen?: () => void | Promise<void>;
  /** How many times in a row to reconnect after a failed connection (default: without end). */
  maxReconnects?: number;
}

/** Opens one connection of the stream, resuming after `lastEventId`. */
export type OpenStream = (lastEventId: string | undefined, signal: AbortSignal) => Promise<Response>;

const MAX_RECONNECT_DELAY_MS = 30_000;

/**
 * The events as an async iterator that reconnects with `Last-Event-ID` when the stream ends or drops (after
 * the `retry` the service asked for), so every event is received once. Breaking out of the loop closes it.
 */
export async function* followEvents(open: OpenStream, options: FollowEventsOptions, wait: (ms: number, signal?: AbortSignal) => Promise<void>): AsyncGenerator<LiveEvent> {
  let lastEventId = options.lastEventId;
  let retryMs = 2_000;
  let failures = 0;
  while (!options.signal?.aborted) {
    const connection = new AbortController();
    const stop = () => connection.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      let response: Response;
      try {
        response = await open(lastEventId, connection.signal);
      } catch (error) {
        if (options.signal?.aborted) return;
        if (!(error instanceof JobSchedulerError) || !error.retryable || failures >= (options.maxReconnects ?? Infinity)) throw error;
        failures++;
        await wait(Math.min(MAX_RECONNECT_DELAY_MS, retryMs * 2 ** (failures - 1)), options.signal).catch(() => undefined);
        continue;
      }
      failures = 0;
      await options.onOpen?.();
      const queue: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (message) => queue.push(message), onRetry: (ms) => (retryMs = ms) });
      const decoder = new TextDecoder();
      const reader = response.body!.getReader();
      let resume = false;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
          for (const message of queue.splice(0)) {
            const event = toEvent(message);
            if (event.id) lastEventId = event.id;
            if (event.event === 'Resume') {
              if (event.data.resumeFrom) lastEventId = event.data.resumeFrom;
              resume = true;
            }
            yield event;
          }
          if (resume) break;
        }
      } catch (error) {
        // A dropped stream is reconnected below; only the caller's abort ends it.
        if (options.signal?.aborted) return;
        void error;
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      if (!resume && !options.signal?.aborted) await wait(retryMs, options.signal).catch(() => undefined);
    } finally {
      options.signal?.removeEventListener('abort', stop);
      connection.abort();
    }
  }
}

/** The service sends one line of JSON per event; the event type says its shape. */
function toEvent(message: EventSourceMessage): LiveEvent {
  return { id: message.id || undefined, event: message.event, data: JSON.parse(message.data) } as LiveEvent;
}
