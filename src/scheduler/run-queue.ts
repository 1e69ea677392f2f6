import type { JobRecord } from '../core/model.js';
import { isInFlight } from '../core/status.js';

export interface RunQueueOptions {
  /** Most jobs in flight at once; the rest wait in the order they were accepted. */
  maxRunning: number;
  /** The job's current record, or undefined when it is no longer known. */
  current(name: string): JobRecord | undefined;
  /** Whether the job's batch is being deleted: its waiting jobs never start. */
  deleting(batchName: string): boolean;
  /** Hands a job to the runtime. */
  launch(job: JobRecord): void;
}

/**
 * Waiting jobs in acceptance order, started while fewer than `maxRunning` are in flight. A slot is held from
 * the launch until the job's record leaves Active/Running/Stopping, and a job of a batch being deleted is
 * skipped, so a freed slot never goes to a job that is about to be removed.
 */
export class RunQueue {
  private readonly waiting: string[] = [];
  private head = 0;
  private readonly inFlight = new Set<string>();
  private scheduled = false;
  private paused = true;

  constructor(private readonly options: RunQueueOptions) {}

  push(name: string): void {
    this.waiting.push(name);
  }

  /** A job that was in flight when the service started (it holds a slot and is launched again). */
  resume(job: JobRecord): void {
    this.inFlight.add(job.name);
    this.options.launch(job);
  }

  /** Starts pumping (after the scheduler has started). */
  open(): void {
    this.paused = false;
    this.pump();
  }

  close(): void {
    this.paused = true;
  }

  /** Keeps the slots in step with a job's new record. */
  jobChanged(job: JobRecord): void {
    if (isInFlight(job.status)) this.inFlight.add(job.name);
    else if (this.inFlight.delete(job.name)) this.schedule();
  }

  /** Jobs that are gone (their batch was removed) free their slots. */
  forget(names: Iterable<string>): void {
    for (const name of names) this.inFlight.delete(name);
    this.schedule();
  }

  /** Pumps once in the next turn of the event loop (many changes in one turn cause one pump). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.paused) return;
    const { maxRunning, current, deleting, launch } = this.options;
    while (this.inFlight.size < maxRunning && this.head < this.waiting.length) {
      const job = current(this.waiting[this.head++]!);
      if (job?.status !== 'Waiting' || job.intent || deleting(job.batchName)) continue;
      this.inFlight.add(job.name);
      launch(job);
    }
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
  }
}
