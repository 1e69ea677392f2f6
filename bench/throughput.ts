// Local throughput: trivial jobs (/bin/true), 2 at a time, from the POST to the batch's end, against the fair
// loop (bench/baselines/spawn-loop.mjs) in a fresh small process doing the same per-job work, interleaved.
// Beside the rates, CPU per job (user + system): the service's and its spawner's against the loop's, which a busy
// machine disturbs less than it does the rates.
import { readdirSync, readFileSync } from 'node:fs';
import { cpuMsOf, firstMessage, fmt, forkProcess, getJson, median, post, type Row, sleep, startService } from './harness.js';

export interface ThroughputOptions {
  jobs: number;
  rounds: number;
  /** A data directory holding jobs already (kept); an empty store otherwise. */
  dataDir?: string;
  /** What the row calls the store it ran on. */
  store: string;
}

interface Run { jobsPerSecond: number; cpuUsPerJob: number; spawnerCpuUsPerJob?: number }

async function fairLoop(jobs: number, concurrency: number): Promise<Run> {
  const child = forkProcess('baselines/spawn-loop.mjs', [String(jobs), String(concurrency)]);
  const { jobsPerSecond, cpuUs } = await firstMessage<{ jobsPerSecond: number; cpuUs: number }>(child);
  return { jobsPerSecond, cpuUsPerJob: cpuUs / jobs };
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

/** The service's own children (its spawner): it started them, so they are read from its /proc entry, not searched for. */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}

async function ours(options: ThroughputOptions): Promise<Run> {
  const service = await startService({
    command: ['/bin/true'], dataDir: options.dataDir,
    env: { JOB_SCHEDULER_MAX_RUNNING: '2', JOB_SCHEDULER_MAX_TRACKED_JOBS: '1000000', JOB_SCHEDULER_MAX_BATCH_JOBS: '100000' },
  });
  try {
    const payload = 'x'.repeat(1024);
    const cpuBefore = cpuMsOf(service.pid);
    const started = performance.now();
    const body = JSON.stringify({ jobScheduleDescriptions: Array.from({ length: options.jobs }, () => ({ payload })) });
    const { name } = (await post(service.port, '/api/v1/batches', body)).json as { name: string };
    await untilBatchDone(service.port, name);
    const jobsPerSecond = options.jobs / ((performance.now() - started) / 1000);
    // The spawner starts with the first job, so all its CPU time is this batch's.
    const spawnerMs = childrenOf(service.pid).reduce((sum, pid) => sum + cpuMsOf(pid), 0);
    return { jobsPerSecond, cpuUsPerJob: ((cpuMsOf(service.pid) - cpuBefore) * 1000) / options.jobs, spawnerCpuUsPerJob: (spawnerMs * 1000) / options.jobs };
  } finally {
    await service.stop();
  }
}

export async function measureThroughput(options: ThroughputOptions): Promise<{ rows: Row[]; raw: unknown }> {
  const result = { ours: [] as Run[], loop: [] as Run[] };
  for (let round = 0; round < options.rounds; round++) {
    result.ours.push(await ours(options));
    result.loop.push(await fairLoop(options.jobs, 2));
  }
  const rate = (runs: Run[]) => runs.map((run) => run.jobsPerSecond);
  // Each round's ratio pairs two runs made one after the other: this machine's speed drifts over minutes (the same
  // loop used 2.2 and 5 ms of CPU per job in runs minutes apart), so rates from different rounds are not compared.
  const ratios = result.ours.map((run, round) => run.jobsPerSecond / result.loop[round]!.jobsPerSecond);
  const ratio = median(ratios);
  const cpu = (runs: Run[], of: (run: Run) => number) => median(runs.map(of)).toFixed(0);
  return {
    rows: [{
      scenario: 'local throughput', measure: `${options.jobs} jobs of /bin/true, 2 at a time, jobs/s, ${options.store}`,
      ours: `${fmt(rate(result.ours))}; CPU/job ${cpu(result.ours, (run) => run.cpuUsPerJob)} µs + spawner ${cpu(result.ours, (run) => run.spawnerCpuUsPerJob ?? 0)} µs`,
      baseline: `fair loop ${fmt(rate(result.loop))}; CPU/job ${cpu(result.loop, (run) => run.cpuUsPerJob)} µs`,
      ratio: ratios.length > 1 ? `${ratio.toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')})` : ratio.toFixed(2),
      target: '>= 0.8 of fair loop', met: ratio >= 0.8,
    }],
    raw: result,
  };
}
