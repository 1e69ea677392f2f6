import type { BatchStatusView, JobStatusView } from '../core/view.js';
import type { OpenedBatch, SchedulerListener } from '../scheduler/scheduler.js';

/** One listener that tells each of `listeners` (those given) in turn, in order. */
export function allListeners(...listeners: Array<SchedulerListener | undefined>): SchedulerListener {
  const each = listeners.filter((listener): listener is SchedulerListener => listener !== undefined);
  return {
    opened: (batches: OpenedBatch[]) => each.forEach((listener) => listener.opened(batches)),
    batchCreated: (batch: BatchStatusView) => each.forEach((listener) => listener.batchCreated(batch)),
    jobChanged: (batch: BatchStatusView, job: JobStatusView) => each.forEach((listener) => listener.jobChanged(batch, job)),
    batchDeleted: (batch: BatchStatusView, jobNames: string[]) => each.forEach((listener) => listener.batchDeleted(batch, jobNames)),
  };
}
