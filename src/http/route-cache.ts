import { createRequire } from 'node:module';

type PathToRegexp = (path: unknown, options?: { sensitive?: boolean; strict?: boolean; end?: boolean; trailing?: boolean; delimiter?: string }) => unknown;

/** Routes come from the API document: a few dozen. Past this, calls are passed through uncached. */
const MOST_ROUTES = 1000;
const installed = Symbol.for('job-scheduler.route-cache');

/**
 * express-openapi-validator (5.6) looks a request's route up by compiling every documented path with
 * path-to-regexp again, on every request: 7.8 % of the samples of a profile of `POST /jobs`. Compiling is a
 * pure function of the path and the options, so the path-to-regexp instance the validator requires is given a
 * cache in front of it; the regexps it answers carry no state between uses (no `g` or `y` flag). The router of
 * Express uses `match` of the same package, which is left alone.
 */
export function cacheValidatorRoutes(): void {
  const fromValidator = createRequire(createRequire(import.meta.url).resolve('express-openapi-validator'));
  const compiler = fromValidator('path-to-regexp') as { pathToRegexp: PathToRegexp; [installed]?: true };
  if (compiler[installed]) return;
  const compile = compiler.pathToRegexp;
  // One map per combination of the boolean options, indexed by their bits: a lookup builds no key string (the
  // validator calls this for each documented path on every request). A `delimiter` is passed through uncached.
  const caches: Array<Map<string, unknown> | undefined> = [];
  let size = 0;
  compiler.pathToRegexp = (path, options = {}) => {
    if (typeof path !== 'string' || options.delimiter !== undefined) return compile(path, options);
    const flags = (options.sensitive ? 1 : 0) | (options.strict ? 2 : 0) | (options.end === false ? 4 : 0) | (options.trailing === false ? 8 : 0);
    const cache = (caches[flags] ??= new Map());
    let compiled = cache.get(path);
    if (compiled === undefined) {
      compiled = compile(path, options);
      if (size < MOST_ROUTES) {
        cache.set(path, compiled);
        size++;
      }
    }
    return compiled;
  };
  compiler[installed] = true;
}
