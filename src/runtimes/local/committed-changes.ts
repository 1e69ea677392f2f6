import type { JobRecord } from '../../core/model.js';

/**
 * The records the local runtime saved and has not told yet, in the order they were saved. They are told (every
 * transition, as the job's timeline keeps them) once a transaction has committed them, and not before: what is
 * told is answered to clients, sent to webhooks and frees a running slot, and a crash must not take it back.
 */
export class CommittedChanges {
  private waiting: JobRecord[] = [];

  /**
   * @param tell called with each record, in order, once it is durable
   * @param limit while the store cannot write, the records kept beyond this many are only each job's latest
   */
  constructor(private readonly tell: (job: JobRecord) => void, private readonly limit = 100_000) {}

  saved(job: JobRecord): void {
    this.waiting.push(job);
    if (this.waiting.length > this.limit) this.keepLatest();
  }

  /** The record could not be made durable and was replaced by the one before it, which was told already. */
  undone(job: JobRecord): void {
    const at = this.waiting.lastIndexOf(job);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  /** Every record saved so far is committed. */
  committed(): void {
    this.take()();
  }

  /** Every record saved so far is committed: answers what tells them, in order (the caller decides when, and calls it once). */
  take(): () => void {
    const jobs = this.waiting;
    this.waiting = [];
    return () => {
      for (const job of jobs) this.tell(job);
    };
  }

  private keepLatest(): void {
    const latest = new Map<string, JobRecord>();
    for (const job of this.waiting) {
      latest.delete(job.name);
      latest.set(job.name, job);
    }
    this.waiting = [...latest.values()];
  }
}
