import { createRequire } from 'node:module';
import path from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** What express-openapi-validator's metadata middleware puts on a request it matched to a documented route. */
interface OpenApiMetadata {
  expressRoute: string;
  openApiRoute: string;
  pathParams: Record<string, string>;
  schema: unknown;
  serial: number;
  _responseSchema?: unknown;
}

type MetadataRequest = Request & { openapi?: OpenApiMetadata };
interface ValidatorPrototype {
  metadataMiddleware(context: unknown, responseApiDoc: unknown): RequestHandler;
}

/** Static routes times methods: a few dozen. Past this (case variants of a path), lookups are not remembered. */
const MOST_ENTRIES = 200;
const installed = Symbol.for('job-scheduler.metadata-cache');

/**
 * express-openapi-validator (5.6) finds a request's route by trying every documented path in turn (most specific
 * first, so `/api/v1/jobs` comes after every `/api/v1/jobs/...`), testing two app settings and building an object
 * for each: 2-3 % of a profile of `POST /jobs`. For a path without parameters the answer depends on the method and
 * the path only, so it is remembered: later requests get the same metadata, in objects of their own. Paths with
 * parameters (one per job name), refusals (404, 405) and ignored paths go the library's way every time.
 */
export function cacheStaticRouteLookups(): void {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('express-openapi-validator'));
  let prototype: (ValidatorPrototype & { [installed]?: true }) | undefined;
  try {
    prototype = (require(path.join(dist, 'openapi.validator.js')) as { OpenApiValidator?: { prototype: ValidatorPrototype } }).OpenApiValidator?.prototype;
  } catch {
    return; // A version that moved its internals does its own lookups, as before.
  }
  if (!prototype || prototype[installed] || typeof prototype.metadataMiddleware !== 'function') return;
  const original = prototype.metadataMiddleware;
  prototype.metadataMiddleware = function (this: ValidatorPrototype, context: unknown, responseApiDoc: unknown): RequestHandler {
    const lookUp = original.call(this, context, responseApiDoc);
    const known = new Map<string, Map<string, OpenApiMetadata>>();
    let entries = 0;
    return (req: MetadataRequest, res: Response, next: NextFunction) => {
      const url = req.originalUrl;
      const query = url.indexOf('?');
      const routePath = query < 0 ? url : url.slice(0, query);
      const found = known.get(req.method)?.get(routePath);
      if (found) {
        const openapi: OpenApiMetadata = { ...found, pathParams: {} };
        req.openapi = openapi;
        req.params = openapi.pathParams;
        next();
        return;
      }
      return lookUp(req, res, (error?: unknown) => {
        const matched = req.openapi;
        if (error === undefined && matched && Object.keys(matched.pathParams).length === 0 && entries < MOST_ENTRIES) {
          let byPath = known.get(req.method);
          if (!byPath) known.set(req.method, (byPath = new Map()));
          byPath.set(routePath, { ...matched });
          entries++;
        }
        next(error as Error);
      });
    };
  };
  prototype[installed] = true;
}
