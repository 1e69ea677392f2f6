import { createHmac, hash } from 'node:crypto';
import { transitionKeyOf } from '../core/timeline.js';
import type { BatchStatusView, JobStatusView } from '../core/view.js';

export type BatchEventType = 'Create' | 'Update' | 'Delete';

/** The Radix batch event: a batch status, the event type, and the statuses of only the jobs it is about. */
export interface BatchEvent extends BatchStatusView {
  event: BatchEventType;
}

/** What the notifier knows of an event without reading its body: enough to order, bound and list it. */
export interface EventHeader {
  id: string;
  type: BatchEventType;
  batch: string;
  /** The job an `Update` is about. */
  job?: string;
  /** How many job statuses the body holds. */
  jobs: number;
  /** Size of the body in bytes. */
  bytes: number;
}

/** One event waiting for delivery. */
export interface OutboxEvent extends EventHeader {
  body: string;
}

/** What a job's state must show for a transition: a per-job restart generation counts when a record has one. */
export type TransitionSource = Pick<JobStatusView, 'status' | 'podStatuses'> & { generation?: number };

/**
 * What makes a job's state a new one to tell about: its status, how many attempts it had, the last
 * attempt's replica status and (when the record has one) its restart generation. The same transition
 * always gets the same key, and so the same event id, on both runtimes and after a restart; two
 * different transitions never share one (`Active` before the first attempt ran and `Active` after it
 * failed differ by the attempt's replica status).
 */
export function transitionKey(job: TransitionSource): string {
  return transitionKeyOf(job.status, job.podStatuses.length, job.podStatuses.at(-1)?.replicaStatus.status, job.generation);
}

/** A job as it was accepted: nothing to tell beyond the batch's `Create`. */
export function isInitial(job: TransitionSource): boolean {
  return job.status === 'Waiting' && job.podStatuses.length === 0 && !job.generation;
}

export function eventId(...parts: string[]): string {
  return hash('sha256', parts.join('\u0000'), 'hex').slice(0, 32);
}

/**
 * The `Create` of a batch, in parts of at most `jobsPerEvent` jobs (in the batch's order), so that no
 * body grows with the batch. The first part's id is the batch's own; part `i` adds its index. Parts
 * are cut by count, not by size, so the same batch is always cut the same way.
 */
export function createEvents(batch: BatchStatusView, jobsPerEvent: number): OutboxEvent[] {
  const jobs = batch.jobStatuses ?? [];
  const events: OutboxEvent[] = [];
  for (let start = 0, part = 0; start < Math.max(jobs.length, 1); start += jobsPerEvent, part++) {
    const id = part === 0 ? eventId(batch.name, 'Create') : eventId(batch.name, 'Create', String(part));
    events.push(outboxEvent(id, 'Create', batch, jobs.slice(start, start + jobsPerEvent)));
  }
  return events;
}

export function updateEvent(batch: BatchStatusView, job: JobStatusView): OutboxEvent {
  return outboxEvent(eventId(batch.name, 'Update', job.name, transitionKey(job)), 'Update', batch, [job], job.name);
}

export function deleteEvent(batch: BatchStatusView): OutboxEvent {
  return outboxEvent(eventId(batch.name, 'Delete'), 'Delete', batch, []);
}

function outboxEvent(id: string, type: BatchEventType, batch: BatchStatusView, jobs: JobStatusView[], job?: string): OutboxEvent {
  const body = eventBody(type, batch, jobs);
  const event: OutboxEvent = { id, type, batch: batch.name, jobs: jobs.length, bytes: Buffer.byteLength(body), body };
  if (job !== undefined) event.job = job;
  return event;
}

/**
 * The JSON of `{ ...batch without its jobStatuses, event, jobStatuses: jobs }`. A batch told without its jobs (every
 * job change) is written as it is and the rest appended: the same text without copying the batch (issue 14).
 */
export function eventBody(type: BatchEventType, batch: BatchStatusView, jobs: JobStatusView[]): string {
  if (batch.jobStatuses === undefined) {
    const status = JSON.stringify(batch);
    if (status.length > 2) return `${status.slice(0, -1)},"event":"${type}","jobStatuses":${JSON.stringify(jobs)}}`;
  }
  const { jobStatuses: _all, ...status } = batch;
  return JSON.stringify({ ...status, event: type, jobStatuses: jobs } satisfies BatchEvent);
}

/** `sha256=<hex>` over `<timestamp>.<body>`, so a receiver can check both the sender and the freshness. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
