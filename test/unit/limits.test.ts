import assert from 'node:assert/strict';
import { ApiError } from '../../src/core/errors.js';
import { checkBatchSize, checkTrackedJobs, DEFAULT_LIMITS, EMPTY_EXEC_SIZE, execProblems, overlayExecSize } from '../../src/core/limits.js';
import type { JobSettings } from '../../src/core/model.js';

const limits = { ...DEFAULT_LIMITS, maxVariables: 3, maxVariableBytes: 16, maxExecBytes: 64 };

function thrown(action: () => void): ApiError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ApiError);
    return error;
  }
  assert.fail('expected an ApiError');
}

function sizeOf(...layers: Array<JobSettings | undefined>) {
  return layers.reduce((size, layer) => overlayExecSize(size, layer), EMPTY_EXEC_SIZE);
}

describe('request limits', () => {
  it('checkBatchSize refuses one job over the bound with 413 naming the setting', () => {
    checkBatchSize(10_000, DEFAULT_LIMITS);
    const error = thrown(() => checkBatchSize(10_001, DEFAULT_LIMITS));
    assert.equal(error.code, 413);
    assert.match(error.message, /JOB_SCHEDULER_MAX_BATCH_JOBS/);
  });

  it('checkTrackedJobs refuses what would go over the bound with 429 and Retry-After', () => {
    checkTrackedJobs(99_990, 10, DEFAULT_LIMITS, 60);
    const error = thrown(() => checkTrackedJobs(99_990, 11, DEFAULT_LIMITS, 60));
    assert.equal(error.code, 429);
    assert.equal(error.reason, 'TooManyRequests');
    assert.equal(error.retryAfterSeconds, 60);
  });

  it('overlayExecSize counts variables key by key and command and args whole, as the merge does', () => {
    const size = sizeOf({ variables: { A: '1', B: '22' }, command: ['run'], args: ['x'] }, { variables: { B: '3' } }, { args: ['yy', 'z'] });
    assert.equal(size.variables.size, 2);
    assert.equal(size.variableBytes, 'A=1\0'.length + 'B=3\0'.length);
    assert.equal(size.argvBytes, 'run\0yy\0z\0'.length);
  });

  it('when a layer brings a string over maxVariableBytes (counted as NAME=value with its NUL), names it', () => {
    const layer = { variables: { OK: 'x'.repeat(12), BIG: 'x'.repeat(12) }, args: ['y'.repeat(16)] };
    const problems = execProblems(layer, sizeOf(layer), { ...limits, maxExecBytes: 1000 }, 'jobScheduleDescriptions[2].');
    assert.deepEqual(problems.map((p) => p.path), ['jobScheduleDescriptions[2].variables.BIG', 'jobScheduleDescriptions[2].args[0]']);
  });

  it('when a layer makes the merged variables too many, names the layer; inherited variables count', () => {
    const inherited = { variables: { A: '1', B: '1' } };
    assert.deepEqual(execProblems({ variables: { A: '2' } }, sizeOf(inherited, { variables: { A: '2' } }), limits, ''), []);
    const problems = execProblems({ variables: { C: '1', D: '1' } }, sizeOf(inherited, { variables: { C: '1', D: '1' } }), limits, '');
    assert.deepEqual(problems.map((p) => p.path), ['variables']);
    assert.match(problems[0]!.message, /4 variables .*at most 3 .*JOB_SCHEDULER_MAX_VARIABLES/);
  });

  it('when command, args and variables together pass maxExecBytes, names the job; a job adding nothing is not blamed', () => {
    const inherited = { command: ['x'.repeat(14)], variables: { A: 'x'.repeat(10), B: 'x'.repeat(10) } };
    const job = { args: ['y'.repeat(14)] };
    // 15 + 15 bytes of argv and 13 + 13 of variables: 56, over 50.
    const problems = execProblems(job, sizeOf(inherited, job), { ...limits, maxExecBytes: 50 }, 'jobScheduleDescriptions[0].');
    assert.deepEqual(problems.map((p) => p.path), ['jobScheduleDescriptions[0]']);
    assert.match(problems[0]!.message, /JOB_SCHEDULER_MAX_EXEC_BYTES/);
    assert.deepEqual(execProblems({ payload: 'p' } as JobSettings, sizeOf(inherited, job), { ...limits, maxExecBytes: 50 }, ''), []);
  });
});
