/**
 * Hands out launch marks ahead of the Job creates, in chunks. A job's "launched" mark is recorded before its
 * Job is created, so that a Job deleted by someone else is never created again; but a job marked whose create
 * never went out (the service died first) can only be settled, not run, after a restart. So at most `ahead`
 * jobs hold a mark whose create has not gone out yet, and marks are refilled only once half of them are used:
 * each refill is one coalesced write for at least `ahead / 2` jobs, and a crash settles at most `ahead` jobs.
 */
export class LaunchMarks<T> {
  private held = 0;
  private filling = false;
  private scheduled = false;
  private readonly waiting: Array<{ item: T; resolve(): void; reject(error: unknown): void }> = [];

  constructor(private readonly options: { ahead: number; mark(item: T): Promise<void> }) {}

  /** Resolves once the item's mark is recorded; the caller must `release` it once its create went out or was given up. */
  acquire(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      // On the next turn, so that every launch asked for in this one shares the chunk.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.fill();
        });
      }
    });
  }

  release(): void {
    this.held--;
    this.fill();
  }

  private fill(): void {
    if (this.filling || this.waiting.length === 0 || this.held > this.options.ahead / 2) return;
    const chunk = this.waiting.splice(0, this.options.ahead - this.held);
    this.held += chunk.length;
    this.filling = true;
    // The chunk's marks are queued in one turn, so the intent writer sends them together.
    const marked = chunk.map(({ item, resolve, reject }) => this.options.mark(item).then(resolve, (error: unknown) => {
      this.held--;
      reject(error);
    }));
    void Promise.allSettled(marked).then(() => {
      this.filling = false;
      this.fill();
    });
  }
}
