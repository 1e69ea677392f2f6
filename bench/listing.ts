// A filtered page of 100 jobs out of 100,000, against reading one job, from the same service in its own process.
import autocannon from 'autocannon';
import { startService } from './harness.js';

const BATCH = 10_000;
/** One job in `SHARDS` carries each value of the label the page selects on. */
const SHARDS = 50;

interface Row { scenario: string; measure: string; ours: string; baseline: string; ratio: string; target: string; met: boolean | null }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;

async function p99(port: number, url: string, seconds: number): Promise<number> {
  // One client: the latency of one request at a time, not the server's queue under load.
  const result = await autocannon({ url: `http://127.0.0.1:${port}${url}`, connections: 1, duration: seconds });
  const bad = result.non2xx + result.errors;
  if (bad > 0) throw new Error(`${bad} failed requests against ${url}`);
  return result.latency.p99;
}

export async function run(options: { quick: boolean }): Promise<Row[] & { raw?: unknown }> {
  const batches = options.quick ? 2 : 10;
  const rounds = options.quick ? 1 : 3;
  const seconds = options.quick ? 2 : 5;
  // One slot held by a sleeping command: every other job stays Waiting, so the lists do not move while measured.
  const service = await startService({ env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
  try {
    const { port } = service;
    const names: string[] = [];
    for (let b = 0; b < batches; b++) {
      const body = JSON.stringify({ labels: { bench: 'listing' }, jobScheduleDescriptions: Array.from({ length: BATCH }, (_, i) => ({ labels: { shard: String(i % SHARDS) } })) });
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (!response.ok) throw new Error(`POST /batches: ${response.status} ${await response.text()}`);
      names.push(((await response.json()) as { name: string }).name);
    }
    const batch = names[Math.floor(names.length / 2)]!;
    // 200 jobs of the middle batch carry shard=7: the page measured is the second 100 of them, through its continue token.
    const filter = `/api/v1/batches/${batch}?status=Waiting&labelSelector=bench%3Dlisting,shard%3D7&limit=100`;
    const token = (await fetch(`http://127.0.0.1:${port}${filter}`)).headers.get('x-continue');
    if (!token) throw new Error('the first page has no continue token');
    const page = `${filter}&continue=${token}`;
    const answered = (await (await fetch(`http://127.0.0.1:${port}${page}`)).json()) as { jobStatuses: Array<{ name: string }> };
    if (answered.jobStatuses.length !== 100) throw new Error(`the page holds ${answered.jobStatuses.length} jobs`);
    const one = `/api/v1/jobs/${answered.jobStatuses[0]!.name}`;
    const measured = { page: [] as number[], one: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      measured.page.push(await p99(port, page, seconds));
      measured.one.push(await p99(port, one, seconds));
    }
    const ratio = median(measured.page) / median(measured.one);
    const rows: Row[] & { raw?: unknown } = [{
      scenario: 'listing',
      measure: `filtered page of 100 of ${batches * BATCH} jobs, p99 ms, 1 client`,
      ours: fmt(measured.page),
      baseline: `one job ${fmt(measured.one)}`,
      ratio: ratio.toFixed(2),
      target: '< 20 ms',
      met: median(measured.page) < 20,
    }];
    rows.raw = { jobs: batches * BATCH, ...measured };
    return rows;
  } finally {
    await service.stop();
  }
}
