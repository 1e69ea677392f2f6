import assert from 'node:assert/strict';
import { buildBatch } from '../../src/core/accept.js';
import { ApiError } from '../../src/core/errors.js';
import type { BatchDescription } from '../../src/core/model.js';
import { checkBatchDescription, checkJobDescription } from '../../src/core/validate.js';
import { jobStatusView } from '../../src/core/view.js';

function fieldsOf(action: () => void): string[] {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, 422);
    return (error.fields ?? []).map((field) => field.path);
  }
  assert.fail('expected an ApiError');
}

function build(description: BatchDescription) {
  let n = 0;
  return buildBatch({
    componentName: 'compute', component: {}, description, type: 'batch', now: new Date('2026-11-22T10:15:00Z'),
    suffix: () => String(n++).padStart(8, '0'), taken: () => false,
  });
}

describe('priority', () => {
  it('when a priority is not an integer from -1000 to 1000, names the field', () => {
    assert.deepEqual(fieldsOf(() => checkJobDescription({ priority: 1001 })), ['priority']);
    assert.deepEqual(fieldsOf(() => checkJobDescription({ priority: 1.5 })), ['priority']);
    assert.deepEqual(fieldsOf(() => checkBatchDescription({ priority: -1001, jobScheduleDescriptions: [{}, { priority: '3' as unknown as number }] })), ['priority', 'jobScheduleDescriptions[1].priority']);
    assert.equal(checkJobDescription({ priority: -1000 }).priority, -1000);
    assert.equal(checkBatchDescription({ priority: 1000, jobScheduleDescriptions: [{}] }).priority, 1000);
  });

  it('when a batch gives a priority, its jobs have it unless they give their own (0 included)', () => {
    const { jobs } = build({ priority: 7, jobScheduleDescriptions: [{}, { priority: -3 }, { priority: 0 }] });
    assert.deepEqual(jobs.map(({ record }) => record.spec.priority), [7, -3, undefined]);
  });

  it('when nothing gives a priority, the spec and the answered state leave it out (the Radix shape)', () => {
    const { jobs } = build({ jobScheduleDescriptions: [{}, { priority: 2 }] });
    assert.equal('priority' in jobs[0]!.record.spec, false);
    assert.equal('priority' in jobStatusView(jobs[0]!.record, 'batch'), false);
    assert.equal(jobStatusView(jobs[1]!.record, 'batch').priority, 2);
  });
});
