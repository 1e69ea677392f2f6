import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { cacheValidatorRoutes } from '../../src/http/route-cache.js';

type Compiled = { regexp: RegExp; keys: Array<{ name: string }> };
/** The path-to-regexp instance express-openapi-validator itself requires. */
const validatorCompiler = () => createRequire(createRequire(import.meta.url).resolve('express-openapi-validator'))('path-to-regexp') as {
  pathToRegexp: (path: string, options?: object) => Compiled;
};

describe('the route cache in front of the validator', () => {
  before(() => cacheValidatorRoutes());

  it('answers the same compiled route for the same path and options, and matches as before', () => {
    const { pathToRegexp } = validatorCompiler();
    const first = pathToRegexp('/api/v1/jobs/:jobName', { sensitive: false, strict: false });
    assert.equal(pathToRegexp('/api/v1/jobs/:jobName', { sensitive: false, strict: false }), first);
    assert.deepEqual(first.regexp.exec('/api/v1/jobs/batch-a-b')?.slice(1), ['batch-a-b']);
    assert.deepEqual(first.keys.map((key) => key.name), ['jobName']);
  });

  it('keeps routes compiled with different options apart', () => {
    const { pathToRegexp } = validatorCompiler();
    const insensitive = pathToRegexp('/api/v1/Batches', { sensitive: false });
    const sensitive = pathToRegexp('/api/v1/Batches', { sensitive: true });
    assert.notEqual(insensitive, sensitive);
    assert.ok(insensitive.regexp.test('/api/v1/batches'));
    assert.ok(!sensitive.regexp.test('/api/v1/batches'));
  });

  it('keeps routes compiled with and without an end apart, and passes a delimiter through', () => {
    const { pathToRegexp } = validatorCompiler();
    const whole = pathToRegexp('/api/v1/jobs', {});
    const prefix = pathToRegexp('/api/v1/jobs', { end: false });
    assert.equal(pathToRegexp('/api/v1/jobs', { end: false }), prefix);
    assert.ok(!whole.regexp.test('/api/v1/jobs/x'));
    assert.ok(prefix.regexp.test('/api/v1/jobs/x'));
    assert.notEqual(pathToRegexp('/api/v1/jobs', { delimiter: '.' }), pathToRegexp('/api/v1/jobs', { delimiter: '.' }));
  });

  it('when installed twice, wraps the compiler once', () => {
    const before = validatorCompiler().pathToRegexp;
    cacheValidatorRoutes();
    assert.equal(validatorCompiler().pathToRegexp, before);
  });
});
