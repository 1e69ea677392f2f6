// One POST /api/v1/batches of 10,000 jobs with 1 KiB payloads on the local runtime, run to the end.
// Prints the time to answer (durably recorded) and the time until every job is terminal.
// Usage: npm run bench:batch [-- --jobs 10000 --command /bin/true]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { startService } from '../src/service.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '10000' },
    'payload-bytes': { type: 'string', default: '1024' },
    command: { type: 'string', default: '/bin/true' },
  },
});
const jobCount = Number(values.jobs);
const root = path.resolve(import.meta.dirname, '..');
const apiDocument = parseYaml(readFileSync(path.join(root, 'api/openapi.yaml'), 'utf8')) as object;
const dataDir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-bench-'));

const config = loadConfig({
  env: { JOB_SCHEDULER_DATA_DIR: dataDir, JOB_SCHEDULER_RETRY_DELAY_SECONDS: '0' },
  componentYaml: JSON.stringify({ name: 'bench', command: [values.command] }),
  componentPath: 'bench',
  apiDocument,
  cpus: availableParallelism(),
});
const service = await startService({ config, logger: silentLogger(), apiDocument, componentDir: root, hostEnv: process.env });
const server: Server = await new Promise((resolve) => {
  const s = service.app.listen(0, '127.0.0.1', () => resolve(s));
});
const { port } = server.address() as { port: number };
const base = `http://127.0.0.1:${port}/api/v1`;

try {
  const payload = 'x'.repeat(Number(values['payload-bytes']));
  const body = JSON.stringify({ jobScheduleDescriptions: Array.from({ length: jobCount }, (_, i) => ({ jobId: `job-${i}`, payload })) });
  const t0 = performance.now();
  const response = await fetch(`${base}/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const created = (await response.json()) as { name: string; jobStatuses: unknown[] };
  const answeredMs = performance.now() - t0;
  if (response.status !== 200 || created.jobStatuses.length !== jobCount) throw new Error(`unexpected answer ${response.status}`);
  let status = '';
  let counts: Record<string, number> = {};
  while (!['Succeeded', 'Failed', 'Stopped'].includes(status)) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const batch = (await (await fetch(`${base}/batches/${created.name}`)).json()) as { status: string; jobStatuses: Array<{ status: string }> };
    status = batch.status;
    counts = {};
    for (const job of batch.jobStatuses) counts[job.status] = (counts[job.status] ?? 0) + 1;
  }
  const finishedMs = performance.now() - t0;
  console.log(JSON.stringify({
    jobs: jobCount,
    requestBytes: Buffer.byteLength(body),
    maxRunning: config.maxRunning,
    answeredMs: Math.round(answeredMs),
    finishedMs: Math.round(finishedMs),
    jobsPerSecond: Math.round(jobCount / (finishedMs / 1000)),
    batchStatus: status,
    counts,
  }, null, 2));
} finally {
  server.close();
  await service.close({ terminate: true });
  rmSync(dataDir, { recursive: true, force: true });
}
