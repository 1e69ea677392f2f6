import { api } from './api.js';

/** One Server-Sent Event of `GET /api/v1/events`. */
export interface LiveEvent {
  id: string;
  type: string;
  data: string;
}

/** Options of {@link followEvents}. */
export interface FollowOptions {
  onEvent: (event: LiveEvent) => void;
  /** Told whether the stream is connected, for the page's status line. */
  onConnection: (connected: boolean) => void;
  signal: AbortSignal;
}

const MAX_DELAY_MS = 30_000;

/**
 * Follows the live events with `fetch` (an EventSource cannot send a bearer token), reconnecting with
 * `lastEventId` after a drop, with a capped backoff that resets once a connection delivers.
 */
export async function followEvents(options: FollowOptions): Promise<void> {
  let lastEventId: string | undefined;
  let delay = 1000;
  while (!options.signal.aborted) {
    try {
      const path = lastEventId ? `/api/v1/events?lastEventId=${encodeURIComponent(lastEventId)}` : '/api/v1/events';
      const response = await api(path, { signal: options.signal, headers: { Accept: 'text/event-stream' } });
      if (response.ok && response.body) {
        options.onConnection(true);
        delay = 1000;
        for await (const event of readEvents(response.body, options.signal)) {
          if (event.id) lastEventId = event.id;
          // A `Reset` or `Resume` means: read the state again and follow from here.
          if (event.type === 'Reset') lastEventId = undefined;
          options.onEvent(event);
        }
      } else {
        await response.body?.cancel();
      }
    } catch {
      // Dropped or refused: try again after the delay.
    }
    if (options.signal.aborted) return;
    options.onConnection(false);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(MAX_DELAY_MS, delay * 2);
  }
}

/** Parses a `text/event-stream` body into events (comments and `retry:` lines are skipped). */
export async function* readEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<LiveEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  signal.addEventListener('abort', () => void reader.cancel().catch(() => undefined), { once: true });
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: LiveEvent = { id: '', type: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') event.id = text;
        else if (field === 'event') event.type = text;
        else if (field === 'data') data.push(text);
      }
      event.data = data.join('\n');
      if (data.length > 0) yield event;
    }
  }
}
