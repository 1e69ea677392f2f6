// A batch against the fake Kubernetes API server: time until every Job exists, writes per job,
// and what reads cost once synced. Run in its own process (bench/servers/kubernetes-child.ts), the
// service's real logger at the default level writing to a file.
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/service.js';
import { startFakeApiServer } from '../test/kubernetes/fake/server.js';

export async function fakeKubernetesBatch(jobs: number) {
  const apiDocument = parseYaml(readFileSync(new URL('../api/openapi.yaml', import.meta.url), 'utf8')) as object;
  const fake = await startFakeApiServer();
  const config = loadConfig({
    env: { JOB_SCHEDULER_RUNTIME: 'kubernetes', JOB_SCHEDULER_NAMESPACE: 'bench' },
    componentYaml: JSON.stringify({ name: 'bench', image: 'busybox:1.36', payload: { path: '/payload' } }),
    componentPath: 'bench',
    apiDocument,
    cpus: 2,
  });
  const logDir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-bench-kube-'));
  const logFile = createWriteStream(path.join(logDir, 'service.log'));
  const service = await startService({ config, logger: createLogger({ level: config.logLevel, stream: logFile }), apiDocument, componentDir: '.', hostEnv: {}, kubeConfig: fake.kubeConfig('bench') });
  const server: Server = await new Promise((resolve) => {
    const s = service.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`;
  const payload = 'x'.repeat(1024);
  const body = JSON.stringify({ jobScheduleDescriptions: Array.from({ length: jobs }, (_, i) => ({ jobId: `job-${i}`, payload })) });
  const writesBefore = fake.writes().length;
  const started = performance.now();
  const response = await fetch(`${base}/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const { name } = (await response.json()) as { name: string };
  const answeredMs = performance.now() - started;
  while (fake.count('jobs', 'bench') < jobs) await new Promise((resolve) => setTimeout(resolve, 20));
  const allJobsMs = performance.now() - started;
  const writes = fake.writes().length - writesBefore;
  const requestsBefore = fake.requests.length;
  for (let i = 0; i < 100; i++) await (await fetch(`${base}/batches/${i % 2 ? name : `${name}`}`)).arrayBuffer();
  const readRequests = fake.requests.length - requestsBefore;
  server.close();
  await service.close();
  await fake.close();
  await new Promise((resolve) => logFile.end(resolve));
  rmSync(logDir, { recursive: true, force: true });
  return { jobs, answeredMs, allJobsMs, writes, writesPerJob: writes / jobs, readRequests };
}
