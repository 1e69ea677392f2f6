import type { JobRecord } from '../../core/model.js';
import { realTimers, type Timers } from '../../store/write-health.js';

/**
 * How long a record that may wait (an attempt's process exists) waits at most for the job's next change: long
 * enough for a trivial command to end, short against anything that reads a job's state.
 */
export const DEFERRED_SAVE_MS = 10;

/**
 * Records that may reach the store a little later: that an attempt's process exists (Running) decides nothing,
 * and a crash before it is written only loses that line of the timeline (the attempt is lost either way). A
 * short job ends before the wait is over, and its Running and its end are then written (and told, in order) in
 * one transaction with the next job's start, instead of one transaction each. A job's waiting record is saved
 * before any later change of that job, and every waiting record within `delayMs`.
 */
export class DeferredSaves {
  private readonly waiting = new Map<string, JobRecord>();
  private timer: unknown;
  private armed = false;

  /** @param save writes a record to the store and queues it to be told once committed */
  constructor(private readonly save: (job: JobRecord) => void, private readonly options: { delayMs?: number; timers?: Timers } = {}) {}

  defer(job: JobRecord): void {
    this.waiting.set(job.name, job);
    if (this.armed) return;
    this.armed = true;
    this.timer = (this.options.timers ?? realTimers).setTimeout(() => {
      this.armed = false;
      this.saveAll();
    }, this.options.delayMs ?? DEFERRED_SAVE_MS);
  }

  /** Saves the job's waiting record now, before its next change is saved. */
  saveNow(name: string): void {
    const job = this.waiting.get(name);
    if (job === undefined) return;
    this.waiting.delete(name);
    this.save(job);
  }

  /** Saves every waiting record (the timer's end, and before the runtime closes its store). */
  saveAll(): void {
    if (this.armed) (this.options.timers ?? realTimers).clearTimeout(this.timer);
    this.armed = false;
    const jobs = [...this.waiting.values()];
    this.waiting.clear();
    for (const job of jobs) this.save(job);
  }
}
