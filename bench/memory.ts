// Memory per finished job through the real service, started as `npm start` starts it: distinct jobs (ids,
// payloads, variables) run to their end, then every batch read once (which fills the JSON cache), then restarts
// on the same store. RSS after a full GC in the service (bench/servers/gc-hook.mjs).
//
// Per finished job is the slope of RSS over the number of jobs, fitted to five points from 4,000 to 20,000 jobs in one service (each
// measured after the jobs ended, and again after every batch so far was read once), and after a restart: a
// service started on the store at each point (20,000 jobs, then batches deleted down to 16,000, and so on),
// measured once settled (30 s idle, V8 gave back the young generation the load grew), and right after. RSS less the empty
// store's, divided by the jobs, mostly divided costs that do not grow with jobs (the young generation grown to
// its busy size, malloc's kept memory, SQLite's page cache, compiled code: about 30 MiB after any work at all)
// by however many jobs the row ran. That figure is printed as well, with the fixed cost and the figures after
// 30 s idle (set against the empty store's after 30 s idle).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { untilFinishedRead } from './finished-read.js';
import { getJson, post, type Row, sleep, startService } from './harness.js';

const PER_BATCH = 1000;
const settings = { JOB_SCHEDULER_MAX_RUNNING: '2', JOB_SCHEDULER_MAX_TRACKED_JOBS: '1000000' };
/** Long enough for V8's memory reducer to give back the young generation of an idle service. */
const IDLE_MS = 30_000;

type Memory = NodeJS.MemoryUsage & { spaces?: Record<string, { size: number; used: number }> };

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

/** Least-squares line through the points: bytes per job, and bytes at no job. */
export function fitLine(points: Array<[number, number]>): { slope: number; intercept: number } {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxy = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const sxx = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  const slope = sxy / sxx;
  return { slope, intercept: meanY - slope * meanX };
}

/** Polls a batch until it is done by its counts, as a client follows a large batch (not its jobs' views). */
async function untilDone(port: number, name: string): Promise<void> {
  while (!['Succeeded', 'Failed', 'Stopped'].includes((await getJson<{ status: string }>(port, `/api/v1/batches/${name}?jobStatuses=false`)).status)) await sleep(50);
}

async function deleteBatch(port: number, name: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/batches/${name}`, { method: 'DELETE' });
  if (!response.ok) throw new Error(`DELETE ${name}: ${response.status}`);
  await response.arrayBuffer();
}

/** `steps` (multiples of 1,000) for a shorter probe while working; the rows use the spans below. */
export async function run(options: { quick: boolean; steps?: number[] }): Promise<{ rows: Row[]; raw: unknown }> {
  // A span of many thousand jobs: malloc's kept memory moves RSS by a few MiB from one point to the next.
  const steps = options.steps ?? (options.quick ? [4_000, 8_000, 12_000, 16_000, 20_000] : [5_000, 15_000, 25_000, 35_000, 45_000]);
  const jobs = steps.at(-1)!;
  const span = `${steps[0]}-${jobs} jobs`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-bench-memory-'));
  try {
    let service = await startService({ command: ['/bin/true'], dataDir, env: settings, memoryHook: true });
    const empty: Memory = await service.memory();
    // Figures after idle are set against the empty store's after idle: V8 gives back its young generation in both.
    await sleep(IDLE_MS);
    const emptyIdle: Memory = await service.memory();
    const names: string[] = [];
    const points: Array<{ jobs: number; memory: Memory; read: Memory }> = [];
    for (const step of steps) {
      const added: string[] = [];
      while (names.length + added.length < step / PER_BATCH) added.push(((await post(service.port, '/api/v1/batches', batchBody(names.length + added.length))).json as { name: string }).name);
      for (const name of added) await untilDone(service.port, name);
      names.push(...added);
      const memory = await service.memory();
      // Then every batch so far read once, whole: the next point's jobs ran in a service that answered those reads.
      for (const name of names) await getJson(service.port, `/api/v1/batches/${name}`);
      points.push({ jobs: step, memory, read: await service.memory() });
    }
    const { memory: finished, read } = points.at(-1)!;
    await sleep(IDLE_MS);
    const idle: Memory = await service.memory();
    await service.stop();
    // After a restart, at each point: a service started on the store holding that many jobs, measured once it read
    // them all (no request made), and again once settled (after idle); then batches are deleted down to the point
    // below, and it is stopped. Right after the load, RSS holds whatever part of the young generation the load
    // touched (more the more jobs were loaded, up to its 32 MiB): a fixed cost that a slope would read as per job.
    const restarts: Array<{ jobs: number; memory: Memory; settled: Memory }> = [];
    for (const step of [...steps].reverse()) {
      service = await startService({ command: ['/bin/true'], dataDir, env: settings, memoryHook: true });
      await untilFinishedRead(service);
      const memory = await service.memory();
      await sleep(IDLE_MS);
      restarts.push({ jobs: step, memory, settled: await service.memory() });
      const below = steps[steps.indexOf(step) - 1];
      while (below !== undefined && names.length > below / PER_BATCH) await deleteBatch(service.port, names.pop()!);
      await service.stop();
    }
    const { memory: restarted, settled: restartedIdle } = restarts[0]!;

    const fit = (of: (m: Memory) => number, series: 'memory' | 'read' = 'memory') => fitLine(points.map((p) => [p.jobs, of(p[series]) - of(empty)]));
    const restartFit = (of: (m: Memory) => number, series: 'memory' | 'settled') => fitLine(restarts.map((p) => [p.jobs, of(p[series]) - of(series === 'memory' ? empty : emptyIdle)]));
    const restartRss = restartFit((m) => m.rss, 'settled');
    const restartRssAtOnce = restartFit((m) => m.rss, 'memory');
    const restartAccounted = restartFit((m) => m.heapTotal + m.external, 'settled');
    const rss = fit((m) => m.rss);
    const readRss = fit((m) => m.rss, 'read');
    const heap = fit((m) => m.heapUsed);
    const buffers = fit((m) => m.arrayBuffers);
    // What V8 holds (its heap as committed, and memory outside it that it accounts for, buffers among it).
    const accounted = fit((m) => m.heapTotal + m.external);
    const whole = (m: Memory, from = empty) => (m.rss - from.rss) / jobs;
    const young = (m: Memory) => m.spaces?.new_space?.size ?? 0;
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    // Neither V8's heap nor its buffers: malloc's, which keeps what it freed; it moves by MiBs between points.
    const native = points.map((p) => p.memory.rss - p.memory.heapTotal - p.memory.arrayBuffers - (empty.rss - empty.heapTotal - empty.arrayBuffers));
    const rows: Row[] = [
      {
        scenario: 'memory', measure: `RSS per finished job, slope over ${span} run to their end, bytes`, ours: rss.slope.toFixed(0),
        baseline: `fixed ${mib(rss.intercept)} MiB (young generation ${mib(young(empty))} -> ${mib(young(finished))} MiB, native ${mib(Math.min(...native))}-${mib(Math.max(...native))} MiB); growth / jobs ${whole(finished).toFixed(0)} B/job, after ${IDLE_MS / 1000} s idle ${whole(idle, emptyIdle).toFixed(0)}; slope of V8 heap committed + external ${accounted.slope.toFixed(0)} B/job (heap used ${heap.slope.toFixed(0)}, buffers ${buffers.slope.toFixed(0)}); empty store ${mib(empty.rss)} MiB`,
        ratio: '-', target: '<= 1024', met: rss.slope <= 1024,
      },
      {
        scenario: 'memory', measure: `RSS per finished job after every batch was read once, slope over ${span}, bytes`, ours: readRss.slope.toFixed(0),
        baseline: `fixed ${mib(readRss.intercept)} MiB; growth / jobs ${whole(read).toFixed(0)} B/job`, ratio: '-', target: '<= 1024', met: readRss.slope <= 1024,
      },
      {
        scenario: 'memory', measure: `RSS per finished job after a restart, slope over ${span} (a restart on the store at each point, settled: ${IDLE_MS / 1000} s idle), bytes`, ours: restartRss.slope.toFixed(0),
        baseline: `fixed ${mib(restartRss.intercept)} MiB over the empty store after idle; slope of V8 heap committed + external ${restartAccounted.slope.toFixed(0)} B/job; right after each restart: slope ${restartRssAtOnce.slope.toFixed(0)} B/job (young generation ${mib(young(restarted))} MiB, partly touched by the load), growth / jobs at ${jobs} jobs ${whole(restarted).toFixed(0)} B/job (V8 heap used ${((restarted.heapUsed - empty.heapUsed) / jobs).toFixed(0)}); settled ${whole(restartedIdle, emptyIdle).toFixed(0)} B/job`,
        ratio: '-', target: '<= 1024', met: restartRss.slope <= 1024,
      },
    ];
    return { rows, raw: { steps, empty, emptyIdle, points, read, idle, restarts, fit: { rss, readRss, heap, buffers, accounted, restartRss, restartRssAtOnce, restartAccounted }, native } };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
