import assert from 'node:assert/strict';
import type { NewBatch } from '../../src/core/model.js';
import { silentLogger } from '../../src/logger.js';
import type { Runtime } from '../../src/runtimes/runtime.js';
import { Admission } from '../../src/scheduler/admission.js';
import { ReadModel } from '../../src/scheduler/read-model.js';

/** A runtime that records what it is given; `accept` is all admission asks of it. */
function recordingRuntime() {
  const accepted: NewBatch[] = [];
  return { accepted, runtime: { accept: async (batch: NewBatch) => void accepted.push(batch) } as unknown as Runtime };
}

describe('admission of a large batch', () => {
  const JOBS = 4_500; // more than two parts of the index's additions

  it('indexes every job, in order, with the batch answered only once all are in', async () => {
    const reads = new ReadModel(undefined);
    const { accepted, runtime } = recordingRuntime();
    const admission = new Admission({ componentName: 'compute', componentSettings: {}, runtime, reads, logger: silentLogger(), now: () => new Date('2026-01-01T00:00:00Z') });
    const description = { jobScheduleDescriptions: Array.from({ length: JOBS }, (_, i) => ({ jobId: `j${i}` })) };
    const entry = await admission.accept(description, 'batch');
    assert.equal(accepted.length, 1);
    assert.equal(entry.jobs.length, JOBS);
    assert.deepEqual(entry.jobs.map((job) => job.jobId), description.jobScheduleDescriptions.map((job) => job.jobId));
    assert.deepEqual(entry.jobs.map((job) => job.index), [...Array(JOBS).keys()]);
    assert.equal(entry.counts.Waiting, JOBS);
    assert.equal(reads.index.jobCount, JOBS);
    for (const job of [entry.jobs[0]!, entry.jobs[2_500]!, entry.jobs[JOBS - 1]!]) assert.equal(reads.index.job(job.name)?.job, job);
  });

  it('when the batch is removed while its jobs are being indexed, adds no more of them', async () => {
    const reads = new ReadModel(undefined);
    const { runtime } = recordingRuntime();
    const admission = new Admission({ componentName: 'compute', componentSettings: {}, runtime, reads, logger: silentLogger(), now: () => new Date('2026-01-01T00:00:00Z') });
    const accepting = admission.accept({ jobScheduleDescriptions: Array.from({ length: JOBS }, () => ({})) }, 'batch');
    // Remove the batch as soon as it shows in the index (a client deleting it from a listing).
    let removed: string | undefined;
    while (!removed) {
      await new Promise((resolve) => setImmediate(resolve));
      const [entry] = reads.index.allBatches();
      if (entry) {
        removed = entry.batch.name;
        reads.index.removeBatch(removed);
      }
    }
    const entry = await accepting;
    assert.ok(entry.jobs.length < JOBS, `indexing stopped at ${entry.jobs.length}`);
    assert.equal(reads.index.jobCount, 0, 'no job of a removed batch stays indexed');
  });
});
