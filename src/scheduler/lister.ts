import { randomBytes } from 'node:crypto';
import { ApiError } from '../core/errors.js';
import { JOB_STATUSES } from '../core/model.js';
import type { BatchStatusRule } from '../core/status.js';
import type { BatchStatusView, JobStatusView } from '../core/view.js';
import { batchFilter, type Cursor, decodeCursor, encodeCursor, expiredToken, jobFilter, type ListName, type ListParams } from './list-query.js';
import type { ListingIndex } from './listing.js';
import type { ReadModel } from './read-model.js';
import type { BatchEntry } from './state-index.js';

/** One page of a list; `next` is the token of the page after it, absent on the last page. */
export interface Listed<T> {
  items: T;
  next?: string;
}

/**
 * The filtered, paged lists of the API, read from the listing's secondary indexes. A continue token holds the
 * key of the last item answered: keys follow acceptance order and are never reused, so a job that matches
 * the filter on every page is answered exactly once, however the jobs around it change.
 */
export class Lister {
  /** Keys are this process's own; a token of an earlier run resumes from its last item's name. */
  private readonly epoch = randomBytes(6).toString('base64url');
  private readonly batchStatuses: string[];

  constructor(private readonly reads: ReadModel, private readonly listing: ListingIndex, rules: BatchStatusRule[] = []) {
    this.batchStatuses = [...new Set([...JOB_STATUSES, ...rules.map((rule) => rule.batchStatus)])];
  }

  listJobs(params: ListParams): Listed<JobStatusView[]> {
    const filter = jobFilter(params);
    const after = params.continue === undefined ? -1 : this.jobAfter('jobs', params.continue);
    const page = this.listing.jobPage(filter, params.limit ?? Infinity, after);
    return {
      items: page.items.map(({ job, entry }) => this.reads.jobView(job, entry)),
      next: this.next('jobs', page.last, page.items.at(-1)?.job.name),
    };
  }

  listBatches(params: ListParams): Listed<BatchStatusView[]> {
    const filter = batchFilter(params, this.batchStatuses);
    let after = -1;
    if (params.continue !== undefined) {
      const cursor = decodeCursor(params.continue, 'batches');
      after = cursor.epoch === this.epoch ? cursor.key : this.listing.batchOrdinal(cursor.name) ?? throwExpired();
    }
    const page = this.listing.batchPage(filter, params.limit ?? Infinity, after);
    return {
      items: page.items.map((entry) => this.reads.apiBatchView(entry, false)),
      next: this.next('batches', page.last, page.items.at(-1)?.batch.name),
    };
  }

  /** A batch as JSON, with all, some or none of its jobs. */
  batchJson(name: string, params: ListParams): Listed<string> {
    const paged = params.limit !== undefined || params.continue !== undefined;
    const filtered = params.status !== undefined || params.jobId !== undefined || params.labelSelector !== undefined;
    if (params.jobStatuses === false) {
      if (paged || filtered) throw ApiError.badRequest('jobStatuses=false leaves the jobs out: status, jobId, labelSelector, limit and continue choose jobs, so they cannot go with it');
      return { items: this.reads.getBatchJson(name, () => undefined) };
    }
    if (!paged && !filtered) return { items: this.reads.getBatchJson(name) };
    const list: ListName = `batch/${name}`;
    let next: string | undefined;
    const items = this.reads.getBatchJson(name, (entry) => {
      const after = params.continue === undefined ? -1 : this.jobAfter(list, params.continue, entry);
      const page = this.listing.jobPage(jobFilter(params), params.limit ?? Infinity, after, entry);
      next = this.next(list, page.last, page.items.at(-1)?.job.name);
      return page.items.map(({ job }) => job);
    });
    return { items, next };
  }

  private jobAfter(list: ListName, token: string, scope?: BatchEntry): number {
    const cursor: Cursor = decodeCursor(token, list);
    if (cursor.epoch === this.epoch) return cursor.key;
    const found = this.reads.index.job(cursor.name);
    if (!found || (scope && found.entry !== scope)) throwExpired();
    return this.listing.jobKey(found.entry, found.position) ?? throwExpired();
  }

  private next(list: ListName, key: number | undefined, name: string | undefined): string | undefined {
    return key === undefined || name === undefined ? undefined : encodeCursor(list, { epoch: this.epoch, key, name });
  }
}

function throwExpired(): never {
  throw expiredToken();
}
