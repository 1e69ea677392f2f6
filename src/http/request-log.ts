import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Histogram } from 'prom-client';
import type { Logger } from '../logger.js';
import { requestContext } from '../request-context.js';

/** A client's id is kept when it is short and printable; anything else is replaced, never logged. */
const ACCEPTABLE_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * Gives each request an id (the client's `X-Request-Id`, or a new one), echoes it back, puts it on
 * every log line written while serving it, and writes one access line when the answer is sent.
 * Only the method, the route path and the status are logged: never bodies, never headers.
 * With `durations`, the same answer is also observed there, by method, route and status code: one listener
 * and one clock reading per request serve both.
 */
export function requestLog(logger: Logger, durations?: Histogram<'method' | 'route' | 'code'>): RequestHandler {
  return (req, res, next) => {
    const offered = req.get('x-request-id');
    const requestId = offered && ACCEPTABLE_ID.test(offered) ? offered : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    // Read now: a mounted router has made `req.path` relative to its mount point by the time the answer is sent.
    const path = req.path;
    res.on('finish', () => {
      const durationNs = process.hrtime.bigint() - started;
      const durationMs = Number(durationNs) / 1e6;
      const fields = { requestId, method: req.method, path, status: res.statusCode, durationMs: Math.round(durationMs * 100) / 100 };
      if (res.statusCode >= 500) logger.error('request', fields);
      else logger.info('request', fields);
      if (durations) {
        // The validator names the API route (`/api/v1/jobs/{jobName}`) even when a handler failed; other routes are plain paths.
        const openApiRoute = (req as { openapi?: { openApiRoute?: string } }).openapi?.openApiRoute;
        const route = openApiRoute ?? (req.route?.path as string | undefined) ?? 'unmatched';
        durations.observe({ method: req.method, route, code: String(res.statusCode) }, Number(durationNs) / 1e9);
      }
    });
    requestContext.run({ requestId }, next);
  };
}
