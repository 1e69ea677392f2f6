// npm run bench: each scenario side by side with its baselines, measured in the same run, in rounds.
// Prints a table of medians (min-max) and ratios, and writes bench/results/<time>.json.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { run as kubernetesCreateRate } from './kube-create.js';
import { fakeKubernetesBatch } from './kubernetes.js';
import { run as listing } from './listing.js';
import { run as sseFanout } from './sse-fanout.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, quick: { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const here = import.meta.dirname;

interface Server { port: number; child: ChildProcess; stop(): Promise<void> }

async function start(file: string, env: Record<string, string> = {}, execArgv: string[] = []): Promise<Server> {
  const child = fork(path.join(here, file), [], { execArgv: ['--import', 'tsx', ...execArgv], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { port: number }));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  return {
    port,
    child,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (file.includes('service')) child.send('stop');
      else child.kill('SIGTERM');
      await exited;
    },
  };
}

async function load(port: number, options: { method: 'GET' | 'POST'; path: string; body?: string; connections?: number }) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${options.path}`,
    method: options.method,
    body: options.body,
    headers: options.body ? { 'content-type': 'application/json' } : {},
    connections: options.connections ?? 32,
    duration: seconds,
  });
  const bad = result.non2xx + result.errors;
  if (bad > 0) throw new Error(`${bad} failed requests against ${options.path}`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

async function post(port: number, url: string, body: string): Promise<{ ms: number; json: unknown }> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const json = await response.json();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status}`);
  return { ms: performance.now() - started, json };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[], digits = 0) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
const rows: Array<{ scenario: string; measure: string; ours: string; baseline: string; ratio: string; target: string; met: boolean | null }> = [];
const raw: Record<string, unknown> = {};

const payload = 'x'.repeat(1024);
const jobBody = JSON.stringify({ payload });
const batchBody = (n: number) => JSON.stringify({ jobScheduleDescriptions: Array.from({ length: n }, (_, i) => ({ jobId: `job-${i}`, payload })) });

async function acceptAndReads(): Promise<void> {
  const service = await start('servers/service.ts');
  const created = (await post(service.port, '/api/v1/jobs', jobBody)).json as { name: string };
  const jobSize = (await (await fetch(`http://127.0.0.1:${service.port}/api/v1/jobs/${created.name}`)).text()).length;
  const stack = await start('servers/stack.ts', { BENCH_SIZES: JSON.stringify({ job: jobSize }) });
  const bare = await start('servers/bare-http.ts', { BENCH_SIZES: JSON.stringify({ job: jobSize }) });
  const accept = { ours: [] as number[], stack: [] as number[], bare: [] as number[], oursP99: [] as number[], stackP99: [] as number[] };
  const reads = { ours: [] as number[], stack: [] as number[], bare: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, server] of [['ours', service], ['stack', stack], ['bare', bare]] as const) {
      const a = await load(server.port, { method: 'POST', path: '/api/v1/jobs', body: jobBody });
      accept[name].push(a.rps);
      if (name === 'ours') accept.oursP99.push(a.p99);
      if (name === 'stack') accept.stackP99.push(a.p99);
      const r = await load(server.port, { method: 'GET', path: `/api/v1/jobs/${created.name}` });
      reads[name].push(r.rps);
    }
  }
  raw.accept = accept;
  raw.reads = reads;
  const acceptRatio = median(accept.ours) / median(accept.stack);
  const p99Ratio = median(accept.oursP99) / median(accept.stackP99);
  rows.push({ scenario: 'accept', measure: 'POST /jobs req/s', ours: fmt(accept.ours), baseline: `stack ${fmt(accept.stack)}; bare ${fmt(accept.bare)}`, ratio: acceptRatio.toFixed(2), target: '>= 0.75', met: acceptRatio >= 0.75 });
  rows.push({ scenario: 'accept', measure: 'POST /jobs p99 ms', ours: fmt(accept.oursP99, 1), baseline: `stack ${fmt(accept.stackP99, 1)}`, ratio: p99Ratio.toFixed(2), target: '<= 2', met: p99Ratio <= 2 });
  const readRatio = median(reads.ours) / median(reads.stack);
  rows.push({ scenario: 'reads', measure: 'GET /jobs/{name} req/s', ours: fmt(reads.ours), baseline: `stack ${fmt(reads.stack)}; bare ${fmt(reads.bare)}`, ratio: readRatio.toFixed(2), target: '>= 0.8', met: readRatio >= 0.8 });

  // A 10,000-job batch: time to answer (durably recorded), against the stack answering the same body.
  const big = batchBody(10_000);
  const answer = { ours: [] as number[], stack: [] as number[] };
  let batchName = '';
  for (let round = 0; round < rounds; round++) {
    const ours = await post(service.port, '/api/v1/batches', big);
    answer.ours.push(ours.ms);
    batchName = (ours.json as { name: string }).name;
    answer.stack.push((await post(stack.port, '/api/v1/batches', big)).ms);
  }
  raw.bigBatch = answer;
  rows.push({ scenario: 'big batch', measure: 'answer 10,000 x 1 KiB, ms', ours: fmt(answer.ours), baseline: `stack ${fmt(answer.stack)}`, ratio: (median(answer.ours) / median(answer.stack)).toFixed(2), target: '<= 1000 ms', met: median(answer.ours) <= 1000 });
  const batchRead = [] as number[];
  for (let round = 0; round < rounds; round++) batchRead.push((await load(service.port, { method: 'GET', path: `/api/v1/batches/${batchName}`, connections: 1 })).p99);
  raw.batchRead = batchRead;
  rows.push({ scenario: 'reads', measure: 'GET /batches/{10,000 jobs} p99 ms, 1 client', ours: fmt(batchRead, 1), baseline: '-', ratio: '-', target: '< 100 ms', met: median(batchRead) < 100 });
  await Promise.all([service.stop(), stack.stop(), bare.stop()]);
}

async function rawSpawnLoop(jobs: number, concurrency: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < jobs) {
      next++;
      await new Promise((resolve) => spawn('/bin/true', [], { stdio: 'ignore' }).once('exit', resolve));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return jobs / ((performance.now() - started) / 1000);
}

async function localThroughput(): Promise<void> {
  const jobs = values.quick ? 300 : 2000;
  const ours: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < Math.min(rounds, 2); round++) {
    const service = await start('servers/service.ts', { BENCH_MAX_RUNNING: '2', BENCH_COMMAND: '["/bin/true"]' });
    const started = performance.now();
    const { name } = (await post(service.port, '/api/v1/batches', JSON.stringify({ jobScheduleDescriptions: Array.from({ length: jobs }, () => ({})) }))).json as { name: string };
    for (;;) {
      const batch = (await (await fetch(`http://127.0.0.1:${service.port}/api/v1/batches/${name}`)).json()) as { status: string };
      if (['Succeeded', 'Failed', 'Stopped'].includes(batch.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    ours.push(jobs / ((performance.now() - started) / 1000));
    await service.stop();
    baseline.push(await rawSpawnLoop(jobs, 2));
  }
  raw.localThroughput = { ours, baseline };
  const ratio = median(ours) / median(baseline);
  rows.push({ scenario: 'local throughput', measure: `${jobs} trivial jobs, jobs/s (2 at once)`, ours: fmt(ours), baseline: `spawn loop ${fmt(baseline)}`, ratio: ratio.toFixed(2), target: '>= 0.5', met: ratio >= 0.5 });
}

async function kubernetes(): Promise<void> {
  const result = await fakeKubernetesBatch(values.quick ? 1000 : 10_000);
  raw.kubernetes = result;
  rows.push({ scenario: 'kubernetes', measure: `${result.jobs} jobs: until every Job exists, ms`, ours: result.allJobsMs.toFixed(0), baseline: `answered in ${result.answeredMs.toFixed(0)} ms`, ratio: '-', target: '-', met: null });
  rows.push({ scenario: 'kubernetes', measure: 'write requests per job', ours: result.writesPerJob.toFixed(3), baseline: '-', ratio: '-', target: '<= 1.1', met: result.writesPerJob <= 1.1 });
  rows.push({ scenario: 'kubernetes', measure: 'API requests for 100 reads', ours: String(result.readRequests), baseline: '-', ratio: '-', target: '0', met: result.readRequests === 0 });
}

async function memory(): Promise<void> {
  const child = fork(path.join(here, 'memory.ts'), [values.quick ? '20000' : '100000'], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = await new Promise<{ jobs: number; bytesPerJob: number }>((resolve) => child.once('message', (m) => resolve(m as never)));
  child.kill();
  raw.memory = result;
  rows.push({ scenario: 'memory', measure: `RSS per finished job (${result.jobs} in the index), bytes`, ours: result.bytesPerJob.toFixed(0), baseline: '-', ratio: '-', target: '<= 2048', met: result.bytesPerJob <= 2048 });
}

await acceptAndReads();
await localThroughput();
await kubernetes();
rows.push(...(await kubernetesCreateRate({ quick: values.quick })));
await memory();
rows.push(...(await listing({ quick: values.quick })));
rows.push(...(await sseFanout({ quick: values.quick })));

const header = ['scenario', 'measure', 'ours: median (min-max)', 'baseline(s), same run', 'ratio', 'target', 'met'];
const lines = rows.map((r) => [r.scenario, r.measure, r.ours, r.baseline, r.ratio, r.target, r.met === null ? '-' : r.met ? 'yes' : 'NO']);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const print = (cells: string[]) => console.log(`| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`);
print(header);
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
lines.forEach(print);
const resultsDir = path.join(here, 'results');
mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ node: process.version, rounds, seconds, rows, raw }, null, 2));
console.log(`\nrounds: ${rounds}, ${seconds} s per load; results in ${path.relative(process.cwd(), file)}`);
