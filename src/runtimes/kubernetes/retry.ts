import { ApiException } from '@kubernetes/client-node';
import { ApiError } from '../../core/errors.js';

export interface RetryPolicy {
  /** First delay after a 5xx or a connection error; doubles per try up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Tries in all before giving up; Infinity for background work that must happen eventually. */
  maxTries: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told of every answer: succeeded, to be retried, or failed for good. */
  observe?: (outcome: 'ok' | 'retried' | 'failed', code: number | undefined) => void;
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits `ms`, or less when `signal` aborts first (a stopped job's create loop, a closing runtime). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal, sleep?: (ms: number) => Promise<void>): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = sleep ? undefined : setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    if (sleep) void sleep(ms).then(done);
  });
}

/** The HTTP status of a failed call, or undefined when it never got an answer (a dropped connection). */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/**
 * A 403 from the ResourceQuota admission ("exceeded quota: …"). It clears once objects are deleted or
 * the quota is raised, so it is retried like a 429, not taken as a refusal.
 */
export function isQuotaExceeded(error: unknown): boolean {
  return error instanceof ApiException && error.code === 403 && /exceeded quota/i.test(String(error.body ?? ''));
}

export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const header = Object.entries(error.headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

export function retriable(error: unknown): boolean {
  const code = statusOf(error);
  if (code === undefined) return !(error instanceof ApiError);
  return code === 429 || code >= 500 || isQuotaExceeded(error);
}

/**
 * Calls `call` until it succeeds, retrying 429 (after its Retry-After), 5xx, an exceeded quota or lost
 * connections (with capped exponential backoff). Other errors are thrown at once.
 */
export async function withRetry<T>(policy: RetryPolicy, call: () => Promise<T>, stopped: () => boolean = () => false): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  let delay = policy.baseDelayMs;
  for (let tries = 1; ; tries++) {
    try {
      const result = await call();
      policy.observe?.('ok', undefined);
      return result;
    } catch (error) {
      if (!retriable(error) || tries >= policy.maxTries || stopped()) {
        policy.observe?.('failed', statusOf(error));
        throw error;
      }
      policy.observe?.('retried', statusOf(error));
      const wait = Math.min(policy.maxDelayMs, retryAfterMs(error) ?? delay);
      delay = Math.min(policy.maxDelayMs, delay * 2);
      await sleep(wait);
    }
  }
}

/** A Kubernetes error as the API answers it: the cluster's own text (with its headers) stays in the log. */
export function toApiError(error: unknown, doing: string): ApiError {
  if (error instanceof ApiError) return error;
  const code = statusOf(error);
  if (isQuotaExceeded(error)) return ApiError.unavailable(`the namespace's resource quota is used up, so the cluster could not ${doing} now; try again later`);
  if (code === 413 || code === 422) return ApiError.invalid(`the cluster refused to ${doing}: the objects would be too large or invalid`);
  return ApiError.unavailable(`the cluster could not ${doing} now; try again`);
}
