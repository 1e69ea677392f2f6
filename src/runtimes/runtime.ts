import type { Readable } from 'node:stream';
import type { BatchRecord, JobRecord, NewBatch, Snapshot } from '../core/model.js';
import type { ScheduleState } from '../core/schedules.js';
import type { JobRecordSource } from '../core/stored-job.js';
import type { JobTimeline } from '../core/timeline.js';

export type { Snapshot };

/** Which output of a job `readLog` is asked for. */
export interface LogRequest {
  /** The attempt's index in the job's `attempts` (its `podStatuses`). */
  attempt: number;
  /** Only the last this many lines. */
  tail?: number;
  /** Keep the stream open and send what the attempt writes until it ends. */
  follow: boolean;
  /** Aborted when the reader goes away. */
  signal: AbortSignal;
}

export interface RuntimeEvents {
  /**
   * A job's record changed. Calls for one job arrive in the order the changes happened, and only once the change
   * is durable (local: committed to the store), since what is told is answered, notified and acted on.
   */
  jobChanged(job: JobRecord): void;
  /**
   * Internal, for the run queue only: the job's run has ended and its end is saved but not yet committed, so its
   * running slot may go to the next job now. That job's start is committed in the same transaction as this end
   * (or a later one) and spawned only after it. Nothing about the job may be shown outside on this call: its end
   * is told by `jobChanged`, once committed. Optional: a runtime that does not call it frees slots on `jobChanged`.
   */
  runEnded?(name: string): void;
}

/**
 * Runs jobs and keeps their records. The scheduler decides what runs when; a runtime carries
 * it out and reports every change. The local runtime runs processes and records state in
 * SQLite; the Kubernetes runtime runs Jobs and keeps state in the cluster.
 */
export interface Runtime {
  /**
   * Opens the runtime's durable state, settles what a previous instance left behind, and starts
   * reporting changes. Jobs come back `Waiting`, in flight (`Active`, `Running`, `Stopping`),
   * or finished; the scheduler calls `launch` again for in-flight ones.
   */
  open(events: RuntimeEvents): Promise<Snapshot>;
  /** Durably records a new batch and its jobs (all `Waiting`) with their payloads. */
  accept(batch: NewBatch): Promise<void>;
  /** Makes sure the job's run is underway. Idempotent for a job already underway. */
  launch(job: JobRecord): Promise<void>;
  /**
   * How many starts beyond the scheduler's `maxRunning` the runtime takes now, asked when a job's run has ended and
   * its slot goes to the next job. Such a start is recorded like any other (Active, durable before anything runs)
   * and waits inside the runtime, which then keeps to `maxRunning` processes itself, for the moment another job's
   * process ends. Absent or 0: none.
   */
  lookAhead?(): number;
  /** Stops a job: a waiting one is `Stopped` at once; a running one is `Stopping` until its run has ended. */
  stop(job: JobRecord): Promise<void>;
  /**
   * Durably records that these ended jobs run again under their names (each `Waiting`, one generation further,
   * its earlier attempts kept) and reports each change; the scheduler starts them as slots free up. A job that
   * has not ended is left as it is. Rejects with an `ApiError` when the restart cannot be recorded now.
   */
  restart(jobs: readonly JobRecord[]): Promise<void>;
  /** The job's status timeline: recorded (local) or derived from what the cluster keeps (Kubernetes). */
  timeline?(job: JobRecord): JobTimeline;
  /**
   * Where finished jobs' whole records can be read back (the local runtime's store): with it the index keeps
   * finished jobs compact. Kubernetes has none and keeps whole records.
   */
  readonly recordSource?: JobRecordSource;
  /** Ends whatever still runs for these jobs and removes the batch with all its records and files. */
  remove(batch: BatchRecord, jobs: readonly JobRecord[]): Promise<void>;
  /**
   * The output of one attempt of a job, as far as it is kept: undefined when there is none (not started yet, or
   * gone). Throws an `ApiError` when the output cannot be read now.
   */
  readLog(job: JobRecord, request: LogRequest): Promise<Readable | undefined>;
  /** The payload the job was given, as its program reads it; undefined when it is not kept. */
  readPayload(job: JobRecord): Promise<Buffer | undefined>;
  /** Where the component's schedules keep what they have done, beside the runtime's own state. */
  scheduleStates?(): ScheduleStates;
  /**
   * Stops reporting and releases resources. Running jobs are left to the next `open`, unless
   * `terminate` asks a runtime whose jobs die with this process (local) to end them first.
   */
  close(options?: { terminate?: boolean }): Promise<void>;
}

/**
 * The durable state of the component's schedules (the latest tick handled of each), kept by the runtime: in the
 * local store, or in a ConfigMap. The runs themselves are recorded by `accept` under names derived from their
 * ticks, so this state only has to outlive runs that were deleted.
 */
export interface ScheduleStates {
  /** The stored state of each named schedule that has one. */
  load(names: readonly string[]): Promise<Map<string, ScheduleState>>;
  /** Records one schedule's state; rejects when it could not be written (the caller logs and goes on). */
  save(name: string, state: ScheduleState): Promise<void>;
}
