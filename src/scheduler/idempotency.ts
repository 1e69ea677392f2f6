import { decideKeyed, type IdempotencyRecord, keyReusedError, RequestFingerprint, type SubmissionKey } from '../core/idempotency.js';
import type { BatchDescription, BatchType } from '../core/model.js';

/** Jobs hashed between two turns of the event loop. */
const JOBS_PER_TURN = 1000;

/** The fingerprint of a checked submission, hashed a part at a time so that a large batch never holds the event loop. */
export async function fingerprintOf(type: BatchType, description: BatchDescription): Promise<string> {
  const fingerprint = new RequestFingerprint(type);
  const { jobScheduleDescriptions: jobs, ...own } = description;
  // A single job is fingerprinted as its own description; a batch as its own fields, then each job in order.
  if (type === 'batch') fingerprint.add(own);
  for (let start = 0; start < jobs.length; start += JOBS_PER_TURN) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const job of jobs.slice(start, start + JOBS_PER_TURN)) fingerprint.add(job);
  }
  return fingerprint.digest();
}

export interface IdempotencyKeysOptions {
  /** How long a key answers its batch. */
  windowMs: number;
  now: () => Date;
}

/** What `submit` hands the creation: the key's record but for the name of the batch, which creation chooses. */
export type PendingKey = Omit<IdempotencyRecord, 'batchName'>;

/**
 * The idempotency keys in force, in memory, by key hash. The durable copy is the runtime's, written with each batch
 * (`NewBatch.idempotency`) and read back at start. One submission per key runs at a time: a second one with the
 * same key waits for the first and then gets its answer.
 */
export class IdempotencyKeys {
  /** In insertion order, which is expiry order (one window after acceptance), so expired keys are at the front. */
  private readonly records = new Map<string, IdempotencyRecord>();
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly options: IdempotencyKeysOptions) {}

  /** The keys a runtime kept; an expired one is left out, and of two for one key the later wins. */
  load(records: readonly IdempotencyRecord[]): void {
    const now = this.options.now().getTime();
    for (const record of [...records].sort((a, b) => a.expires - b.expires)) {
      if (record.expires <= now) continue;
      this.records.delete(record.keyHash);
      this.records.set(record.keyHash, record);
    }
  }

  /** Whether the key answers a batch now (or one is being made for it): a submission with it adds no job unless refused. */
  knows(key: SubmissionKey): boolean {
    if (this.running.has(key.hash)) return true;
    const record = this.records.get(key.hash);
    return record !== undefined && record.expires > this.options.now().getTime();
  }

  /** How many keys are kept in memory now. */
  get size(): number {
    return this.records.size;
  }

  /**
   * Creates the batch for a key once. `create` records the batch together with the key and answers its name;
   * afterwards, the same fingerprint answers that name again (`replayed`), another one is refused with 422.
   */
  async submit(key: SubmissionKey, fingerprint: string, create: (pending: PendingKey) => Promise<string>): Promise<{ batchName: string; replayed: boolean }> {
    for (;;) {
      const earlier = this.running.get(key.hash);
      if (!earlier) break;
      // Whatever the first got, this one decides afresh: its batch, or, when it failed, nothing yet.
      await earlier.catch(() => undefined);
    }
    const now = this.options.now().getTime();
    this.dropExpired(now);
    const decision = decideKeyed(this.records.get(key.hash), fingerprint, now);
    if (decision.kind === 'mismatch') throw keyReusedError(key.source);
    if (decision.kind === 'replay') return { batchName: decision.batchName, replayed: true };
    const pending: PendingKey = { keyHash: key.hash, fingerprint, expires: now + this.options.windowMs };
    const creation = create(pending).then((batchName) => {
      this.records.delete(key.hash);
      this.records.set(key.hash, { ...pending, batchName });
      return batchName;
    });
    this.running.set(key.hash, creation);
    try {
      return { batchName: await creation, replayed: false };
    } finally {
      this.running.delete(key.hash);
    }
  }

  private dropExpired(now: number): void {
    for (const [hash, record] of this.records) {
      if (record.expires > now) break;
      this.records.delete(hash);
    }
  }
}
