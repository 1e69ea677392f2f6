import type { JobTimeline, TimelineEntry } from '../core/timeline.js';
import { eventId } from '../notifications/events.js';

/** A job's timeline as the API answers it. */
export interface TimelineView {
  jobName: string;
  batchName: string;
  /** False when derived from what a cluster keeps (Kubernetes), which may miss transitions. */
  complete: boolean;
  /** Transitions dropped between the acceptance and the oldest one shown (each job keeps its newest ones). */
  dropped: number;
  timeline: Array<TimelineEntry & { eventId?: string }>;
}

/**
 * Each recorded transition carries the id of its webhook and live event, so a client can match them; the
 * acceptance carries the batch's `Create` id. Derived entries (Kubernetes) carry none.
 */
export function timelineView(jobName: string, { batchName, timeline }: { batchName: string; timeline: JobTimeline }): TimelineView {
  const entries = timeline.entries.map(({ key, ...entry }, index) => {
    if (key !== undefined) return { ...entry, eventId: eventId(batchName, 'Update', jobName, key) };
    if (index === 0 && timeline.complete) return { ...entry, eventId: eventId(batchName, 'Create') };
    return entry;
  });
  return { jobName, batchName, complete: timeline.complete, dropped: timeline.dropped, timeline: entries };
}
