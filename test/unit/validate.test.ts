import assert from 'node:assert/strict';
import { ApiError } from '../../src/core/errors.js';
import type { BatchDescription } from '../../src/core/model.js';
import { checkBatchDescription, checkJobDescription, unsafeKeyProblems } from '../../src/core/validate.js';

function fieldsOf(action: () => void): string[] {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ApiError);
    return (error.fields ?? []).map((field) => field.path);
  }
  assert.fail('expected an ApiError');
}

describe('checkJobDescription and checkBatchDescription: text', () => {
  it('when a NUL is in any string but the payload, names each such field', () => {
    const fields = fieldsOf(() => checkJobDescription({
      jobId: 'a\0', image: 'i\0', imageTagName: 't\0', node: { gpu: 'g\0' }, command: ['c\0'], args: ['a\0'], variables: { V: '\0' },
      resources: { limits: { 'cpu\0': '1' } },
    }));
    assert.deepEqual(fields.sort(), ['args[0]', 'command[0]', 'image', 'imageTagName', 'jobId', 'node.gpu', 'resources.limits.cpu\0', 'variables.V'].sort());
    assert.equal(checkJobDescription({ payload: 'bytes\0as they are' }).payload, 'bytes\0as they are');
  });

  it('when a batch has problems in its defaults and its jobs, names them all at once', () => {
    const batch: BatchDescription = { batchId: 'b\u0007', defaultRadixJobComponentConfig: { imageTagName: '\0' }, jobScheduleDescriptions: [{}, { jobId: 'x\ty' }] };
    assert.deepEqual(fieldsOf(() => checkBatchDescription(batch)), ['defaultRadixJobComponentConfig.imageTagName', 'batchId', 'jobScheduleDescriptions[1].jobId']);
  });

  it('when jobId or batchId is printable text, it is taken as it is', () => {
    const batch = checkBatchDescription({ batchId: 'Ωmega run #1', jobScheduleDescriptions: [{ jobId: 'job 1/2 — ok' }] });
    assert.equal(batch.jobScheduleDescriptions[0]?.jobId, 'job 1/2 — ok');
  });
});

describe('unsafeKeyProblems', () => {
  it('finds __proto__, constructor and prototype as own keys anywhere, and nothing in clean bodies', () => {
    const body = JSON.parse('{"variables": {"__proto__": "x"}, "jobScheduleDescriptions": [{}, {"node": {"constructor": "y"}}], "prototype": 1}') as unknown;
    assert.deepEqual(unsafeKeyProblems(body).map((p) => p.path), ['variables.__proto__', 'jobScheduleDescriptions[1].node.constructor', 'prototype']);
    assert.deepEqual(unsafeKeyProblems({ variables: { PROTO: '__proto__' }, payload: '{"__proto__": 1}' }), []);
  });

  it('stops after the first 20', () => {
    const body = { jobScheduleDescriptions: Array.from({ length: 1000 }, () => JSON.parse('{"__proto__": {}}') as unknown) };
    assert.equal(unsafeKeyProblems(body).length, 20);
  });
});
