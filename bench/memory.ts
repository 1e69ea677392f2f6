// RSS growth of the in-memory index holding 100,000 finished jobs (run with --expose-gc).
import { mergeJobSpec } from '../src/core/merge.js';
import type { JobRecord } from '../src/core/model.js';
import { StateIndex } from '../src/scheduler/state-index.js';

const jobs = Number(process.argv[2] ?? 100_000);
const perBatch = 1000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const settle = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().rss;
};
const index = new StateIndex(undefined);
const before = settle();
const spec = mergeJobSpec({ command: ['/bin/true'] }, undefined, {});
const stamp = (ms: number) => new Date(Date.UTC(2026, 10, 23) + ms).toISOString();
for (let b = 0; b < jobs / perBatch; b++) {
  const batchName = `batch-bench-20261123000000-${String(b).padStart(8, '0')}`;
  const records: JobRecord[] = [];
  for (let i = 0; i < perBatch; i++) {
    const name = `${batchName}-${String(i).padStart(8, '0')}`;
    records.push({
      name, batchName, index: i, jobId: `job-${i}`, spec, status: 'Succeeded',
      created: stamp(b), started: stamp(b + 1), ended: stamp(b + 2), updated: stamp(b + 2), message: null, failed: 0,
      attempts: [{ name: `${name}-0`, created: stamp(b + 1), startTime: stamp(b + 1), endTime: stamp(b + 2), exitCode: 0, reason: 'Completed', replicaStatus: 'Succeeded' }],
    });
  }
  index.addBatch({ name: batchName, type: 'batch', created: stamp(b) }, records);
}
const after = settle();
process.send?.({ jobs, rssGrowthBytes: after - before, bytesPerJob: (after - before) / jobs, heldBatches: [...index.allBatches()].length });
