// Memory per finished job through the real service: distinct jobs (ids, payloads, variables) run to their
// end, then every batch read once (which fills the JSON cache), then a restart on the same store. RSS after a
// full GC in the service (bench/servers/gc-hook.mjs), less the same service's on an empty store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { untilFinishedRead } from './finished-read.js';
import { getJson, post, type Row, startService, untilBatchDone } from './harness.js';

const PER_BATCH = 1000;
const settings = { JOB_SCHEDULER_MAX_RUNNING: '2', JOB_SCHEDULER_MAX_TRACKED_JOBS: '1000000' };

function batchBody(batch: number): string {
  const filler = 'p'.repeat(1000);
  return JSON.stringify({
    jobScheduleDescriptions: Array.from({ length: PER_BATCH }, (_, i) => ({
      jobId: `job-${batch}-${i}`,
      payload: `${batch}-${i}-${filler}`,
      variables: { INPUT: `input-${batch}-${i}`, ATTEMPT_NOTE: `n${(batch * PER_BATCH + i).toString(36)}` },
    })),
  });
}

export async function run(options: { quick: boolean }): Promise<{ rows: Row[]; raw: unknown }> {
  const jobs = options.quick ? 4_000 : 10_000;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-bench-memory-'));
  try {
    let service = await startService({ command: ['/bin/true'], dataDir, env: settings, memoryHook: true });
    const empty = await service.memory();
    const names: string[] = [];
    for (let b = 0; b < jobs / PER_BATCH; b++) names.push(((await post(service.port, '/api/v1/batches', batchBody(b))).json as { name: string }).name);
    for (const name of names) await untilBatchDone(service.port, name);
    const finished = await service.memory();
    for (const name of names) await getJson(service.port, `/api/v1/batches/${name}`);
    const read = await service.memory();
    await service.stop();
    service = await startService({ command: ['/bin/true'], dataDir, env: settings, memoryHook: true });
    // Finished batches are read after ready: measured once all are, with no request (as the empty store's figure).
    await untilFinishedRead(service);
    const restarted = await service.memory();
    await service.stop();
    const perJob = (m: NodeJS.MemoryUsage) => (m.rss - empty.rss) / jobs;
    const row = (when: string, m: NodeJS.MemoryUsage): Row => ({
      scenario: 'memory', measure: `RSS per finished job (${jobs} distinct jobs), ${when}, bytes`, ours: perJob(m).toFixed(0),
      baseline: `empty store ${(empty.rss / 2 ** 20).toFixed(0)} MiB; V8 heap ${((m.heapUsed - empty.heapUsed) / jobs).toFixed(0)} B/job`, ratio: '-', target: '<= 1024', met: perJob(m) <= 1024,
    });
    return {
      rows: [row('after they finished', finished), row('after every batch was read once', read), row('after a restart', restarted)],
      raw: { jobs, empty, finished, read, restarted, heapPerJob: { finished: (finished.heapUsed - empty.heapUsed) / jobs, read: (read.heapUsed - empty.heapUsed) / jobs, restarted: (restarted.heapUsed - empty.heapUsed) / jobs } },
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
