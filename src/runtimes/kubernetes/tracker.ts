import { type KubeConfig, type KubernetesListObject, type KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import type { Logger } from '../../logger.js';
import type { TokenBucket } from './rate-limit.js';
import { defaultSleep } from './retry.js';

export interface TrackerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** The watch path, e.g. `/apis/batch/v1/namespaces/ns/jobs`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector: string;
  onChange: (object: T, deleted: boolean) => void;
  logger: Logger;
  /** The client-side rate limit: starting a watch is a request too. */
  rateLimit?: TokenBucket;
  /** Reconnect delays: from `baseDelayMs`, doubling up to `maxDelayMs`, reset once a list or event succeeds. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Keeps a cache of one kind of object current: list, then watch from the list's resourceVersion.
 * client-node's ListWatch lists again on 410 Gone by itself; on any other error (a dropped
 * connection, a 5xx) it stops, and this tracker starts it again after a capped backoff.
 */
export class Tracker<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private synced = false;
  private stopped = false;
  private delay: number;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly options: TrackerOptions<T>) {
    this.delay = options.baseDelayMs ?? 200;
    const list = async () => {
      const result = await options.list();
      this.delay = options.baseDelayMs ?? 200;
      if (!this.synced) {
        this.synced = true;
        queueMicrotask(() => this.waiters.splice(0).forEach((resolve) => resolve()));
      }
      return result;
    };
    this.informer = new ListWatch<T>(options.path, limitedWatch(options.kubeConfig, options.rateLimit), list, false, options.labelSelector);
    this.informer.on('add', (object) => options.onChange(object, false));
    this.informer.on('update', (object) => options.onChange(object, false));
    this.informer.on('delete', (object) => options.onChange(object, true));
    this.informer.on('error', (error) => this.restartLater(error));
  }

  /** Starts, and resolves once the first list has been read (retrying until it is). */
  async start(): Promise<void> {
    const synced = new Promise<void>((resolve) => this.waiters.push(resolve));
    await this.informer.start();
    await synced;
  }

  get(name: string, namespace: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(): readonly T[] {
    return this.informer.list();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
    this.waiters.splice(0).forEach((resolve) => resolve());
  }

  private restartLater(error: unknown): void {
    if (this.stopped) return;
    const wait = this.delay;
    this.delay = Math.min(this.options.maxDelayMs ?? 30_000, this.delay * 2);
    this.options.logger.warn('watch interrupted; reconnecting', { path: this.options.path, delayMs: wait, error: String((error as Error)?.message ?? error).slice(0, 200) });
    void (this.options.sleep ?? defaultSleep)(wait).then(async () => {
      if (this.stopped) return;
      await this.informer.start();
    });
  }
}

/** A Watch whose requests wait for the rate limit (client-node's Watch reaches the API server without the API clients). */
function limitedWatch(kubeConfig: KubeConfig, rateLimit: TokenBucket | undefined): Watch {
  if (!rateLimit) return new Watch(kubeConfig);
  return new (class extends Watch {
    override async watch(...args: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
      await rateLimit.take();
      return super.watch(...args);
    }
  })(kubeConfig);
}
