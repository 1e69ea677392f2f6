import { JobSchedulerError, parseRetryAfter } from './errors.js';

/** How the client retries calls that are safe to repeat. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 4; 1 switches retries off). */
  attempts?: number;
  /** The first wait in ms (default 250), doubled after each attempt up to `maxDelayMs` (default 5,000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The longest `Retry-After` waited for (ms, default 30,000); a longer one is answered to the caller at once. */
  maxRetryAfterMs?: number;
  /** How to wait; tests pass one that records the delay and does not sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type FetchLike = (request: Request) => Promise<Response>;

/** Waits `ms`, or rejects at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * GET, HEAD, DELETE and stop repeat harmlessly; any other call only when it carries an `Idempotency-Key`,
 * with which the service answers a repeat with the first answer instead of doing it twice.
 */
export function isRepeatable(request: Request): boolean {
  if (['GET', 'HEAD', 'DELETE'].includes(request.method)) return true;
  if (request.method === 'POST' && new URL(request.url).pathname.endsWith('/stop')) return true;
  return request.headers.has('idempotency-key');
}

/** A fetch that tries repeatable calls again on no answer, 429 and 503, with capped exponential backoff. */
export function retryingFetch(fetchImpl: typeof fetch, options: RetryOptions = {}): FetchLike {
  const attempts = Math.max(1, options.attempts ?? 4);
  const base = options.baseDelayMs ?? 250;
  const cap = options.maxDelayMs ?? 5_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 30_000;
  const wait = options.sleep ?? sleep;
  return async (request) => {
    const repeatable = isRepeatable(request);
    for (let attempt = 1; ; attempt++) {
      const last = !repeatable || attempt >= attempts;
      const backoff = Math.min(cap, base * 2 ** (attempt - 1));
      let response: Response;
      try {
        response = await fetchImpl(last ? request : request.clone());
      } catch (error) {
        if (request.signal.aborted) throw error;
        if (last) throw JobSchedulerError.fromNetwork(request.url, error);
        await wait(backoff, request.signal);
        continue;
      }
      if (last || (response.status !== 429 && response.status !== 503)) return response;
      const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
      const delay = retryAfter === undefined ? backoff : retryAfter * 1000;
      if (delay > maxRetryAfter) return response;
      await response.body?.cancel();
      await wait(delay, request.signal);
    }
  };
}
