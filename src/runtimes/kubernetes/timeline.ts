import { isTerminal } from '../../core/model.js';
import { acceptedEntry, type JobTimeline, TIMELINE_MAX_ENTRIES, type TimelineEntry } from '../../core/timeline.js';
import type { JobEntry } from './job-entry.js';

/**
 * A job's timeline on a cluster, derived from what the cluster keeps, since the service keeps no state of
 * its own there: the job's acceptance (its batch record), each attempt's pod (created, started, ended, with
 * its exit reason), the recorded stop, and the Job's final condition or the recorded outcome. It cannot be
 * complete: an attempt whose pod is gone is known only through the outcome (its last attempts), a stop
 * shows when it was asked and not when each signal went out, and a short state (a pod pending for less than
 * the watch could see) may be missing. `complete` is always false. The cluster keeps whole seconds: entries of
 * one second keep the order they happened in, and may show a time up to a second before the acceptance's.
 */
export function clusterTimeline(entry: JobEntry): JobTimeline {
  const record = entry.current;
  const transitions: TimelineEntry[] = [];
  const terminal = isTerminal(record.status);
  record.attempts.forEach((attempt, index) => {
    transitions.push({ time: attempt.created, status: 'Active', reason: index === 0 ? 'AttemptCreated' : 'Retrying', message: null, attempt: index });
    if (attempt.startTime) transitions.push({ time: attempt.startTime, status: 'Running', reason: 'Started', message: null, attempt: index });
    const last = index === record.attempts.length - 1;
    // The last attempt of a finished job ends with the job: its final entry says so.
    if (attempt.endTime && !(last && terminal)) {
      const status = record.status === 'Stopping' && last ? 'Stopping' : 'Active';
      transitions.push({ time: attempt.endTime, status, reason: attempt.reason ?? attempt.replicaStatus, message: null, attempt: index });
    }
  });
  const stoppedAt = entry.intent.stoppedAt ?? entry.job?.stoppedAt ?? null;
  if (stoppedAt && (record.status === 'Stopping' || record.status === 'Stopped')) {
    transitions.push({ time: stoppedAt, status: 'Stopping', reason: 'StopRequested', message: null, attempt: null });
  }
  if (terminal) transitions.push(finalEntry(entry));
  // By whole seconds, the cluster's precision, and stable: entries of one second keep the order they were made in
  // (each attempt created, started, ended; then the stop and the end), which is the order they happened in.
  transitions.sort((a, b) => {
    const [x, y] = [a.time.slice(0, 19), b.time.slice(0, 19)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const excess = Math.max(0, transitions.length - TIMELINE_MAX_ENTRIES);
  return { entries: [acceptedEntry(record), ...transitions.slice(excess)], dropped: excess, complete: false };
}

function finalEntry(entry: JobEntry): TimelineEntry {
  const record = entry.current;
  const last = record.attempts.at(-1);
  const lastIndex = last ? record.attempts.length - 1 : null;
  let reason: string;
  if (record.status === 'Succeeded') reason = last?.reason ?? 'Completed';
  else if (record.status === 'Stopped') reason = 'Stopped';
  else reason = entry.job?.failed?.reason ?? last?.reason ?? record.message?.split(':')[0] ?? 'Failed';
  return { time: record.ended ?? record.updated, status: record.status, reason, message: record.message, attempt: lastIndex };
}
