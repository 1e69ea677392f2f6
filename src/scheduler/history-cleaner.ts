import { expiredBatches, type FinishedBatch, type HistoryPolicy } from '../core/history.js';
import { isTerminal } from '../core/model.js';
import type { Logger } from '../logger.js';
import type { StateIndex } from './state-index.js';

export interface HistoryCleanerOptions {
  policy: HistoryPolicy & { checkMs: number };
  index: StateIndex;
  /** Removes a batch with everything it has (records, files, cluster objects). */
  remove(batchName: string): Promise<void>;
  logger: Logger;
  now: () => Date;
}

/** Deletes finished batches (and single jobs) past the history policy, on a timer. */
export class HistoryCleaner {
  private timer: NodeJS.Timeout | undefined;
  private cleaning = false;
  private closed = false;

  constructor(private readonly options: HistoryCleanerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.clean(), this.options.policy.checkMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /** Answers how many batches were deleted. */
  async clean(policy: HistoryPolicy = this.options.policy): Promise<number> {
    if (this.cleaning || this.closed) return 0;
    this.cleaning = true;
    const { index, logger } = this.options;
    try {
      const finished: FinishedBatch[] = [];
      for (const entry of index.allBatches()) {
        const summary = index.summary(entry);
        if (summary.ended && entry.jobs.every((job) => isTerminal(job.status))) {
          finished.push({ name: entry.batch.name, type: entry.batch.type, status: summary.status, ended: summary.ended });
        }
      }
      const expired = expiredBatches(finished, policy, this.options.now());
      for (const name of expired) if (!this.closed && index.batch(name)) await this.options.remove(name);
      if (expired.length > 0) logger.info('history cleaned', { batches: expired.length });
      return expired.length;
    } catch (error) {
      logger.error('history cleanup failed', { error: String(error) });
      return 0;
    } finally {
      this.cleaning = false;
    }
  }
}
