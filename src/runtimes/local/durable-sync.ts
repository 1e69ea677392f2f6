import type { Logger } from '../../logger.js';
import type { CommittedChanges } from './committed-changes.js';

export interface DurableSyncOptions {
  /** Writes every pending change in one transaction; false when the store cannot write now. */
  flush: () => boolean;
  /** The records saved and not yet told. */
  changes: CommittedChanges;
  logger: Logger;
}

/**
 * The local runtime's wait for its changes to be on disk, and the telling of what a commit holds. The changes of
 * one turn of the event loop share one transaction. When a transaction commits (whoever asked for it), the
 * handlers that waited for it go on first, so a next job's spawn leaves before the fan-out of what is told; the
 * committed records are then told in order, in the same turn, before anything else can read them.
 */
export class DurableSync {
  private waiters: Array<(done: boolean) => void> = [];
  private scheduled = false;

  constructor(private readonly options: DurableSyncOptions) {}

  /** Resolves true once every change saved so far is committed, false when it could not be written. */
  sync(): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.waiters.push(resolve);
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const done = this.options.flush();
        // A commit resolved its waiters already: these are the ones none took (nothing was pending, or the write failed).
        for (const waiter of this.waiters.splice(0)) waiter(done);
      });
    });
  }

  /** The store committed every change saved so far. */
  committed(): void {
    for (const waiter of this.waiters.splice(0)) waiter(true);
    const tell = this.options.changes.take();
    queueMicrotask(() => {
      try {
        tell();
      } catch (error) {
        // What is committed stays so; a listener's fault must not end the service.
        this.options.logger.error('a listener of committed jobs failed', { error: String(error) });
      }
    });
  }
}
