import { ApiError } from './errors.js';
import type { Labels } from './labels.js';
import { type Attempt, isTerminal, type JobRecord, type JobSpec, type JobStatusValue } from './model.js';
import { fromMs, toMs } from './iso-ms.js';
import { transitionKeyOf } from './timeline.js';

/**
 * Where the rest of a finished job is read from (the local runtime's store). `isPending` is true while a
 * change saved for the job is not yet committed: until then the stored record is not the job's latest.
 */
export interface JobRecordSource {
  readJob(name: string): JobRecord | undefined;
  isPending(name: string): boolean;
}

/** What a finished job is kept as besides what reads, lists, filters, counts and history cleanup need. */
export interface StoredFields {
  name: string;
  batchName: string;
  index: number;
  status: JobStatusValue;
  jobId?: string;
  generation?: number;
  labels?: Labels;
  /** How many attempts it had, and the last one's replica status: what its transition key is made of. */
  attemptCount: number;
  lastReplicaStatus?: string;
  created: string;
  started: string | null;
  ended: string | null;
  updated: string;
}

/**
 * A finished job held in memory as the few fields the index needs; the rest (spec, attempts, message) is
 * read from the store on demand, one record at a time. Times are kept as small integers in the object itself
 * (V8 holds those unboxed; a time in ms since the epoch is not one, and would be a heap number of its own, or an
 * array of them): 48 bytes a job less than an array of four (issue 14). Its status, attempt count, last replica
 * status and generation are one small integer, and its source is its class's (one class per source): 11 fields,
 * 112 bytes a job instead of 144. It reads like a `JobRecord`, but is never spread or handed to the lifecycle:
 * callers that change or copy a job take `fullRecord(job)` first.
 */
export class StoredJob implements JobRecord {
  readonly name: string;
  readonly batchName: string;
  readonly index: number;
  readonly jobId?: string;
  /** The job's labels, shared with the jobs that have the same. */
  readonly labels?: Labels;
  /** Status, last replica status, attempt count and generation, packed (see `packState`). */
  private readonly state: number;
  /** `created` in ms since the epoch is `createdHigh * 2^21 + createdLow`. */
  private readonly createdHigh: number;
  private readonly createdLow: number;
  /** Ms after `created`; null for none. */
  private readonly startedAfter: number | null;
  private readonly endedAfter: number | null;
  private readonly updatedAfter: number;
  /** On the prototype of the source's class (`of`), not in each job. */
  declare private readonly source: JobRecordSource;

  protected constructor(fields: StoredFields, state: number, times: Times) {
    this.name = fields.name;
    this.batchName = fields.batchName;
    this.index = fields.index;
    if (fields.jobId !== undefined && fields.jobId !== null) this.jobId = fields.jobId;
    if (fields.labels) this.labels = fields.labels;
    this.state = state;
    const [created, started, ended, updated] = times;
    this.createdHigh = Math.floor(created / LOW_RANGE);
    this.createdLow = created % LOW_RANGE;
    this.startedAfter = started < 0 ? null : started - created;
    this.endedAfter = ended < 0 ? null : ended - created;
    this.updatedAfter = updated - created;
  }

  /**
   * The compact form of a finished job, or undefined when it cannot be one (not finished, times that would not
   * read back the same, a replica status or counts beyond what the packed state holds): such a job is kept whole.
   */
  static of(source: JobRecordSource, fields: StoredFields & Partial<Pick<JobRecord, 'intent' | 'ending'>>): StoredJob | undefined {
    if (!isTerminal(fields.status) || fields.intent || fields.ending) return undefined;
    const times = [toMs(fields.created), toMs(fields.started), toMs(fields.ended), toMs(fields.updated)] as Times;
    if (times.some((ms) => ms === undefined)) return undefined;
    const state = packState(fields);
    if (state === undefined) return undefined;
    return new (kindOf(source))(fields, state, times);
  }

  get status(): JobStatusValue {
    return STATUSES[this.state & 3]!;
  }

  get lastReplicaStatus(): string | undefined {
    return REPLICA_STATUSES[(this.state >> 2) & 7];
  }

  get attemptCount(): number {
    return (this.state >> 5) & MAX_ATTEMPTS;
  }

  get generation(): number | undefined {
    return this.state >> 17 || undefined;
  }

  get created(): string {
    return fromMs(this.createdMs)!;
  }

  get started(): string | null {
    return fromMs(this.startedMs);
  }

  get ended(): string | null {
    return fromMs(this.endedMs);
  }

  get updated(): string {
    return fromMs(this.updatedMs)!;
  }

  /** When it started and ended, ms since the epoch; -1 for none. Cheaper than the ISO texts for comparing. */
  get startedMs(): number {
    return this.startedAfter === null ? -1 : this.createdMs + this.startedAfter;
  }

  get endedMs(): number {
    return this.endedAfter === null ? -1 : this.createdMs + this.endedAfter;
  }

  get updatedMs(): number {
    return this.createdMs + this.updatedAfter;
  }

  private get createdMs(): number {
    return this.createdHigh * LOW_RANGE + this.createdLow;
  }

  get spec(): JobSpec {
    return this.full().spec;
  }

  get attempts(): Attempt[] {
    return this.full().attempts;
  }

  get message(): string | null {
    return this.full().message;
  }

  get failed(): number {
    return this.full().failed;
  }

  get intent(): undefined {
    return undefined;
  }

  get ending(): undefined {
    return undefined;
  }

  get killAt(): undefined {
    return undefined;
  }

  get retryAt(): undefined {
    return undefined;
  }

  /** The whole record, as the store holds it; a job whose rows were just deleted (its batch being removed) is not found. */
  full(): JobRecord {
    const record = this.source.readJob(this.name);
    if (!record) throw ApiError.notFound('job', this.name);
    return record;
  }
}

/** The record itself, or a stored job's whole record read from the store. */
export function fullRecord(job: JobRecord): JobRecord {
  return job instanceof StoredJob ? job.full() : job;
}

/** The job's transition key (the same as its view's, see `transitionKeyOf`), without reading the store. */
export function recordTransitionKey(job: JobRecord): string {
  if (job instanceof StoredJob) return transitionKeyOf(job.status, job.attemptCount, job.lastReplicaStatus, job.generation);
  return transitionKeyOf(job.status, job.attempts.length, job.attempts.at(-1)?.replicaStatus, job.generation);
}

/** A job as it was accepted: nothing to tell beyond its batch's `Create` (never a stored job: those have ended). */
export function isInitialRecord(job: JobRecord): boolean {
  return !(job instanceof StoredJob) && job.status === 'Waiting' && job.attempts.length === 0 && !job.generation;
}

/** The fields a finished job is kept with, from its whole record. */
export function storedFields(job: JobRecord): StoredFields & Pick<JobRecord, 'intent' | 'ending'> {
  const { name, batchName, index, status, jobId, generation, created, started, ended, updated, intent, ending } = job;
  const last = job.attempts.at(-1)?.replicaStatus;
  return {
    name, batchName, index, status, created, started, ended, updated, attemptCount: job.attempts.length,
    ...(last === undefined ? {} : { lastReplicaStatus: last }),
    ...(jobId === undefined ? {} : { jobId }), ...(generation === undefined ? {} : { generation }),
    ...(job.spec.labels ? { labels: job.spec.labels } : {}),
    ...(intent === undefined ? {} : { intent }), ...(ending === undefined ? {} : { ending }),
  };
}

/** The job's labels without reading the store. */
export function labelsOf(job: JobRecord): Labels | undefined {
  return job instanceof StoredJob ? job.labels : job.spec.labels;
}

/** Splits a time in ms since the epoch into two small integers (both stay below 2^30 for the next 20,000 years). */
const LOW_RANGE = 2 ** 21;

/** The packed state: status in bits 0-1, last replica status in 2-4 (0 for none), attempts in 5-16, generation in 17-29 (a small integer on every V8). */
const STATUSES: readonly JobStatusValue[] = ['Succeeded', 'Failed', 'Stopped'];
const REPLICA_STATUSES: ReadonlyArray<string | undefined> = [undefined, 'Pending', 'Running', 'Succeeded', 'Failed', 'Stopped'];
const MAX_ATTEMPTS = 2 ** 12 - 1;
const MAX_GENERATION = 2 ** 13 - 1;

function packState(fields: StoredFields): number | undefined {
  const status = STATUSES.indexOf(fields.status);
  const replica = REPLICA_STATUSES.indexOf(fields.lastReplicaStatus);
  const generation = fields.generation ?? 0;
  const { attemptCount } = fields;
  if (status < 0 || replica < 0 || !(attemptCount >= 0 && attemptCount <= MAX_ATTEMPTS) || !(generation >= 0 && generation <= MAX_GENERATION)) return undefined;
  if (!Number.isInteger(attemptCount) || !Number.isInteger(generation)) return undefined;
  return status | (replica << 2) | (attemptCount << 5) | (generation << 17);
}

type Times = [number, number, number, number];
type StoredJobKind = new (fields: StoredFields, state: number, times: Times) => StoredJob;

/** One subclass of `StoredJob` per source, its source on the prototype: jobs share it instead of each holding it. */
const kinds = new WeakMap<JobRecordSource, StoredJobKind>();

function kindOf(source: JobRecordSource): StoredJobKind {
  const known = kinds.get(source);
  if (known) return known;
  const kind = class StoredJobOfSource extends StoredJob {
    constructor(fields: StoredFields, state: number, times: Times) {
      super(fields, state, times);
    }
  };
  Object.defineProperty(kind.prototype, 'source', { value: source });
  kinds.set(source, kind);
  return kind;
}
