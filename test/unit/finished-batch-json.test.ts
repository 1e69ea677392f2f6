import assert from 'node:assert/strict';
import type { JobRecord } from '../../src/core/model.js';
import { StoredJob } from '../../src/core/stored-job.js';
import { FinishedBatchJson } from '../../src/scheduler/finished-batch-json.js';
import type { BatchEntry } from '../../src/scheduler/state-index.js';

const source = { readJob: () => undefined, isPending: () => false };
const stored = (name: string) => StoredJob.of(source, {
  name, batchName: 'b', index: 0, status: 'Succeeded', attemptCount: 1, created: '2026-01-01T00:00:00.000Z', started: null, ended: null, updated: '2026-01-01T00:00:00.000Z',
})!;
const anEntry = (jobs: JobRecord[]) => ({ batch: { name: 'b', type: 'batch', created: '2026-01-01T00:00:00.000Z' }, jobs, counts: {}, started: null, updated: '' }) as unknown as BatchEntry;

describe('FinishedBatchJson', () => {
  it('when a batch of compact jobs is read again, answers the kept text without building it again', () => {
    const cache = new FinishedBatchJson(() => true);
    const entry = anEntry([stored('a'), stored('b')]);
    let builds = 0;
    const build = () => `["built ${++builds}"]`;
    assert.equal(cache.jobsJson(entry, build), '["built 1"]');
    assert.equal(cache.jobsJson(entry, build), '["built 1"]');
    assert.equal(builds, 1);
  });

  it('when a job of the batch was replaced, builds the text again', () => {
    const cache = new FinishedBatchJson(() => true);
    const entry = anEntry([stored('a'), stored('b')]);
    let builds = 0;
    const build = () => `["built ${++builds}"]`;
    cache.jobsJson(entry, build);
    entry.jobs[1] = stored('b');
    assert.equal(cache.jobsJson(entry, build), '["built 2"]');
  });

  it('when a job of the batch is not compact, keeps nothing and answers undefined', () => {
    const cache = new FinishedBatchJson(() => true);
    assert.equal(cache.jobsJson(anEntry([stored('a'), { name: 'live' } as JobRecord]), () => '[]'), undefined);
  });

  it('when a kept batch is no longer indexed, its text is let go', () => {
    let current = true;
    const cache = new FinishedBatchJson((entry) => current || entry.batch.name !== 'b');
    const entry = anEntry([stored('a')]);
    let builds = 0;
    cache.jobsJson(entry, () => `[${++builds}]`);
    current = false;
    cache.jobsJson(anEntry([stored('x')]), () => '[]');
    current = true;
    assert.equal(cache.jobsJson(entry, () => `[${++builds}]`), '[2]');
  });
});
