import assert from 'node:assert/strict';
import { expiredBatches, type FinishedBatch } from '../../src/core/history.js';

const now = new Date('2026-11-23T12:00:00Z');
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3600_000).toISOString();
const a = (name: string, type: 'job' | 'batch', status: string, hours: number): FinishedBatch => ({ name, type, status, ended: hoursAgo(hours) });

describe('expiredBatches', () => {
  const finished = [
    a('job-ok-1', 'job', 'Succeeded', 1),
    a('job-ok-2', 'job', 'Succeeded', 30),
    a('job-ok-3', 'job', 'Succeeded', 50),
    a('job-bad-1', 'job', 'Failed', 40),
    a('job-bad-2', 'job', 'Stopped', 45),
    a('batch-ok-1', 'batch', 'Succeeded', 100),
    a('batch-bad-1', 'batch', 'Failed', 90),
    a('batch-bad-2', 'batch', 'Failed', 95),
  ];

  it('when batches are older than the age, all but the newest of each category go', () => {
    assert.deepEqual(expiredBatches(finished, { maxAgeMs: 24 * 3600_000, keep: 1 }, now).sort(), ['batch-bad-2', 'job-bad-2', 'job-ok-2', 'job-ok-3']);
  });

  it('when keep is 0, everything older than the age goes, and nothing newer', () => {
    assert.deepEqual(expiredBatches(finished, { maxAgeMs: 46 * 3600_000, keep: 0 }, now).sort(), ['batch-bad-1', 'batch-bad-2', 'batch-ok-1', 'job-ok-3']);
  });

  it('when keep covers every category, nothing goes', () => {
    assert.deepEqual(expiredBatches(finished, { maxAgeMs: 0, keep: 3 }, now), []);
  });

  it('when Stopped and Failed are both not succeeded, they share one category', () => {
    assert.deepEqual(expiredBatches([a('x', 'job', 'Stopped', 10), a('y', 'job', 'Failed', 20)], { maxAgeMs: 0, keep: 1 }, now), ['y']);
  });
});
