import { ApiError } from '../core/errors.js';
import { parseSelector } from '../core/labels.js';
import { JOB_STATUSES, type JobStatusValue } from '../core/model.js';
import type { BatchFilter, JobFilter } from './listing.js';

/** The query parameters of a list, as the API document has already typed them. */
export interface ListParams {
  status?: string;
  jobId?: string;
  batchId?: string;
  labelSelector?: string;
  limit?: number;
  continue?: string;
  /** `GET /batches/{batchName}` only: false leaves the jobs out. */
  jobStatuses?: boolean;
}

/** Which list a continue token was given for: one token never resumes another list. */
export type ListName = 'jobs' | 'batches' | `batch/${string}`;

/** Where a list stopped: the last item's key in this process (`epoch`), and its name to find it again after a restart. */
export interface Cursor {
  epoch: string;
  key: number;
  name: string;
}

export function jobFilter(params: ListParams): JobFilter {
  return {
    statuses: statusesOf(params.status, JOB_STATUSES) as Set<JobStatusValue> | undefined,
    jobId: params.jobId,
    selector: parseSelector(params.labelSelector ?? ''),
  };
}

export function batchFilter(params: ListParams, statuses: readonly string[]): BatchFilter {
  return {
    statuses: statusesOf(params.status, statuses),
    batchId: params.batchId,
    jobId: params.jobId,
    selector: parseSelector(params.labelSelector ?? ''),
  };
}

function statusesOf(text: string | undefined, allowed: readonly string[]): Set<string> | undefined {
  if (text === undefined) return undefined;
  const statuses = text.split(',').map((status) => status.trim());
  const unknown = statuses.filter((status) => !allowed.includes(status));
  if (unknown.length > 0) {
    const message = `has ${unknown.map((status) => `"${status}"`).join(', ')}; give one or more of ${allowed.join(', ')}, separated by commas`;
    throw ApiError.badRequest(`status ${message}`, [{ path: 'status', message }]);
  }
  return new Set(statuses);
}

/** An opaque token: base64url JSON, so that a client cannot mistake it for an offset. */
export function encodeCursor(list: ListName, cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, l: list, e: cursor.epoch, k: cursor.key, n: cursor.name })).toString('base64url');
}

export function decodeCursor(token: string, list: ListName): Cursor {
  let value: { v?: unknown; l?: unknown; e?: unknown; k?: unknown; n?: unknown } | undefined;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof value;
  } catch {
    value = undefined;
  }
  if (!value || value.v !== 1 || typeof value.e !== 'string' || typeof value.k !== 'number' || !Number.isSafeInteger(value.k) || typeof value.n !== 'string') {
    throw badToken('is not a token this service gave; send the X-Continue header of the previous page unchanged, or leave continue out to start from the beginning');
  }
  if (value.l !== list) throw badToken('was given for another list (other path); leave continue out to start this list from the beginning');
  return { epoch: value.e, key: value.k, name: value.n };
}

function badToken(message: string): ApiError {
  return ApiError.badRequest(`continue ${message}`, [{ path: 'continue', message }]);
}

/** A token of an earlier run of the service whose last item is gone: the list cannot resume where it was. */
export function expiredToken(): ApiError {
  return ApiError.expired('continue is from before the service restarted and the item it stopped at was deleted since; list again from the beginning (leave continue out)');
}
