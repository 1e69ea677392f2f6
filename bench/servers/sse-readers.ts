// Readers of the live event stream, in their own process: BENCH_READERS connections to
// GET /api/v1/events?batch=BENCH_BATCH on 127.0.0.1:BENCH_PORT, reading everything and counting it.
// On 'stop' they disconnect and report what they received.
import { type ClientRequest, request } from 'node:http';

const port = Number(process.env.BENCH_PORT);
const readers = Number(process.env.BENCH_READERS ?? '100');
const batch = process.env.BENCH_BATCH ?? '';
const requests: ClientRequest[] = [];
let events = 0;
let bytes = 0;
let cut = 0;

await Promise.all(Array.from({ length: readers }, () => new Promise<void>((resolve, reject) => {
  const req = request({ host: '127.0.0.1', port, path: `/api/v1/events?batch=${batch}`, headers: { accept: 'text/event-stream' } }, (res) => {
    if (res.statusCode !== 200) reject(new Error(`GET /events answered ${res.statusCode}`));
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      bytes += chunk.length;
      for (let at = chunk.indexOf('\nid: '); at >= 0; at = chunk.indexOf('\nid: ', at + 1)) events++;
      if (chunk.includes('event: Resume')) cut++;
    });
    resolve();
  });
  req.on('error', () => undefined);
  req.end();
  requests.push(req);
})));
const cpuBefore = process.cpuUsage();
const started = performance.now();
process.send?.({ connected: readers });
process.on('message', (message) => {
  if (message !== 'stop') return;
  for (const req of requests) req.destroy();
  const cpu = process.cpuUsage(cpuBefore);
  // The readers' own share of a core: on a small machine it is taken from the service and the load generator.
  const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - started);
  process.send?.({ events, bytes, cut, cpuShare }, () => process.exit(0));
});
