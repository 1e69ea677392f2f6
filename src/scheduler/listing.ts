import type { Requirement } from '../core/labels.js';
import { selects } from '../core/labels.js';
import type { Labels } from '../core/labels.js';
import { JOB_STATUSES, type JobRecord, type JobStatusValue } from '../core/model.js';
import { labelsOf } from '../core/stored-job.js';
import { cheapest, collect, type KeySource, type Page, Postings, range, union } from './postings.js';
import type { BatchEntry } from './state-index.js';

/**
 * A job's key is its batch's ordinal times `STRIDE` plus its position in the batch: keys follow acceptance
 * order, a batch's jobs are one contiguous range, and no key is stored per job. A batch holds at most
 * 1,000,000 jobs (the most JOB_SCHEDULER_MAX_BATCH_JOBS allows).
 */
export const STRIDE = 2 ** 20;

/** Told of every change of the state index, in order. */
export interface IndexListener {
  batchAdded(entry: BatchEntry): void;
  jobAdded(entry: BatchEntry, position: number, job: JobRecord): void;
  /** Jobs added at once, at positions from `from` on. */
  jobsAdded(entry: BatchEntry, from: number, jobs: readonly JobRecord[]): void;
  jobChanged(entry: BatchEntry, position: number, previous: JobRecord, job: JobRecord): void;
  batchRemoved(entry: BatchEntry): void;
}

/** What a list of jobs is filtered on; absent fields do not filter. */
export interface JobFilter {
  statuses?: ReadonlySet<JobStatusValue>;
  jobId?: string;
  selector: readonly Requirement[];
}

/** What a list of batches is filtered on: the batch's status, batchId and labels, and a jobId one of its jobs has. */
export interface BatchFilter {
  statuses?: ReadonlySet<string>;
  batchId?: string;
  jobId?: string;
  selector: readonly Requirement[];
}

export interface JobAt {
  entry: BatchEntry;
  job: JobRecord;
  key: number;
}

/**
 * Secondary indexes over the state index (status, jobId, label key and key=value, for single jobs and for jobs
 * of batches; status, batchId and labels for batches), kept current on every change, so that a filtered page
 * costs what it reads from the narrowest index, not what the filter leaves out.
 */
export class ListingIndex implements IndexListener {
  /** Single jobs' and batches' jobs apart, so that a list of either never reads the other's. */
  private readonly jobs = { job: new Postings(), batch: new Postings() };
  private readonly batches = new Postings();
  /** Jobs of a batch mostly share one set of labels: its terms are made once, and the same strings reused. */
  private readonly labelTerms = new WeakMap<Labels, string[]>();
  private readonly ordinals = new Map<string, number>();
  private readonly entries = new Map<number, BatchEntry>();
  private readonly batchStatus = new Map<number, string>();
  private nextOrdinal = 1;
  /**
   * Jobs' jobIds are indexed from the first list filtered on one: most lists never are, and each distinct jobId
   * costs a term and a posting per job (a tenth of a finished job's memory). Until then none is indexed.
   */
  private jobIdsIndexed = false;
  /** Reads every batch whose jobs are read after the start (see `StateIndex.defer`): a list over all batches needs them all. */
  private loadAll: () => void = () => {};

  constructor(private readonly statusOf: (entry: BatchEntry) => string) {}

  /** `loadAll` is called before any answer that covers more than one batch. */
  loadAllWith(loadAll: () => void): void {
    this.loadAll = loadAll;
  }

  batchAdded(entry: BatchEntry): void {
    const ordinal = this.nextOrdinal++;
    this.ordinals.set(entry.batch.name, ordinal);
    this.entries.set(ordinal, entry);
    if (entry.batch.type !== 'batch') return;
    for (const term of batchTerms(entry)) this.batches.add(term, ordinal);
    this.refreshStatus(entry, ordinal);
  }

  jobAdded(entry: BatchEntry, position: number, job: JobRecord): void {
    const ordinal = this.ordinals.get(entry.batch.name)!;
    const key = ordinal * STRIDE + position;
    const postings = this.jobs[entry.batch.type];
    for (const term of this.jobTerms(job, entry.batch.type)) postings.add(term, key);
    this.refreshStatus(entry, ordinal);
  }

  jobsAdded(entry: BatchEntry, from: number, jobs: readonly JobRecord[]): void {
    const ordinal = this.ordinals.get(entry.batch.name)!;
    const postings = this.jobs[entry.batch.type];
    const type = entry.batch.type;
    // The terms of `jobTerms`, without a generator per job (a start adds 100,000 jobs this way).
    for (let i = 0, key = ordinal * STRIDE + from; i < jobs.length; i++, key++) {
      const job = jobs[i]!;
      if (type === 'job') postings.add(ALL, key);
      postings.add(STATUS_TERMS[job.status], key);
      if (this.jobIdsIndexed && job.jobId !== undefined) postings.add(`i\0${job.jobId}`, key);
      const labels = labelsOf(job);
      if (labels) for (const term of this.labelTermsOf(labels)) postings.add(term, key);
    }
    this.refreshStatus(entry, ordinal);
  }

  jobChanged(entry: BatchEntry, position: number, previous: JobRecord, job: JobRecord): void {
    const ordinal = this.ordinals.get(entry.batch.name)!;
    const key = ordinal * STRIDE + position;
    const postings = this.jobs[entry.batch.type];
    if (previous.jobId !== job.jobId || labelsOf(previous) !== labelsOf(job)) {
      for (const term of this.jobTerms(previous, entry.batch.type)) postings.delete(term, key);
      for (const term of this.jobTerms(job, entry.batch.type)) postings.add(term, key);
    } else if (previous.status !== job.status) {
      postings.delete(STATUS_TERMS[previous.status], key);
      postings.add(STATUS_TERMS[job.status], key);
    }
    this.refreshStatus(entry, ordinal);
  }

  batchRemoved(entry: BatchEntry): void {
    const ordinal = this.ordinals.get(entry.batch.name);
    if (ordinal === undefined) return;
    const postings = this.jobs[entry.batch.type];
    entry.jobs.forEach((job, position) => {
      for (const term of this.jobTerms(job, entry.batch.type)) postings.delete(term, ordinal * STRIDE + position);
    });
    for (const term of batchTerms(entry)) this.batches.delete(term, ordinal);
    const status = this.batchStatus.get(ordinal);
    if (status !== undefined) this.batches.delete(`s\0${status}`, ordinal);
    this.batchStatus.delete(ordinal);
    this.ordinals.delete(entry.batch.name);
    this.entries.delete(ordinal);
  }

  /** A page of single jobs (`scope` undefined) or of one batch's jobs, after the key `after`. */
  jobPage(filter: JobFilter, limit: number, after: number, scope?: BatchEntry): Page<JobAt> {
    // A batch's own jobs are all indexed once the batch was read.
    if (!scope) this.loadAll();
    if (filter.jobId !== undefined) this.indexJobIds();
    const postings = this.jobs[scope ? scope.batch.type : 'job'];
    const from = scope ? this.ordinals.get(scope.batch.name)! * STRIDE : 0;
    const to = scope ? from + scope.jobs.length : Infinity;
    const sources = positiveTerms(filter).map((terms) => union(postings, terms));
    sources.push(scope ? range(from, to) : union(postings, [ALL]));
    const source = cheapest(sources);
    return collect(source.after(Math.max(after, from - 1)), limit, (key) => {
      if (key >= to) return null;
      const found = this.jobAt(key);
      return found && matchesJob(found.job, filter) ? found : undefined;
    });
  }

  /** A page of batches (of type `batch`) after the ordinal `after`. */
  batchPage(filter: BatchFilter, limit: number, after: number): Page<BatchEntry> {
    this.loadAll();
    if (filter.jobId !== undefined) this.indexJobIds();
    const sources: KeySource[] = [union(this.batches, ['all'])];
    if (filter.statuses) sources.push(union(this.batches, [...filter.statuses].map((status) => `s\0${status}`)));
    if (filter.batchId !== undefined) sources.push(union(this.batches, [`i\0${filter.batchId}`]));
    for (const terms of positiveTerms({ selector: filter.selector })) sources.push(union(this.batches, terms));
    const jobIdTerm = filter.jobId === undefined ? undefined : `i\0${filter.jobId}`;
    if (jobIdTerm !== undefined) sources.push(this.batchesOfJobs(jobIdTerm));
    return collect(cheapest(sources).after(after), limit, (ordinal) => {
      const entry = this.entries.get(ordinal);
      if (!entry || entry.batch.type !== 'batch') return undefined;
      if (filter.statuses && !filter.statuses.has(this.batchStatus.get(ordinal) ?? '')) return undefined;
      if (filter.batchId !== undefined && entry.batch.batchId !== filter.batchId) return undefined;
      if (!selects(entry.batch.labels, filter.selector)) return undefined;
      if (jobIdTerm !== undefined && !this.jobs.batch.hasBetween(jobIdTerm, ordinal * STRIDE, (ordinal + 1) * STRIDE)) return undefined;
      return entry;
    });
  }

  /** How many jobs (of single jobs or of batches) the status index holds under a status: what a status filter reads. */
  indexedJobs(type: BatchEntry['batch']['type'], status: JobStatusValue): number {
    this.loadAll();
    return this.jobs[type].size(STATUS_TERMS[status]);
  }

  /** How many batches the index holds under a batch status. */
  indexedBatches(status: string): number {
    this.loadAll();
    return this.batches.size(`s\0${status}`);
  }

  /** The key of a job still indexed, to resume a list from it after a restart. */
  jobKey(entry: BatchEntry, position: number): number | undefined {
    const ordinal = this.ordinals.get(entry.batch.name);
    return ordinal === undefined ? undefined : ordinal * STRIDE + position;
  }

  batchOrdinal(name: string): number | undefined {
    return this.ordinals.get(name);
  }

  private jobAt(key: number): JobAt | undefined {
    const ordinal = Math.floor(key / STRIDE);
    const entry = this.entries.get(ordinal);
    const job = entry?.jobs[key - ordinal * STRIDE];
    return entry && job && { entry, job, key };
  }

  /** The ordinals of the batches that hold a job with the term, ascending, each once. */
  private batchesOfJobs(term: string): KeySource {
    const jobs = this.jobs.batch;
    return {
      size: jobs.size(term),
      *after(after) {
        let last = after;
        for (const key of jobs.after(term, (after + 1) * STRIDE - 1)) {
          const ordinal = Math.floor(key / STRIDE);
          if (ordinal !== last) yield ordinal;
          last = ordinal;
        }
      },
    };
  }

  /** Indexes every job's jobId, once (see `jobIdsIndexed`); jobs added or changed later are indexed as they come. */
  private indexJobIds(): void {
    if (this.jobIdsIndexed) return;
    this.jobIdsIndexed = true;
    for (const [ordinal, entry] of this.entries) {
      const postings = this.jobs[entry.batch.type];
      entry.jobs.forEach((job, position) => {
        if (job.jobId !== undefined) postings.add(`i\0${job.jobId}`, ordinal * STRIDE + position);
      });
    }
  }

  /** The terms a job is indexed under; single jobs are under `ALL` too (they are listed from it). */
  private *jobTerms(job: JobRecord, type: BatchEntry['batch']['type']): Generator<string> {
    if (type === 'job') yield ALL;
    yield STATUS_TERMS[job.status];
    if (this.jobIdsIndexed && job.jobId !== undefined) yield `i\0${job.jobId}`;
    const labels = labelsOf(job);
    if (labels) yield* this.labelTermsOf(labels);
  }

  private labelTermsOf(labels: Labels): string[] {
    let terms = this.labelTerms.get(labels);
    if (!terms) {
      terms = Object.entries(labels).flatMap(([key, value]) => [`k\0${key}`, `l\0${key}\0${value}`]);
      this.labelTerms.set(labels, terms);
    }
    return terms;
  }

  private refreshStatus(entry: BatchEntry, ordinal: number): void {
    if (entry.batch.type !== 'batch') return;
    const status = this.statusOf(entry);
    const previous = this.batchStatus.get(ordinal);
    if (previous === status) return;
    if (previous !== undefined) this.batches.delete(`s\0${previous}`, ordinal);
    this.batches.add(`s\0${status}`, ordinal);
    this.batchStatus.set(ordinal, status);
  }
}

const ALL = 'all';
const STATUS_TERMS = Object.fromEntries(JOB_STATUSES.map((status) => [status, `s\0${status}`])) as Record<JobStatusValue, string>;

function batchTerms(entry: BatchEntry): string[] {
  const terms = ['all'];
  if (entry.batch.batchId !== undefined) terms.push(`i\0${entry.batch.batchId}`);
  for (const [key, value] of Object.entries(entry.batch.labels ?? {})) terms.push(`k\0${key}`, `l\0${key}\0${value}`);
  return terms;
}

/** For each requirement an index can answer, the terms whose union holds every match. */
function positiveTerms(filter: Pick<JobFilter, 'statuses' | 'jobId' | 'selector'>): string[][] {
  const terms: string[][] = [];
  if (filter.statuses) terms.push([...filter.statuses].map((status) => `s\0${status}`));
  if (filter.jobId !== undefined) terms.push([`i\0${filter.jobId}`]);
  for (const requirement of filter.selector) {
    if (requirement.op === 'in') terms.push(requirement.values.map((value) => `l\0${requirement.key}\0${value}`));
    else if (requirement.op === 'exists') terms.push([`k\0${requirement.key}`]);
  }
  return terms;
}

function matchesJob(job: JobRecord, filter: JobFilter): boolean {
  if (filter.statuses && !filter.statuses.has(job.status)) return false;
  if (filter.jobId !== undefined && job.jobId !== filter.jobId) return false;
  return selects(labelsOf(job), filter.selector);
}
