// SSE fan-out: accept rate of POST /jobs while 100 readers follow a 10,000-job batch over GET /events,
// against the same service with no reader, measured in the same run, interleaved. The service and the
// readers each run in their own process.
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import { startService } from './harness.js';

interface Row { scenario: string; measure: string; ours: string; baseline: string; ratio: string; target: string; met: boolean | null }

const here = import.meta.dirname;
const READERS = 100;

function child(file: string, env: Record<string, string>): { child: ChildProcess; first: Promise<Record<string, number>> } {
  const proc = fork(path.join(here, file), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const first = new Promise<Record<string, number>>((resolve, reject) => {
    proc.once('message', (message) => resolve(message as Record<string, number>));
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  return { child: proc, first };
}

async function accept(port: number, seconds: number): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/api/v1/jobs`,
    method: 'POST',
    body: JSON.stringify({ payload: 'x'.repeat(1024) }),
    headers: { 'content-type': 'application/json' },
    connections: 32,
    duration: seconds,
  });
  const bad = result.non2xx + result.errors;
  if (bad > 0) throw new Error(`${bad} failed requests against POST /jobs`);
  return result.requests.average;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;

export async function run(options: { quick: boolean }): Promise<Row[]> {
  const rounds = options.quick ? 2 : 5;
  const seconds = options.quick ? 2 : 4;
  const service = await startService({ command: ['/bin/true'], env: { JOB_SCHEDULER_MAX_RUNNING: '4' } });
  const { port } = service;
  const batchBody = JSON.stringify({ jobScheduleDescriptions: Array.from({ length: 10_000 }, (_, i) => ({ jobId: `job-${i}` })) });
  const created = await fetch(`http://127.0.0.1:${port}/api/v1/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchBody });
  const { name: batch } = (await created.json()) as { name: string };
  const withReaders: number[] = [];
  const without: number[] = [];
  const delivered: Array<{ events: number; bytes: number; cut: number; cpuShare: number }> = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so that the batch's own progress favours neither.
    for (const readers of round % 2 === 0 ? [false, true] : [true, false]) {
      if (!readers) {
        without.push(await accept(port, seconds));
        continue;
      }
      const followers = child('servers/sse-readers.ts', { BENCH_PORT: String(port), BENCH_BATCH: batch, BENCH_READERS: String(READERS) });
      await followers.first;
      withReaders.push(await accept(port, seconds));
      const report = new Promise<{ events: number; bytes: number; cut: number; cpuShare: number }>((resolve) => followers.child.on('message', (m) => resolve(m as never)));
      followers.child.send('stop');
      delivered.push(await report);
    }
  }
  const progress = (await (await fetch(`http://127.0.0.1:${port}/api/v1/batches/${batch}`)).json()) as { status: string; jobStatuses: Array<{ status: string }> };
  const finished = progress.jobStatuses.filter((job) => job.status === 'Succeeded').length;
  await service.stop();
  const ratio = median(withReaders) / median(without);
  const events = delivered.reduce((sum, d) => sum + d.events, 0);
  const cut = delivered.reduce((sum, d) => sum + d.cut, 0);
  const readersCpu = median(delivered.map((d) => d.cpuShare * 100));
  return [
    {
      scenario: 'sse fan-out',
      measure: `POST /jobs req/s, ${READERS} readers following a 10,000-job batch`,
      ours: fmt(withReaders),
      baseline: `no reader ${fmt(without)}; ${events} events delivered, ${cut} readers cut, ${finished} jobs done, readers' process ${readersCpu.toFixed(0)}% of a core`,
      ratio: ratio.toFixed(2),
      target: '>= 0.9',
      met: ratio >= 0.9,
    },
  ];
}
