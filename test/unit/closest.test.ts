import assert from 'node:assert/strict';
import { closestName, editDistance } from '../../src/core/closest.js';

describe('closestName', () => {
  it('when names differ by an edit or a swap, counts one edit', () => {
    assert.equal(editDistance('paylod', 'payload'), 1);
    assert.equal(editDistance('paylaod', 'payload'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });

  it('when a known name is close, picks the nearest; when none is, picks none', () => {
    assert.equal(closestName('JOB_SCHEDULER_PROT', ['JOB_SCHEDULER_PORT', 'JOB_SCHEDULER_HOST']), 'JOB_SCHEDULER_PORT');
    assert.equal(closestName('limt', ['limit', 'limits']), 'limit');
    assert.equal(closestName('zzzzzz', ['payload', 'jobId']), undefined);
    assert.equal(closestName('ab', ['xy']), undefined);
  });
});
