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
  const cache = new Map<string, unknown>();
  compiler.pathToRegexp = (path, options = {}) => {
    if (typeof path !== 'string') return compile(path, options);
    const key = `${options.sensitive ? 's' : ''}${options.strict ? 't' : ''}${options.end === false ? 'e' : ''}${options.trailing === false ? 'r' : ''}${options.delimiter ?? ''} ${path}`;
    let compiled = cache.get(key);
    if (compiled === undefined) {
      compiled = compile(path, options);
      if (cache.size < MOST_ROUTES) cache.set(key, compiled);
    }
    return compiled;
  };
  compiler[installed] = true;
}
