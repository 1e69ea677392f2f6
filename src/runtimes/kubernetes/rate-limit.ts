/** How fast the runtime may send requests to the API server, as client-go's `QPS` and `Burst`. */
export interface RateLimitSettings {
  /** Requests per second, on average; 0 turns the limit off. */
  qps: number;
  /** Requests that may go at once after a quiet spell (at least 1). */
  burst: number;
}

export interface RateLimitClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: RateLimitClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket like client-go's `flowcontrol.NewTokenBucketRateLimiter(qps, burst)`: `burst` tokens, refilled
 * at `qps` per second; each request takes one, and waits for it when none is left. client-node has none, so a
 * 10,000-job batch would otherwise send as fast as the write limiter lets it, and a cluster's API priority and
 * fairness answers 429s. Callers are served in the order they asked: a waiting caller holds a reservation (the
 * bucket goes below zero), so a later one cannot take the token it waits for.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly settings: RateLimitSettings, private readonly clock: RateLimitClock = realClock) {
    if (!(settings.qps > 0) || !(settings.burst >= 1)) throw new Error('a token bucket needs qps > 0 and burst >= 1');
    this.tokens = settings.burst;
    this.last = clock.now();
  }

  /** Resolves once the caller may send one request (at once while tokens are left). */
  take(): Promise<void> {
    const now = this.clock.now();
    this.tokens = Math.min(this.settings.burst, this.tokens + ((now - this.last) * this.settings.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return Promise.resolve();
    return this.clock.sleep((-this.tokens * 1000) / this.settings.qps);
  }
}

/** A bucket for the settings, or none when the limit is off (qps 0). */
export function rateLimiter(settings: RateLimitSettings | undefined, clock?: RateLimitClock): TokenBucket | undefined {
  return settings && settings.qps > 0 ? new TokenBucket(settings, clock) : undefined;
}
