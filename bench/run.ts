// npm run bench: each scenario side by side with its baselines, measured in the same run, in rounds.
// Prints a table of medians (min-max) and ratios, and writes bench/results/<time>.json.
// Every row module exports run(options) answering rows; nothing measured runs in this process.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as bigBatch from './big-batch.js';
import { firstMessage, forkProcess, type Row } from './harness.js';
import * as http from './http.js';
import { run as kubernetesCreateRate } from './kube-create.js';
import { run as listing } from './listing.js';
import * as memory from './memory.js';
import { run as sseFanout } from './sse-fanout.js';
import { measureThroughput } from './throughput.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, quick: { type: 'boolean', default: false } } });
const quick = values.quick;
const rounds = quick ? 1 : Number(values.rounds);
const seconds = quick ? 2 : Number(values.seconds);
const rows: Row[] = [];
const raw: Record<string, unknown> = {};
const here = import.meta.dirname;

async function section(name: string, rowsAndRaw: Promise<{ rows: Row[]; raw: unknown } | Row[]>): Promise<void> {
  const started = performance.now();
  const result = await rowsAndRaw;
  if (Array.isArray(result)) rows.push(...result);
  else {
    rows.push(...result.rows);
    raw[name] = result.raw;
  }
  console.error(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

async function kubernetes(): Promise<Row[]> {
  const result = await firstMessage<{ jobs: number; allJobsMs: number; answeredMs: number; writesPerJob: number; readRequests: number }>(forkProcess('servers/kubernetes-child.ts', [quick ? '1000' : '10000']));
  raw.kubernetes = result;
  return [
    { scenario: 'kubernetes', measure: `${result.jobs} jobs: until every Job exists, ms`, ours: result.allJobsMs.toFixed(0), baseline: `answered in ${result.answeredMs.toFixed(0)} ms`, ratio: '-', target: '-', met: null },
    { scenario: 'kubernetes', measure: 'write requests per job', ours: result.writesPerJob.toFixed(3), baseline: '-', ratio: '-', target: '<= 1.1', met: result.writesPerJob <= 1.1 },
    { scenario: 'kubernetes', measure: 'API requests for 100 reads', ours: String(result.readRequests), baseline: '-', ratio: '-', target: '0', met: result.readRequests === 0 },
  ];
}

await section('http', http.run({ quick, rounds, seconds }));
await section('throughput', measureThroughput({ jobs: quick ? 500 : 2000, rounds: quick ? 1 : Math.min(rounds, 2), store: 'empty store' }));
await section('bigBatch', bigBatch.run({ quick, rounds }));
await section('memory', memory.run({ quick }));
await section('kubernetes', kubernetes());
await section('kubernetesCreateRate', kubernetesCreateRate({ quick }));
await section('listing', listing({ quick }));
await section('sseFanout', sseFanout({ quick }));

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
writeFileSync(file, JSON.stringify({ node: process.version, quick, rounds, seconds, rows, raw }, null, 2));
console.log(`\nrounds: ${rounds}, ${seconds} s per load; results in ${path.relative(process.cwd(), file)}`);
