// Local throughput: trivial jobs (/bin/true), 2 at a time, from the POST to the batch's end, against the fair
// loop (bench/baselines/spawn-loop.mjs) in a fresh small process doing the same per-job work, interleaved.
import { firstMessage, fmt, forkProcess, getJson, median, post, type Row, sleep, startService } from './harness.js';

export interface ThroughputOptions {
  jobs: number;
  rounds: number;
  /** A data directory holding jobs already (kept); an empty store otherwise. */
  dataDir?: string;
  /** What the row calls the store it ran on. */
  store: string;
}

async function fairLoop(jobs: number, concurrency: number): Promise<number> {
  const child = forkProcess('baselines/spawn-loop.mjs', [String(jobs), String(concurrency)]);
  return (await firstMessage<{ jobsPerSecond: number }>(child)).jobsPerSecond;
}

/**
 * Polls the batch's counts only (`jobStatuses=false`, the documented way to follow a large batch): reading every
 * job's status 20 times a second would cost the service more than the jobs (about 1 ms per job at 1,000 jobs).
 */
async function untilBatchDone(port: number, name: string): Promise<void> {
  for (;;) {
    const batch = await getJson<{ status: string }>(port, `/api/v1/batches/${name}?jobStatuses=false`);
    if (['Succeeded', 'Failed', 'Stopped'].includes(batch.status)) return;
    await sleep(50);
  }
}

async function ours(options: ThroughputOptions): Promise<number> {
  const service = await startService({
    command: ['/bin/true'], dataDir: options.dataDir,
    env: { JOB_SCHEDULER_MAX_RUNNING: '2', JOB_SCHEDULER_MAX_TRACKED_JOBS: '1000000', JOB_SCHEDULER_MAX_BATCH_JOBS: '100000' },
  });
  try {
    const payload = 'x'.repeat(1024);
    const started = performance.now();
    const body = JSON.stringify({ jobScheduleDescriptions: Array.from({ length: options.jobs }, () => ({ payload })) });
    const { name } = (await post(service.port, '/api/v1/batches', body)).json as { name: string };
    await untilBatchDone(service.port, name);
    return options.jobs / ((performance.now() - started) / 1000);
  } finally {
    await service.stop();
  }
}

export async function measureThroughput(options: ThroughputOptions): Promise<{ rows: Row[]; raw: unknown }> {
  const result = { ours: [] as number[], loop: [] as number[] };
  for (let round = 0; round < options.rounds; round++) {
    result.ours.push(await ours(options));
    result.loop.push(await fairLoop(options.jobs, 2));
  }
  const ratio = median(result.ours) / median(result.loop);
  return {
    rows: [{
      scenario: 'local throughput', measure: `${options.jobs} jobs of /bin/true, 2 at a time, jobs/s, ${options.store}`,
      ours: fmt(result.ours), baseline: `fair loop ${fmt(result.loop)}`, ratio: ratio.toFixed(2), target: '>= 0.8 of fair loop', met: ratio >= 0.8,
    }],
    raw: result,
  };
}
