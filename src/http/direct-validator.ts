import { createRequire } from 'node:module';
import path from 'node:path';
import type { RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { chain } from './chain.js';

type ValidatorOptions = Parameters<typeof OpenApiValidator.middleware>[0];

/** The factories of express-openapi-validator (5.6) whose middleware run on every request, in the library's order. */
const FACTORIES = ['metadataMiddleware', 'securityMiddleware', 'multipartMiddleware', 'requestValidationMiddleware', 'responseValidationMiddleware'] as const;
type Factory = (typeof FACTORIES)[number];

interface ValidatorInstance {
  options: { validateSecurity?: unknown; fileUploader?: unknown; validateRequests?: unknown; validateResponses?: unknown; operationHandlers?: unknown };
}

/** The middleware each validator instance has made so far, by the factory that made it. */
const made = new WeakMap<object, Partial<Record<Factory, RequestHandler>>>();
const installed = Symbol.for('job-scheduler.direct-validator');

/**
 * express-openapi-validator's middleware, as one handler. The library gives four or five middleware that each wait
 * for its loaded document (`pContext.then(...)`) on every request before calling the middleware it made from it
 * at the first request: two promises and a turn of the microtask queue each, every one of them seen by the
 * request id's async context. Once the library has made every middleware a request goes through, they are called
 * in the library's order without the wait; until then (and for options this does not know to be the same without
 * it: security handlers, operation handlers) the library's own middleware run.
 */
export function openApiValidation(options: ValidatorOptions): RequestHandler {
  recordMadeMiddleware();
  const library = OpenApiValidator.middleware(options);
  const instance = (OpenApiValidator.middleware as { _oav?: ValidatorInstance })._oav;
  const viaLibrary = chain(...library);
  const needed = instance ? factoriesUsed(instance) : undefined;
  if (!instance || !needed) return viaLibrary;
  let direct: RequestHandler | undefined;
  return (req, res, next) => {
    if (direct) return direct(req, res, next);
    const middleware = made.get(instance);
    // The metadata middleware is made after the library set its path parameters up, in the same request.
    if (middleware && needed.every((factory) => middleware[factory] !== undefined)) {
      direct = chain(...needed.map((factory) => middleware[factory]!));
      return direct(req, res, next);
    }
    return viaLibrary(req, res, next);
  };
}

/** Which factories' middleware a request goes through with these options; undefined when not only those. */
function factoriesUsed({ options }: ValidatorInstance): Factory[] | undefined {
  // With security handlers the library decides per request whether to check; operation handlers add a router.
  if (options.validateSecurity || options.operationHandlers) return undefined;
  return FACTORIES.filter((factory) => {
    if (factory === 'securityMiddleware') return false;
    if (factory === 'multipartMiddleware') return Boolean(options.fileUploader);
    if (factory === 'requestValidationMiddleware') return Boolean(options.validateRequests);
    if (factory === 'responseValidationMiddleware') return Boolean(options.validateResponses);
    return true;
  });
}

/** Has the library's factories remember, per validator instance, the middleware they made. */
function recordMadeMiddleware(): void {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('express-openapi-validator'));
  let prototype: (Record<Factory, (...args: unknown[]) => RequestHandler> & { [installed]?: true }) | undefined;
  try {
    prototype = (require(path.join(dist, 'openapi.validator.js')) as { OpenApiValidator?: { prototype: typeof prototype } }).OpenApiValidator?.prototype;
  } catch {
    return; // A version that moved its internals keeps its own middleware: nothing is recorded, the library's run.
  }
  if (!prototype || prototype[installed] || !FACTORIES.every((factory) => typeof prototype[factory] === 'function')) return;
  for (const factory of FACTORIES) {
    const original = prototype[factory];
    prototype[factory] = function (this: object, ...args: unknown[]) {
      const middleware = original.apply(this, args);
      let byFactory = made.get(this);
      if (!byFactory) made.set(this, (byFactory = {}));
      byFactory[factory] = middleware;
      return middleware;
    };
  }
  prototype[installed] = true;
}
