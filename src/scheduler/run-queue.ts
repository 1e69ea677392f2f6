import type { JobRecord } from '../core/model.js';
import { priorityOf } from '../core/priority.js';
import { isInFlight } from '../core/status.js';
import { FairQueue } from './fair-queue.js';

export interface RunQueueOptions {
  /** Most jobs in flight at once; the rest wait in the order `FairQueue` gives them. */
  maxRunning: number;
  /** The job's current record, or undefined when it is no longer known. */
  current(name: string): JobRecord | undefined;
  /** Whether the job's batch is being deleted: its waiting jobs never start. */
  deleting(batchName: string): boolean;
  /** Whether the batch holds a single job (single jobs share one lane instead of one lane each). */
  single(batchName: string): boolean;
  /** Hands a job to the runtime. */
  launch(job: JobRecord): void;
  /** How many more than `maxRunning` the runtime takes ahead when a run ends (`Runtime.lookAhead`); none when absent. */
  lookAhead?(): number;
}

/** The lane of every single job: no batch is named with the empty string. */
const SINGLE_JOBS = '';

/**
 * Waiting jobs, started while fewer than `maxRunning` are in flight: highest priority first, and among equal
 * priority the batches take turns, one job each (all single jobs together count as one batch), each batch's
 * jobs in their order. A slot is held from the launch until the job's record leaves Active/Running/Stopping,
 * and a job of a batch being deleted, or with a stop or delete asked, is skipped, so a freed slot never goes
 * to a job that is about to be removed. When a run ends, up to the runtime's `lookAhead` more are handed to it
 * (they wait there for a free process): only then, so a job submitted later never waits behind one handed ahead
 * unless jobs are ending one after another.
 */
export class RunQueue {
  private readonly waiting = new FairQueue();
  private readonly inFlight = new Set<string>();
  private scheduled = false;
  private paused = true;
  private lastBatch: { name: string; lane: string } | undefined;

  constructor(private readonly options: RunQueueOptions) {}

  /** Queues a waiting job (accepted, found waiting at start, or restarted) under its batch and priority. */
  push(name: string): void {
    const job = this.options.current(name);
    if (!job) return;
    this.waiting.push(name, this.laneOf(job.batchName), priorityOf(job.spec));
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

  /**
   * The job's run ended and its end is not told yet (not committed): its slot goes to the next job in this turn,
   * whose start the runtime commits with that end. The end, once told, finds the slot freed already.
   */
  release(name: string): void {
    if (this.inFlight.delete(name)) this.pump(this.options.lookAhead?.() ?? 0);
  }

  /** Jobs that are gone (their batch was removed) free their slots. */
  forget(names: Iterable<string>): void {
    for (const name of names) this.inFlight.delete(name);
    this.lastBatch = undefined;
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

  private pump(ahead = 0): void {
    if (this.paused) return;
    const { maxRunning, current, deleting, launch } = this.options;
    while (this.inFlight.size < maxRunning + ahead && this.waiting.size > 0) {
      const name = this.waiting.shift()!;
      const job = current(name);
      // A job pushed twice (stopped while waiting, then restarted) is launched once: the runtime reports it
      // Active only after the launch.
      if (job?.status !== 'Waiting' || job.intent || this.inFlight.has(name) || deleting(job.batchName)) continue;
      this.inFlight.add(job.name);
      launch(job);
    }
  }

  /** Jobs of one batch come in runs (a batch is pushed whole), so the last batch's lane is kept. */
  private laneOf(batchName: string): string {
    if (this.lastBatch?.name !== batchName) {
      this.lastBatch = { name: batchName, lane: this.options.single(batchName) ? SINGLE_JOBS : batchName };
    }
    return this.lastBatch.lane;
  }
}
