import { signature } from './events.js';

/** The receiver refused the event for good (a 4xx other than 408 and 429, or a redirect): sending it again cannot help. */
export class PermanentRefusal extends Error {
  constructor(readonly status: number) {
    super(`the receiver refused the event with ${status}`);
    this.name = 'PermanentRefusal';
  }
}

/** The event did not get through this time (408, 429, 5xx, a timeout, no connection): it is tried again. */
export class TransientFailure extends Error {
  constructor(readonly status: number | undefined, readonly retryAfterMs: number | undefined, cause?: string) {
    super(status === undefined ? `the receiver could not be reached (${cause ?? 'unknown'})` : `the receiver answered ${status}`);
    this.name = 'TransientFailure';
  }
}

/** Longest `Retry-After` honoured: a receiver cannot park a batch's events for days. */
const MAX_RETRY_AFTER_MS = 3_600_000;

export interface DeliveryTarget {
  url: string;
  /** Signs each body with HMAC-SHA256 when set. */
  secret?: string;
  timeoutMs: number;
}

/** Posts one event; resolves when the receiver took it (2xx), otherwise throws a PermanentRefusal or a TransientFailure. */
export async function post(target: DeliveryTarget, id: string, body: string, options: { signal: AbortSignal; now: number }): Promise<void> {
  const timestamp = String(Math.floor(options.now / 1000));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-job-scheduler-event-id': id,
    'x-job-scheduler-timestamp': timestamp,
  };
  if (target.secret) headers['x-job-scheduler-signature'] = signature(target.secret, timestamp, body);
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers,
      body,
      // A signed event is never carried to another address: a redirect is the receiver's answer, not a hop.
      redirect: 'manual',
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(target.timeoutMs)]),
    });
    await response.arrayBuffer().catch(() => undefined);
  } catch (error) {
    throw new TransientFailure(undefined, undefined, `${receiverHost(target.url)}: ${unreachableCause(error, target.timeoutMs)}`);
  }
  if (response.ok) return;
  throw refusal(response.status, response.headers.get('retry-after'), options.now);
}

/** The receiver's host and port: never its path or query, which may carry a secret. */
export function receiverHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unparsable URL)';
  }
}

/** Why fetch failed, as an operator can act on it: the system's code (ECONNREFUSED, ENOTFOUND...) or the timeout. */
function unreachableCause(error: unknown, timeoutMs: number): string {
  const failure = error as { name?: string; cause?: { code?: string; message?: string } };
  if (failure.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s (JOB_SCHEDULER_WEBHOOK_TIMEOUT_SECONDS)`;
  return failure.cause?.code ?? failure.cause?.message ?? failure.name ?? 'unknown';
}

/**
 * What a non-2xx answer means for the event. A redirect is permanent too: redirects are not followed, so
 * `notifications.webhook` must name the receiver itself.
 */
export function refusal(status: number, retryAfter: string | null, now: number): PermanentRefusal | TransientFailure {
  if (status >= 300 && status < 400) return new PermanentRefusal(status);
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return new PermanentRefusal(status);
  return new TransientFailure(status, status === 429 || status === 503 ? retryAfterMs(retryAfter, now) : undefined);
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** Exponential backoff from `baseMs`, doubling per failure up to `maxMs`; a receiver's `Retry-After` lengthens it. */
export function retryDelayMs(failures: number, policy: { baseMs: number; maxMs: number }, retryAfter?: number): number {
  const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 40)));
  return Math.max(backoff, retryAfter ?? 0);
}
