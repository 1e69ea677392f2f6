import type { BatchStatusView, JobStatusView } from '../core/view.js';
import type { OpenedBatch, SchedulerListener } from './scheduler.js';

type Held = { job: JobStatusView; batch: BatchStatusView } | { deleted: string[]; batch: BatchStatusView };

/**
 * The scheduler's listener (webhook, live events) in front of which what is told of a batch whose `Create` is not
 * told yet is held until it is. A large batch is indexed and its view built over several turns of the event loop;
 * a stop or a delete that reaches it meanwhile (a client that listed it, a stop of every batch) would otherwise be
 * told before the batch exists for the listener.
 */
export class AnnouncedListener implements SchedulerListener {
  private readonly held = new Map<string, Held[]>();

  constructor(private readonly listener: SchedulerListener) {}

  /** The batch enters the index now; its `Create` is told later. */
  begin(batchName: string): void {
    this.held.set(batchName, []);
  }

  /** Tells what was held for the batch, in order; idempotent (after its `Create`, or when none will come). */
  release(batchName: string): void {
    const held = this.held.get(batchName);
    if (!held) return;
    this.held.delete(batchName);
    for (const told of held) {
      if ('job' in told) this.listener.jobChanged(told.batch, told.job);
      else this.listener.batchDeleted(told.batch, told.deleted);
    }
  }

  opened(batches: OpenedBatch[]): void {
    this.listener.opened(batches);
  }

  batchCreated(batch: BatchStatusView): void {
    this.listener.batchCreated(batch);
    this.release(batch.name);
  }

  jobChanged(batch: BatchStatusView, job: JobStatusView): void {
    const held = this.held.size === 0 ? undefined : this.held.get(batch.name);
    if (held) held.push({ batch, job });
    else this.listener.jobChanged(batch, job);
  }

  batchDeleted(batch: BatchStatusView, jobNames: string[]): void {
    const held = this.held.size === 0 ? undefined : this.held.get(batch.name);
    if (held) held.push({ batch, deleted: jobNames });
    else this.listener.batchDeleted(batch, jobNames);
  }
}
