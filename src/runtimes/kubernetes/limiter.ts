/**
 * Runs at most `limit` tasks at once; the rest wait in order. Priority tasks (a stop's writes, recorded
 * intent) wait ahead of the others, so a stop is not queued behind thousands of Job creates.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly urgent: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>, options: { priority?: boolean } = {}): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => (options.priority ? this.urgent : this.waiting).push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      (this.urgent.shift() ?? this.waiting.shift())?.();
    }
  }
}
