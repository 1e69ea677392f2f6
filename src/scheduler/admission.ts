import { buildBatch } from '../core/accept.js';
import { ApiError } from '../core/errors.js';
import type { IdempotencyRecord } from '../core/idempotency.js';
import type { BatchDescription, BatchRecord, JobRecord, JobSettings, NewBatch } from '../core/model.js';
import { SUFFIX_LENGTH } from '../core/naming.js';
import { fullRecord } from '../core/stored-job.js';
import { type BatchStatusView, jobStatusView } from '../core/view.js';
import type { Logger } from '../logger.js';
import { noObserver, type Observer } from '../metrics.js';
import type { Runtime } from '../runtimes/runtime.js';
import { createSuffixSource } from './ids.js';
import { orderedSuffixes } from './ordered-suffixes.js';
import type { BatchEntry } from './state-index.js';
import type { ReadModel } from './read-model.js';

/** What a submission may add to its batch: fixed names (a scheduled run) and an idempotency key to record with it. */
export interface AcceptExtra {
  fixedNames?: FixedNames;
  idempotency?: Omit<IdempotencyRecord, 'batchName'>;
}

export interface AdmissionOptions {
  componentName: string;
  /** The component's own settings: the first layer of every job's spec. */
  componentSettings: JobSettings;
  runtime: Runtime;
  reads: ReadModel;
  logger: Logger;
  observer?: Observer;
  now: () => Date;
  /** Called as the batch enters the index, before any of its jobs can change. */
  indexing?: (batchName: string) => void;
}

/**
 * Turns a checked description into named records, has the runtime record them durably, and only then adds
 * them to the index: a batch is answered once it cannot be lost.
 */
export class Admission {
  /** The batches being added to the index over several turns, each with the promise of its last part. */
  private readonly indexing = new Map<string, Promise<void>>();
  private readonly suffix = createSuffixSource();

  constructor(private readonly options: AdmissionOptions) {}

  /**
   * With `fixedNames`, the batch and its job take those names (a scheduled run; 409 when taken). With `idempotency`, the
   * runtime records the key (named after the new batch) with the batch, atomically.
   */
  async accept(description: BatchDescription, type: BatchRecord['type'], extra: AcceptExtra = {}): Promise<BatchEntry> {
    const { reads, runtime, logger } = this.options;
    const { fixedNames, idempotency } = extra;
    if (fixedNames && reads.index.batch(fixedNames.batchName)) throw ApiError.conflict(`a batch named ${fixedNames.batchName} exists already`);
    const accepted = await this.build(description, type, fixedNames);
    if (idempotency) accepted.idempotency = { ...idempotency, batchName: accepted.batch.name };
    await runtime.accept(accepted);
    const records = accepted.jobs.map((job) => job.record);
    const entry = await this.index(accepted.batch, records);
    logger.info('batch accepted', { batchName: accepted.batch.name, type, jobs: records.length });
    (this.options.observer ?? noObserver).batchAccepted(type, records.length);
    return entry;
  }

  /**
   * Adds the accepted batch to the index BUILD_PART jobs per turn of the event loop: 100,000 jobs in one go held
   * it 150-350 ms. No change can come for these jobs meanwhile (they are queued to run only once this answers);
   * a list of batches may show the batch with part of its jobs for those few turns. A batch deleted meanwhile
   * (by a client that listed it) gets no more jobs.
   */
  private async index(batch: BatchRecord, records: JobRecord[]): Promise<BatchEntry> {
    const { index } = this.options.reads;
    this.options.indexing?.(batch.name);
    const entry = index.addBatch(batch, records.slice(0, BUILD_PART));
    if (records.length <= BUILD_PART) return entry;
    const indexed = (async () => {
      for (let start = BUILD_PART; start < records.length; start += BUILD_PART) {
        await new Promise((resolve) => setImmediate(resolve));
        if (index.batch(batch.name) !== entry) break;
        for (let i = start; i < Math.min(start + BUILD_PART, records.length); i++) index.addJob(entry, records[i]!);
      }
    })();
    this.indexing.set(batch.name, indexed);
    try {
      await indexed;
    } finally {
      this.indexing.delete(batch.name);
    }
    return entry;
  }

  /**
   * Resolves once the batch (or, without a name, every batch) being added to the index holds all its jobs: a stop
   * that reached a batch in those turns (a client listed it) would otherwise miss the jobs not indexed yet.
   */
  async indexed(batchName?: string): Promise<void> {
    if (batchName === undefined) await Promise.all(this.indexing.values());
    else await this.indexing.get(batchName);
  }

  /** The records of a batch, built in parts of BUILD_PART jobs, one turn of the event loop each. */
  private async build(description: BatchDescription, type: BatchRecord['type'], fixedNames?: FixedNames): Promise<NewBatch> {
    const all = description.jobScheduleDescriptions;
    const now = this.options.now();
    const input = {
      componentName: this.options.componentName, component: this.options.componentSettings, type, now, suffix: this.suffix, fixedNames,
      jobSuffix: all.length >= ORDERED_FROM ? orderedSuffixes(all.length) : undefined,
      taken: (name: string) => this.options.reads.index.batch(name) !== undefined,
    };
    const first = buildBatch({ ...input, description: { ...description, jobScheduleDescriptions: all.slice(0, BUILD_PART) } });
    if (all.length <= BUILD_PART) return first;
    const part = { name: first.batch.name, firstIndex: 0, usedSuffixes: new Set(first.jobs.map(({ record }) => record.name.slice(-SUFFIX_LENGTH))) };
    const jobs = first.jobs;
    for (let start = BUILD_PART; start < all.length; start += BUILD_PART) {
      await new Promise((resolve) => setImmediate(resolve));
      part.firstIndex = start;
      jobs.push(...buildBatch({ ...input, part, description: { ...description, jobScheduleDescriptions: all.slice(start, start + BUILD_PART) } }).jobs);
    }
    return { batch: first.batch, jobs };
  }
}

/** Gives the event loop a turn. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Calls `each` on every item, BUILD_PART per turn of the event loop; a usual batch's in this one. */
export async function inParts<T>(items: readonly T[], each: (item: T) => void): Promise<void> {
  for (let start = 0; start < items.length; start += BUILD_PART) {
    if (start > 0) await nextTurn();
    for (let i = start; i < Math.min(start + BUILD_PART, items.length); i++) each(items[i]!);
  }
}

/** The batch's view with every job's, the jobs' made a part per turn (100,000 at once held the loop 60-100 ms). */
export async function batchViewInParts(reads: ReadModel, entry: BatchEntry): Promise<BatchStatusView> {
  const jobs: NonNullable<BatchStatusView['jobStatuses']> = [];
  await inParts(entry.jobs, (job) => jobs.push(jobStatusView(fullRecord(job), entry.batch.type)));
  return { ...reads.batchView(entry, false), jobStatuses: jobs };
}

/** A single job's names given instead of drawn (a scheduled run's, derived from its tick). */
export type FixedNames = { batchName: string; jobSuffix: string };

/** Jobs in a batch from which their names increase with their index (`orderedSuffixes`): a batch the store writes in parts. */
const ORDERED_FROM = 250;

/** Jobs built between two turns of the event loop (a few milliseconds' work). */
const BUILD_PART = 1000;
