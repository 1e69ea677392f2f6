import assert from 'node:assert/strict';
import { type RateLimitClock, rateLimiter, TokenBucket } from '../../src/runtimes/kubernetes/rate-limit.js';

/** A clock that moves only when the test says so; sleeps end when it passes their end. */
class ManualClock implements RateLimitClock {
  private time = 0;
  private sleepers: Array<{ until: number; wake(): void }> = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ until: this.time + ms, wake }));
  }

  async advance(ms: number): Promise<void> {
    this.time += ms;
    const due = this.sleepers.filter((sleeper) => sleeper.until <= this.time);
    this.sleepers = this.sleepers.filter((sleeper) => sleeper.until > this.time);
    due.forEach((sleeper) => sleeper.wake());
    // Let the woken callers run before the test looks.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

/** Starts `n` takes at once, and tells which of them have got their token so far, in the order they got it. */
function takeMany(bucket: TokenBucket, n: number): { granted: number[]; all: Promise<void> } {
  const granted: number[] = [];
  const all = Promise.all(Array.from({ length: n }, (_, i) => bucket.take().then(() => void granted.push(i)))).then(() => undefined);
  return { granted, all };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('the Kubernetes client-side rate limit (token bucket)', () => {
  it('when more than burst requests ask at once, burst go at once and the rest wait for the clock', async () => {
    const clock = new ManualClock();
    const { granted } = takeMany(new TokenBucket({ qps: 2, burst: 3 }, clock), 7);
    await settle();
    assert.deepEqual(granted, [0, 1, 2]);
    await clock.advance(499);
    assert.deepEqual(granted, [0, 1, 2], 'the next token is due 500 ms after the burst at 2 per second');
    await clock.advance(1);
    assert.deepEqual(granted, [0, 1, 2, 3]);
    await clock.advance(1500);
    assert.deepEqual(granted, [0, 1, 2, 3, 4, 5, 6], 'one more per 500 ms, in the order they asked');
  });

  it('when the bucket has been idle, it refills up to burst and no further', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ qps: 10, burst: 4 }, clock);
    await takeMany(bucket, 4).all;
    await clock.advance(60_000);
    const { granted } = takeMany(bucket, 6);
    await settle();
    assert.equal(granted.length, 4, 'a minute idle buys burst requests, not 600');
    await clock.advance(100);
    assert.equal(granted.length, 5);
  });

  it('when a caller waits, a later caller cannot take the token it waits for', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1 }, clock);
    const first = takeMany(bucket, 2);
    await settle();
    assert.deepEqual(first.granted, [0]);
    await clock.advance(600);
    const late = takeMany(bucket, 1);
    await settle();
    assert.deepEqual(late.granted, [], 'the token that arrives at 1 s is the waiting caller\'s');
    await clock.advance(400);
    assert.deepEqual(first.granted, [0, 1]);
    assert.deepEqual(late.granted, []);
    await clock.advance(1000);
    assert.deepEqual(late.granted, [0]);
  });

  it('when qps is 0 the limit is off, and a bad setting is refused', () => {
    assert.equal(rateLimiter({ qps: 0, burst: 10 }), undefined);
    assert.equal(rateLimiter(undefined), undefined);
    assert.ok(rateLimiter({ qps: 5, burst: 10 }) instanceof TokenBucket);
    assert.throws(() => new TokenBucket({ qps: 5, burst: 0 }), /burst/);
  });
});
