import assert from 'node:assert/strict';
import type { ComponentConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { KubernetesRuntime } from '../../src/runtimes/kubernetes/kubernetes-runtime.js';
import type { RateLimitClock } from '../../src/runtimes/kubernetes/rate-limit.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { FakeApiServer } from './fake/server.js';
import { NAMESPACE, startFakeApiServer } from './harness.js';

/** The rate limit's clock, moved by the test; `waiting` counts callers asleep until it moves. */
class ManualClock implements RateLimitClock {
  private time = 0;
  private sleepers: Array<{ until: number; wake(): void }> = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ until: this.time + ms, wake }));
  }

  get waiting(): number {
    return this.sleepers.length;
  }

  advance(ms: number): void {
    this.time += ms;
    const due = this.sleepers.filter((sleeper) => sleeper.until <= this.time);
    this.sleepers = this.sleepers.filter((sleeper) => sleeper.until > this.time);
    due.forEach((sleeper) => sleeper.wake());
  }
}

/** Polls `condition` every few milliseconds, for at most 10 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 10_000) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const QPS = 2;
const BURST = 4;
const component: ComponentConfig = { name: 'compute', image: 'registry.example.com/compute:1.0', payload: { path: '/compute/args' } };

describe('the client-side rate limit on the Kubernetes runtime', () => {
  let fake: FakeApiServer;
  let runtime: KubernetesRuntime;
  let scheduler: Scheduler | undefined;

  beforeEach(async () => {
    fake = await startFakeApiServer();
  });

  afterEach(async () => {
    await scheduler?.close();
    await runtime.close();
    await fake.close();
  });

  it(`when QPS is ${QPS} and burst ${BURST}, the API server sees no more than burst requests before the clock moves, then ${QPS} a second, and every Job is still created`, async () => {
    const clock = new ManualClock();
    runtime = new KubernetesRuntime({
      kubeConfig: fake.kubeConfig(NAMESPACE),
      settings: { namespace: NAMESPACE, component: component.name, payloadPath: '/compute/args', nodeTypeKey: 'n', gpuKey: 'g', gpuCountKey: 'c' },
      logger: silentLogger(),
      rateLimit: { qps: QPS, burst: BURST, clock },
    });
    scheduler = new Scheduler({ runtime, component, maxRunning: 1_000_000, logger: silentLogger() });
    const seen = () => fake.requests.filter((entry) => entry.user === '').length;
    const allowed = () => BURST + Math.floor((clock.now() / 1000) * QPS);

    // Opening lists and watches three kinds: six requests, so two of them wait for the clock.
    let opened = false;
    const opening = scheduler.start().then(() => void (opened = true));
    await until(() => seen() === BURST && clock.waiting === 2, 'the burst is spent and the two other requests wait');
    assert.equal(seen(), BURST);
    assert.deepEqual(fake.requests.map((entry) => entry.verb).sort(), ['list', 'list', 'list', 'watch'], 'lists and watches both wait on the limit');

    const drive = async (done: () => boolean) => {
      while (!done()) {
        await until(() => done() || clock.waiting > 0, 'the runtime waits for the clock');
        assert.ok(seen() <= allowed(), `${seen()} requests by ${clock.now()} ms, at most ${allowed()} allowed`);
        if (!done()) clock.advance(1000 / QPS);
      }
    };
    await drive(() => opened);
    await opening;

    let accepted = false;
    const jobs = 6;
    const creating = scheduler.createBatch({ jobScheduleDescriptions: Array.from({ length: jobs }, (_, i) => ({ jobId: `job-${i}`, payload: `{"n":${i}}` })) }).then(() => void (accepted = true));
    await drive(() => accepted);
    await creating;
    await drive(() => fake.count('jobs', NAMESPACE) === jobs);

    assert.equal(fake.count('jobs', NAMESPACE), jobs);
    assert.ok(seen() <= allowed(), `${seen()} requests by ${clock.now()} ms, at most ${allowed()} allowed`);
    assert.equal(fake.requests.filter((entry) => entry.user === '' && entry.verb === 'create' && entry.resource === 'jobs').length, jobs, 'each Job created once');
  });
});
