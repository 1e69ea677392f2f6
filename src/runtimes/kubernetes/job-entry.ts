import type { V1OwnerReference } from '@kubernetes/client-node';
import { type ObservedAttempt, type ObservedJob, type RecordedIntent, type RecordedRestart, runJobName } from '../../core/cluster-job.js';
import type { BatchRecord, JobRecord } from '../../core/model.js';
import type { ShardRef } from './intent-writer.js';
import { fingerprint, intentKey, type IntentKind, shardOf } from './intent-codec.js';
import type { JobTemplates } from './job-template.js';
import type { PayloadRef } from './manifests.js';

export interface BatchEntry {
  batch: BatchRecord;
  owner: V1OwnerReference;
  removed: boolean;
  /** Its Jobs' manifests, made once they are first created. */
  templates?: JobTemplates;
}

/** What the runtime holds for one job: what was recorded, what was seen, and what it is doing now. */
export interface JobEntry {
  base: JobRecord;
  batch: BatchEntry;
  payload: PayloadRef;
  /** What was recorded on the cluster (or is being recorded) for the job. */
  intent: RecordedIntent;
  /** The Job as last seen (from the watch, or from a write's answer while the watch has not told yet). */
  job?: ObservedJob;
  /** Attempts by pod name: pods that are gone stay in the job's history. */
  attempts: Map<string, ObservedAttempt>;
  /** A stop was asked: no create is sent from now on, even before the stop is recorded. */
  stopRequested: boolean;
  stopping?: Promise<void>;
  /** Aborted on stop and on close, to end a create loop's wait at once. */
  abort: AbortController;
  /** The scheduler asked for the job's run (a stop that could not be recorded hands it back). */
  launchAsked: boolean;
  creating?: Promise<void>;
  /** The create request on the wire, if any: a stop waits for its answer before deciding. */
  createRequest?: Promise<void>;
  /** A create may have landed (sent and not refused), in this instance or a previous one. */
  mayExist: boolean;
  /** No Job can exist: a stop found none once no create could still land. */
  knownAbsent: boolean;
  waitingForQuota: boolean;
  createRefused?: { code: number | undefined; at: string };
  /** The fingerprint of the outcome last queued for writing, to write it again only when it changes. */
  outcomeWritten?: string;
  current: JobRecord;
  /** The last state reported, to report only changes. */
  reported: string;
}

export function newEntry(base: JobRecord, batch: BatchEntry, payload: PayloadRef, intent: RecordedIntent): JobEntry {
  return {
    base,
    batch,
    payload,
    intent,
    attempts: new Map(),
    stopRequested: false,
    abort: new AbortController(),
    launchAsked: false,
    mayExist: intent.launched,
    knownAbsent: false,
    waitingForQuota: false,
    outcomeWritten: intent.outcome ? fingerprint(JSON.stringify(intent.outcome)) : undefined,
    current: base,
    reported: JSON.stringify(base),
  };
}

/** The job's current run (0 until it is restarted). */
export function runOf(entry: JobEntry): number {
  return entry.intent.restart?.run ?? 0;
}

/** The name of the Job of the job's current run. */
export function jobObjectName(entry: JobEntry): string {
  return runJobName(entry.base.name, runOf(entry));
}

/** The job starts its run `restart.run` (recorded already): nothing of the previous run's Job is its any more. */
export function startRun(entry: JobEntry, restart: RecordedRestart): void {
  entry.intent = { launched: false, stoppedAt: null, outcome: null, restart };
  entry.job = undefined;
  entry.attempts = new Map();
  entry.stopRequested = false;
  entry.stopping = undefined;
  entry.abort = new AbortController();
  entry.launchAsked = false;
  entry.mayExist = false;
  entry.knownAbsent = false;
  entry.waitingForQuota = false;
  entry.createRefused = undefined;
  entry.outcomeWritten = undefined;
}

/** The state object holding this job's intent. */
export function shardRefOf(entry: JobEntry): ShardRef {
  return { batchName: entry.batch.batch.name, shard: shardOf(entry.base.index) };
}

export function keyOf(entry: JobEntry, kind: IntentKind): string {
  return intentKey(kind, entry.base.index);
}

// One reason for every abort: without one, each `abort()` builds a DOMException with its stack, and closing a
// runtime that holds 10,000 jobs took more than half a second doing only that.
const WAIT_ENDED = new Error('the job no longer waits to be created');

/** Ends the job's create loop's wait (a stop, a deleted batch, a closing runtime). */
export function endWait(entry: JobEntry): void {
  if (!entry.abort.signal.aborted) entry.abort.abort(WAIT_ENDED);
}
