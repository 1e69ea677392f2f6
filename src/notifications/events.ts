import { createHash, createHmac } from 'node:crypto';
import type { BatchStatusView, JobStatusView } from '../core/view.js';

export type BatchEventType = 'Create' | 'Update' | 'Delete';

/** The Radix batch event: a batch status, the event type, and the statuses of only the jobs that changed. */
export interface BatchEvent extends BatchStatusView {
  event: BatchEventType;
}

/** One event waiting for delivery. */
export interface OutboxEvent {
  id: string;
  body: string;
}

/**
 * What makes a job's state a new one to tell about: its status and how many attempts it had.
 * The same transition always gets the same key, and so the same event id, even when it is
 * found again after a restart, so that a receiver de-duplicating by id sees it once.
 */
export function transitionKey(job: JobStatusView): string {
  return `${job.status}#${job.podStatuses.length}`;
}

export function eventId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

export function batchEvent(event: BatchEventType, batch: BatchStatusView, jobs: JobStatusView[]): BatchEvent {
  const { jobStatuses: _all, ...status } = batch;
  return { ...status, event, jobStatuses: jobs };
}

/** `sha256=<hex>` over `<timestamp>.<body>`, so a receiver can check both the sender and the freshness. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
