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

/** The rows and every round's figures; with `profileDir`, each service round writes a CPU profile of its window there. */
export async function measure(options: { quick: boolean; rounds?: number; jobs?: number; profileDir?: string }): Promise<{ rows: Row[]; raw: object }> {
  const jobs = options.jobs ?? (options.quick ? 1000 : 5000);
  const rounds = options.rounds ?? 3;
  const dir = mkdtempSync(path.join(tmpdir(), 'kube-create-bench-'));
  const fake = await startFake();
  const ours: number[] = [];
  const oursAfterAnswer: number[] = [];
  const bare: number[] = [];
  const writesPerJob: number[] = [];
  // CPU milliseconds per Job: the service's, the bare loop's and the fake's in each (for the notes; not a target).
  const cpu = { ours: [] as number[], oursAnswer: [] as number[], bare: [] as number[], fakeOurs: [] as number[], fakeBare: [] as number[] };
  try {
    for (let round = 0; round < rounds; round++) {
      const namespace = `create-${round}`;
      const service = await startKubeService({ url: fake.url, namespace, env: { JOB_SCHEDULER_KUBE_WRITE_CONCURRENCY: String(CONCURRENCY) }, profileDir: options.profileDir });
      await fake.capture();
      const before = await fake.counts(namespace);
      const serviceCpu = await service.cpuMs();
      if (options.profileDir) await service.profileStart();
      const created = fake.expectJobs(namespace, jobs);
      const started = performance.now();
      await postBatch(service.port, jobs);
      const answered = performance.now();
      cpu.oursAnswer.push(((await service.cpuMs()) - serviceCpu) / jobs);
      await created;
      const ended = performance.now();
      if (options.profileDir) console.error(`profile: ${await service.profileStop()}`);
      ours.push(ended - started);
      oursAfterAnswer.push(ended - answered);
      cpu.ours.push(((await service.cpuMs()) - serviceCpu) / jobs);
      const after = await fake.counts(namespace);
      writesPerJob.push((after.writes - before.writes) / jobs);
      cpu.fakeOurs.push((after.cpuMs - before.cpuMs) / jobs);
      await service.stop();
      // The bare loop replays exactly what the service sent, into the same namespace (its batch record still owns them).
      const bodiesFile = path.join(dir, `${namespace}.json`);
      if ((await fake.saveCaptured(bodiesFile)) !== jobs) throw new Error('the service sent more or fewer Job creates than jobs');
      await fake.clearJobs(namespace);
      const loop = await startBareCreates({ url: fake.url, namespace, bodiesFile, concurrency: CONCURRENCY });
      const fakeCpu = (await fake.counts(namespace)).cpuMs;
      const replayed = fake.expectJobs(namespace, jobs);
      const bareStarted = performance.now();
      const [loopResult] = await Promise.all([loop.go(), replayed]);
      bare.push(performance.now() - bareStarted);
      cpu.bare.push(loopResult.cpuMs / jobs);
      cpu.fakeBare.push(((await fake.counts(namespace)).cpuMs - fakeCpu) / jobs);
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
  return { rows, raw: { jobs, concurrency: CONCURRENCY, ours, oursAfterAnswer, bare, writesPerJob, cpuMsPerJob: cpu } };
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string', default: '3' }, jobs: { type: 'string' }, profile: { type: 'string' } } });
  const result = await measure({ quick: values.quick, rounds: Number(values.rounds), jobs: values.jobs ? Number(values.jobs) : undefined, profileDir: values.profile });
  console.log(JSON.stringify(result, null, 2));
}
