import assert from 'node:assert/strict';
import type { JobDescription } from '../../src/core/model.js';
import { isLoaderVariable, OVERRIDABLE_FIELDS, overridePolicy, overrideProblems } from '../../src/core/trust.js';

const everyField: JobDescription = {
  payload: 'p', jobId: 'j', timeLimitSeconds: 1, backoffLimit: 1, failurePolicy: { rules: [] }, resources: {}, node: {}, runtime: {},
  image: 'i', imageTagName: 't', variables: { A: '1' }, command: ['c'], args: ['a'],
};

const paths = (description: JobDescription, runtime: 'local' | 'kubernetes', allow?: Parameters<typeof overridePolicy>[1]) =>
  overrideProblems(description, overridePolicy(runtime, allow)).map((problem) => problem.path);

describe('overridePolicy and overrideProblems', () => {
  it('covers every field of a job description', () => {
    assert.deepEqual([...OVERRIDABLE_FIELDS].sort(), Object.keys(everyField).sort());
  });

  it('when the component says nothing, the local runtime refuses command, args and image, and takes the rest', () => {
    assert.deepEqual(paths(everyField, 'local'), ['image', 'command', 'args']);
  });

  it('when the component says nothing, the kubernetes runtime takes every field (the Radix default)', () => {
    assert.deepEqual(paths(everyField, 'kubernetes'), []);
    assert.deepEqual(paths({ variables: { LD_PRELOAD: 'x', PATH: '/x' } }, 'kubernetes'), []);
  });

  it('when the component lists allowOverrides, only those fields are taken, whatever the runtime', () => {
    for (const runtime of ['local', 'kubernetes'] as const) {
      assert.deepEqual(paths(everyField, runtime, ['payload', 'command']), OVERRIDABLE_FIELDS.filter((f) => f !== 'payload' && f !== 'command'));
    }
  });

  it('when variables are allowed but not loaderVariables, each loader variable is named', () => {
    const problems = overrideProblems({ variables: { SAFE: '1', LD_PRELOAD: 'x', NODE_OPTIONS: 'x' } }, overridePolicy('local'), 'defaultRadixJobComponentConfig.');
    assert.deepEqual(problems.map((p) => p.path), ['defaultRadixJobComponentConfig.variables.LD_PRELOAD', 'defaultRadixJobComponentConfig.variables.NODE_OPTIONS']);
    assert.match(problems[0]!.message, /add loaderVariables to an allowOverrides list in the component file/);
    assert.deepEqual(paths({ variables: { LD_PRELOAD: 'x' } }, 'local', ['variables', 'loaderVariables']), []);
    assert.deepEqual(paths({ variables: { LD_PRELOAD: 'x' } }, 'kubernetes', ['variables']), ['variables.LD_PRELOAD']);
  });

  it('when imageTagName is not allowed, the Radix guide spelling under resources is refused too', () => {
    assert.deepEqual(paths({ resources: { imageTagName: 't' } as never }, 'local', ['resources']), ['resources.imageTagName']);
    assert.deepEqual(paths({ resources: { imageTagName: 't' } as never }, 'local', ['resources', 'imageTagName']), []);
  });

  const loader: Array<[string, boolean]> = [
    ['LD_PRELOAD', true], ['LD_LIBRARY_PATH', true], ['LD_AUDIT', true], ['DYLD_INSERT_LIBRARIES', true], ['GLIBC_TUNABLES', true],
    ['PATH', true], ['NODE_OPTIONS', true], ['NODE_PATH', true], ['PYTHONPATH', true], ['PYTHONSTARTUP', true], ['PERL5OPT', true],
    ['RUBYOPT', true], ['JAVA_TOOL_OPTIONS', true], ['BASH_ENV', true], ['ENV', true], ['IFS', true], ['LUA_INIT_5_4', true],
    ['GREETING', false], ['LOAD', false], ['PATHS', false], ['ld_preload', false], ['NODE_ENV', false], ['HOME', false],
  ];
  for (const [name, expected] of loader) {
    it(`isLoaderVariable(${name}) is ${expected}`, () => assert.equal(isLoaderVariable(name), expected));
  }
});
