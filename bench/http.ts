// Accept and read rows: the real service (real logger at the default level, to a file) against the stack
// (Express 5 + express-openapi-validator on our api/, constants of the same size) and a bare node:http server,
// each in its own process, interleaved round by round.
import { fmt, load, median, post, type Row, startBaseline, startService } from './harness.js';

const payload = 'x'.repeat(1024);
const jobBody = JSON.stringify({ payload });
const batchBody = (n: number) => JSON.stringify({ jobScheduleDescriptions: Array.from({ length: n }, (_, i) => ({ jobId: `job-${i}`, payload })) });

export async function run(options: { quick: boolean; rounds: number; seconds: number }): Promise<{ rows: Row[]; raw: unknown }> {
  const { rounds, seconds } = options;
  // Runs held back (one slot, a sleeping command): accept measures admission and the durable write only.
  const service = await startService({ env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
  const created = (await post(service.port, '/api/v1/jobs', jobBody)).json as { name: string };
  const jobSize = (await (await fetch(`http://127.0.0.1:${service.port}/api/v1/jobs/${created.name}`)).text()).length;
  const sizes = { BENCH_SIZES: JSON.stringify({ job: jobSize }) };
  const stack = await startBaseline('servers/stack.ts', sizes);
  const bare = await startBaseline('servers/bare-http.ts', sizes);
  const accept = { ours: [] as number[], stack: [] as number[], bare: [] as number[], oursP99: [] as number[], stackP99: [] as number[], oursCpu: [] as number[], stackCpu: [] as number[] };
  const reads = { ours: [] as number[], stack: [] as number[], bare: [] as number[], oursCpu: [] as number[], stackCpu: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, server] of [['ours', service], ['stack', stack], ['bare', bare]] as const) {
      const a = await load(server.port, { method: 'POST', path: '/api/v1/jobs', body: jobBody, seconds, pid: server.pid });
      accept[name].push(a.rps);
      const r = await load(server.port, { method: 'GET', path: `/api/v1/jobs/${created.name}`, seconds, pid: server.pid });
      reads[name].push(r.rps);
      if (name !== 'bare') {
        accept[`${name}P99`].push(a.p99);
        accept[`${name}Cpu`].push(a.cpuUsPerRequest);
        reads[`${name}Cpu`].push(r.cpuUsPerRequest);
      }
    }
  }
  const rows: Row[] = [];
  const acceptRatio = median(accept.ours) / median(accept.stack);
  const p99Ratio = median(accept.oursP99) / median(accept.stackP99);
  rows.push({ scenario: 'accept', measure: 'POST /jobs req/s, durable, real logger', ours: fmt(accept.ours), baseline: `stack ${fmt(accept.stack)}; bare ${fmt(accept.bare)}`, ratio: acceptRatio.toFixed(2), target: '>= 0.85 of stack', met: acceptRatio >= 0.85 });
  rows.push({ scenario: 'accept', measure: 'POST /jobs p99 ms', ours: fmt(accept.oursP99, 1), baseline: `stack ${fmt(accept.stackP99, 1)}`, ratio: p99Ratio.toFixed(2), target: '<= 1.5x stack', met: p99Ratio <= 1.5 });
  const cpuRatio = median(accept.stackCpu) / median(accept.oursCpu);
  rows.push({ scenario: 'accept', measure: 'POST /jobs CPU us per request (ratio: stack/ours)', ours: fmt(accept.oursCpu), baseline: `stack ${fmt(accept.stackCpu)}`, ratio: cpuRatio.toFixed(2), target: '-', met: null });
  const readRatio = median(reads.ours) / median(reads.stack);
  const readCpuRatio = median(reads.stackCpu) / median(reads.oursCpu);
  rows.push({ scenario: 'reads', measure: 'GET /jobs/{name} CPU us per request (ratio: stack/ours)', ours: fmt(reads.oursCpu), baseline: `stack ${fmt(reads.stackCpu)}`, ratio: readCpuRatio.toFixed(2), target: '-', met: null });
  rows.push({ scenario: 'reads', measure: 'GET /jobs/{name} req/s, real logger', ours: fmt(reads.ours), baseline: `stack ${fmt(reads.stack)}; bare ${fmt(reads.bare)}`, ratio: readRatio.toFixed(2), target: '>= 0.9 of stack', met: readRatio >= 0.9 });

  // A 10,000-job batch read by one client: the JSON of each job is joined, not serialised again.
  const { name: batchName } = (await post(service.port, '/api/v1/batches', batchBody(10_000))).json as { name: string };
  const batchRead: number[] = [];
  for (let round = 0; round < rounds; round++) batchRead.push((await load(service.port, { method: 'GET', path: `/api/v1/batches/${batchName}`, connections: 1, seconds })).p99);
  rows.push({ scenario: 'reads', measure: 'GET /batches/{10,000 jobs} p99 ms, 1 client', ours: fmt(batchRead, 1), baseline: '-', ratio: '-', target: '< 100 ms', met: median(batchRead) < 100 });
  await Promise.all([service.stop(), stack.stop(), bare.stop()]);
  return { rows, raw: { accept, reads, batchRead } };
}
