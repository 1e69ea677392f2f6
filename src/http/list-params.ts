import type { Request, Response } from 'express';
import type { ListParams } from '../scheduler/list-query.js';

/** The header that carries the token of the next page (the bodies keep their Radix shapes). */
export const CONTINUE_HEADER = 'X-Continue';

/** The list parameters of a request, already checked against the API document (which types them). */
export function listParams(req: Request): ListParams {
  const query = req.query as Record<string, unknown>;
  const text = (name: string) => (typeof query[name] === 'string' ? query[name] : undefined);
  const limit = query.limit === undefined ? undefined : Number(query.limit);
  const jobStatuses = query.jobStatuses === undefined ? undefined : String(query.jobStatuses) !== 'false';
  return {
    status: text('status'), jobId: text('jobId'), batchId: text('batchId'), labelSelector: text('labelSelector'),
    limit, continue: text('continue'), jobStatuses,
  };
}

/** Sets the next page's token, when there is a next page. */
export function setNext(res: Response, next: string | undefined): void {
  if (next !== undefined) res.set(CONTINUE_HEADER, next);
}
