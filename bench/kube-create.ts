// The Kubernetes create rate: the service's time until N Jobs exist after one `POST /api/v1/batches` of N jobs
// (1 KiB payloads), beside a bare loop POSTing the very Job manifests the service sent, with the same requests in
// flight over keep-alive connections, to the same fake API server. Each in its own process, rounds interleaved.
// Run alone: `node --import tsx bench/kube-create.ts [--quick] [--rounds 3] [--profile dir]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { postBatch, startBareCreates, startFake, startKubeService } from './kube-processes.js';

/** One row of the bench table (see bench/run.ts). */
export interface Row { scenario: string; measure: string; ours: string; baseline: string; ratio: string; target: string; met: boolean | null }

const CONCURRENCY = 16;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;

/** The rows for `npm run bench`. */
export async function run(options: { quick: boolean }): Promise<Row[]> {
  return (await measure(options)).rows;
}

/** The rows and every round's figures; `profileDir` has each service process write a CPU profile there. */
export async function measure(options: { quick: boolean; rounds?: number; jobs?: number; profileDir?: string }): Promise<{ rows: Row[]; raw: object }> {
  const jobs = options.jobs ?? (options.quick ? 1000 : 2000);
  const rounds = options.rounds ?? 3;
  const dir = mkdtempSync(path.join(tmpdir(), 'kube-create-bench-'));
  const fake = await startFake();
  const ours: number[] = [];
  const oursAfterAnswer: number[] = [];
  const bare: number[] = [];
  const writesPerJob: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const namespace = `create-${round}`;
      const service = await startKubeService({ url: fake.url, namespace, env: { JOB_SCHEDULER_KUBE_WRITE_CONCURRENCY: String(CONCURRENCY) }, cpuProfileDir: options.profileDir });
      await fake.capture();
      const before = await fake.counts(namespace);
      const created = fake.expectJobs(namespace, jobs);
      const started = performance.now();
      await postBatch(service.port, jobs);
      const answered = performance.now();
      await created;
      const ended = performance.now();
      ours.push(ended - started);
      oursAfterAnswer.push(ended - answered);
      writesPerJob.push(((await fake.counts(namespace)).writes - before.writes) / jobs);
      await service.stop();
      // The bare loop replays exactly what the service sent, into the same namespace (its batch record still owns them).
      const bodiesFile = path.join(dir, `${namespace}.json`);
      if ((await fake.saveCaptured(bodiesFile)) !== jobs) throw new Error('the service sent more or fewer Job creates than jobs');
      await fake.clearJobs(namespace);
      const loop = await startBareCreates({ url: fake.url, namespace, bodiesFile, concurrency: CONCURRENCY });
      const replayed = fake.expectJobs(namespace, jobs);
      const bareStarted = performance.now();
      await Promise.all([loop.go(), replayed]);
      bare.push(performance.now() - bareStarted);
    }
  } finally {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const ratio = median(bare) / median(ours);
  const ratioAfterAnswer = median(bare) / median(oursAfterAnswer);
  const rows: Row[] = [
    {
      scenario: 'kubernetes create rate', measure: `${jobs} x 1 KiB batch: until every Job exists, ms (rate vs bare)`, ours: fmt(ours),
      baseline: `bare loop, ${CONCURRENCY} keep-alive ${fmt(bare)}`, ratio: ratio.toFixed(2), target: '>= 0.9', met: ratio >= 0.9,
    },
    {
      scenario: 'kubernetes create rate', measure: 'the same, from the batch\'s answer, ms', ours: fmt(oursAfterAnswer),
      baseline: `bare loop ${fmt(bare)}`, ratio: ratioAfterAnswer.toFixed(2), target: '-', met: null,
    },
  ];
  return { rows, raw: { jobs, concurrency: CONCURRENCY, ours, oursAfterAnswer, bare, writesPerJob } };
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string', default: '3' }, jobs: { type: 'string' }, profile: { type: 'string' } } });
  const result = await measure({ quick: values.quick, rounds: Number(values.rounds), jobs: values.jobs ? Number(values.jobs) : undefined, profileDir: values.profile });
  console.log(JSON.stringify(result, null, 2));
}
