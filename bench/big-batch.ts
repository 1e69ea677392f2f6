// 100,000 jobs x 1 KiB in one batch: answer time, the longest event-loop stall while it is taken (a ping
// every 10 ms from another process), peak RSS growth per job; then, on the store this leaves (100,000
// finished jobs), start-up time to ready, memory per stored job after the restart, and local throughput.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { untilFinishedRead } from './finished-read.js';
import { type Baseline, firstMessage, fmt, forkProcess, getJson, median, post, resetPeak, rssOf, type Row, type ServiceProcess, startBaseline, startService, untilBatchDone } from './harness.js';
import { measureThroughput } from './throughput.js';

const JOBS = 100_000;
// A 100 MiB request on a busy 2-core machine may take longer than the default request timeout (60 s).
const settings = {
  JOB_SCHEDULER_MAX_BATCH_JOBS: String(JOBS), JOB_SCHEDULER_MAX_TRACKED_JOBS: '1000000', JOB_SCHEDULER_MAX_REQUEST_BYTES: String(256 * 1024 * 1024),
  JOB_SCHEDULER_REQUEST_TIMEOUT_SECONDS: '600',
};

const filler = 'x'.repeat(1000);
/** Distinct jobs: each its own id and payload. */
const jobAt = (i: number) => ({ jobId: `job-${i}`, payload: `${String(i).padStart(24, '0')}${filler}` });

export function bigBatchBody(jobs: number): string {
  return JSON.stringify({ jobScheduleDescriptions: Array.from({ length: jobs }, (_, i) => jobAt(i)) });
}

/** The same jobs streamed: the batch's own fields on the first line, one job per line after. */
export function bigBatchLines(jobs: number): string {
  return `{}\n${Array.from({ length: jobs }, (_, i) => JSON.stringify(jobAt(i))).join('\n')}\n`;
}

interface Submission { answeredMs: number; longestStallMs: number; peakGrowthBytes: number; name: string }

async function submit(server: { port: number; pid: number }, body: string, contentType = 'application/json'): Promise<Submission> {
  const pinger = forkProcess('baselines/pinger.mjs', [`http://127.0.0.1:${server.port}/healthz`]);
  await firstMessage(pinger);
  resetPeak(server.pid);
  const before = rssOf(server.pid).rss;
  const answer = await post(server.port, '/api/v1/batches', body, contentType);
  const peak = rssOf(server.pid).peak;
  const result = firstMessage<{ longestMs: number }>(pinger);
  pinger.send('stop');
  const { longestMs } = await result;
  return { answeredMs: answer.ms, longestStallMs: longestMs, peakGrowthBytes: peak - before, name: (answer.json as { name: string }).name };
}

export async function run(options: { quick: boolean; rounds: number }): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-bench-store-'));
  try {
    // One JSON body (as Radix clients send it) to a service of its own, against the stack taking the same body;
    // then the same jobs streamed as application/x-ndjson to the service whose store the next rows use.
    const body = bigBatchBody(JOBS);
    const jsonService = await startService({ env: { ...settings, JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const json = await submit(jsonService, body);
    await jsonService.stop();
    const stack: Baseline = await startBaseline('servers/stack.ts');
    const theirs = await submit(stack, body);
    await stack.stop();
    const service = await startService({ dataDir, env: { ...settings, JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const ours = await submit(service, bigBatchLines(JOBS), 'application/x-ndjson');
    // Every job ends (stopped before it ran): the store then holds 100,000 finished jobs.
    await post(service.port, `/api/v1/batches/${ours.name}/stop`, '');
    await untilBatchDone(service.port, ours.name);
    await service.stop();
    const rows: Row[] = [];
    for (const [how, mine] of [['ndjson', ours], ['JSON', json]] as const) {
      rows.push(
        { scenario: 'big batch', measure: `100,000 x 1 KiB as ${how}: answered, ms`, ours: mine.answeredMs.toFixed(0), baseline: `stack, JSON ${theirs.answeredMs.toFixed(0)}`, ratio: (mine.answeredMs / theirs.answeredMs).toFixed(2), target: '<= 2500 ms', met: mine.answeredMs <= 2500 },
        { scenario: 'big batch', measure: `100,000 x 1 KiB as ${how}: longest event-loop stall, ms`, ours: mine.longestStallMs.toFixed(0), baseline: `stack, JSON ${theirs.longestStallMs.toFixed(0)}`, ratio: (mine.longestStallMs / theirs.longestStallMs).toFixed(2), target: '<= 100 ms', met: mine.longestStallMs <= 100 },
        { scenario: 'big batch', measure: `100,000 x 1 KiB as ${how}: peak RSS growth per job, bytes`, ours: (mine.peakGrowthBytes / JOBS).toFixed(0), baseline: `stack, JSON ${(theirs.peakGrowthBytes / JOBS).toFixed(0)}`, ratio: (mine.peakGrowthBytes / theirs.peakGrowthBytes).toFixed(2), target: '<= 3072', met: mine.peakGrowthBytes / JOBS <= 3072 },
      );
    }
    const startup = await startUp(dataDir, options.rounds);
    rows.push(...startup.rows);
    const throughput = await measureThroughput({ jobs: options.quick ? 500 : 2000, rounds: options.quick ? 1 : Math.min(options.rounds, 2), dataDir, store: `${JOBS} finished jobs stored` });
    rows.push(...throughput.rows);
    return { rows, raw: { ndjson: ours, json, stack: theirs, startup: startup.raw, throughput: throughput.raw } };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Spawn to the first 200 from /readyz, on the full store and on an empty one, interleaved; and spawn to the first
 * list of batches answered right after (finished batches are read after ready: a list reads what is left at once).
 * Then memory after a restart, once everything was read.
 */
async function startUp(dataDir: string, rounds: number): Promise<{ rows: Row[]; raw: unknown }> {
  const full: number[] = [];
  const empty: number[] = [];
  const listed: number[] = [];
  const time = async (dir?: string) => {
    const service = await startService({ dataDir: dir, env: settings });
    const started = performance.now();
    await getJson(service.port, '/api/v1/batches');
    const listedMs = service.readyMs + performance.now() - started;
    await service.stop();
    return { readyMs: service.readyMs, listedMs };
  };
  for (let round = 0; round < rounds; round++) {
    const measured = await time(dataDir);
    full.push(measured.readyMs);
    listed.push(measured.listedMs);
    empty.push((await time()).readyMs);
  }
  const heap = async (dir?: string) => {
    const service: ServiceProcess = await startService({ dataDir: dir, env: settings, memoryHook: true });
    // Memory with every finished job in the index (read after ready), and no request made, as on the empty store.
    if (dir) await untilFinishedRead(service);
    const memory = await service.memory();
    await service.stop();
    return memory;
  };
  const restarted = await heap(dataDir);
  const fresh = await heap();
  const perJob = (restarted.rss - fresh.rss) / JOBS;
  return {
    rows: [
      { scenario: 'start-up', measure: `to ready with ${JOBS} finished jobs stored, ms`, ours: fmt(full), baseline: `empty store ${fmt(empty)}`, ratio: (median(full) / median(empty)).toFixed(2), target: '<= 1000 ms', met: median(full) <= 1000 },
      { scenario: 'start-up', measure: `to the first list of batches answered after ready, ${JOBS} finished jobs stored, ms`, ours: fmt(listed), baseline: `empty store, to ready ${fmt(empty)}`, ratio: (median(listed) / median(empty)).toFixed(2), target: '-', met: null },
      { scenario: 'memory', measure: `RSS per stored job after a restart (${JOBS} stopped jobs), bytes`, ours: perJob.toFixed(0), baseline: `empty store ${(fresh.rss / 2 ** 20).toFixed(0)} MiB; V8 heap ${((restarted.heapUsed - fresh.heapUsed) / JOBS).toFixed(0)} B/job`, ratio: '-', target: '<= 1024', met: perJob <= 1024 },
    ],
    raw: { full, listed, empty, restarted, fresh },
  };
}

// `npm run bench:batch`: these rows alone.
if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  const { rows } = await run({ quick: process.argv.includes('--quick'), rounds: 1 });
  for (const row of rows) console.log(`${row.measure}: ${row.ours} (${row.baseline}; target ${row.target})`);
}
