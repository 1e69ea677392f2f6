import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { JobSchedulerError } from './errors.js';

/** One live event: `Create`, `Update` and `Delete` carry a batch's state; `Reset` and `Resume` say how to go on. */
export interface LiveEvent<T = unknown> {
  /** The event's id (the same as the webhook's for the same transition). */
  id: string | undefined;
  /** `Create`, `Update`, `Delete`, `Reset` (read the state again) or `Resume` (the client reconnects by itself). */
  event: string;
  /** The `data` line parsed as JSON (the raw text when it is not JSON). */
  data: T;
}

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
              const from = (event.data as { resumeFrom?: string | null }).resumeFrom;
              if (from) lastEventId = from;
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
      if (!resume) await wait(retryMs, options.signal).catch(() => undefined);
    } finally {
      options.signal?.removeEventListener('abort', stop);
      connection.abort();
    }
  }
}

function toEvent(message: EventSourceMessage): LiveEvent {
  let data: unknown = message.data;
  try {
    data = JSON.parse(message.data);
  } catch {
    // Not JSON: handed over as text.
  }
  return { id: message.id || undefined, event: message.event ?? 'message', data };
}
