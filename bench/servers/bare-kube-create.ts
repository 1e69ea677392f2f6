// A bare client, in its own fresh process: POSTs the given Job manifests (the bytes the service sent) over
// BENCH_CONCURRENCY keep-alive connections, as many requests in flight as the service's write limit. It
// watches Jobs like the service does, so the API server's work per create (a watch event) is the same.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const url = new URL(process.env.BENCH_KUBE_URL!);
const namespace = process.env.BENCH_NAMESPACE!;
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const bodies = (JSON.parse(readFileSync(process.env.BENCH_BODIES!, 'utf8')) as string[]).map((body) => Buffer.from(body));
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const path = `/apis/batch/v1/namespaces/${namespace}/jobs`;

function create(body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': body.length } }, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 201 ? resolve() : reject(new Error(`create answered ${response.statusCode}`))));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const watch = http.get({ host: url.hostname, port: url.port, path: `${path}?watch=true&labelSelector=${encodeURIComponent('app.kubernetes.io/managed-by=job-scheduler,job-scheduler.io/component=bench')}` }, (response) => response.resume());
watch.on('error', () => undefined);

process.once('message', async () => {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) await create(bodies[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(cpu);
  process.send?.({ ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 });
  watch.destroy();
  agent.destroy();
  process.exit(0);
});
process.send?.({ ready: true });
