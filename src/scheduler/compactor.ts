import type { Labels } from '../core/labels.js';
import { isTerminal } from '../core/model.js';
import { type JobRecordSource, StoredJob, storedFields } from '../core/stored-job.js';
import { Interner } from '../core/interner.js';
import type { Slot } from './state-index.js';

/** How long a finished job whose latest state is not yet committed waits before it is looked at again. */
const RETRY_MS = 50;
/** Distinct label sets remembered for sharing; past this many, sharing starts over (only memory is at stake). */
const MAX_LABEL_SETS = 10_000;

/**
 * Replaces finished jobs in the index by their compact form (`StoredJob`), but only once the store holds
 * their latest state: a job whose change is still pending waits and is looked at again. Nothing else
 * changes (status, jobId and labels stay), so the listing's indexes are not told.
 */
export class Compactor {
  private readonly waiting = new Set<string>();
  private readonly labelSets = new Interner<Labels>(MAX_LABEL_SETS, (labels) => JSON.stringify(labels));
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(private readonly source: JobRecordSource, private readonly slotOf: (name: string) => Slot | undefined) {}

  /** Compacts the job soon, once its latest state is committed. */
  later(name: string): void {
    if (this.closed) return;
    this.waiting.add(name);
    // After the store's own flush, queued in the same turn before this.
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.sweep();
    });
  }

  /** Stops (the service is closing); can be called twice. */
  close(): void {
    this.closed = true;
    clearImmediate(this.immediate);
    clearTimeout(this.timer);
    this.waiting.clear();
  }

  /** Compacts every waiting job that can be; answers how many are still waiting. */
  sweep(): number {
    for (const name of this.waiting) {
      const slot = this.slotOf(name);
      const job = slot?.entry.jobs[slot.position];
      if (!slot || !job || job instanceof StoredJob || !isTerminal(job.status)) {
        this.waiting.delete(name);
        continue;
      }
      if (this.source.isPending(name)) continue;
      const fields = storedFields(job);
      if (fields.labels) fields.labels = this.labelSets.shared(fields.labels);
      const stored = StoredJob.of(this.source, fields);
      if (stored) slot.entry.jobs[slot.position] = stored;
      this.waiting.delete(name);
    }
    if (this.waiting.size > 0 && !this.closed && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.sweep();
      }, RETRY_MS);
      this.timer.unref();
    }
    return this.waiting.size;
  }
}
