// The fair loop for local throughput, in a fresh small process (plain node): per job the same work as the
// local runtime (a private folder, a payload file, a log file) and the same spawn (no shell, its own
// process group, stdout and stderr to the log file), `concurrency` at a time. Sends jobs/s and its CPU time over IPC.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const [jobs, concurrency, command = '/bin/true'] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const root = mkdtempSync(path.join(tmpdir(), 'job-scheduler-bench-loop-'));
const payload = 'x'.repeat(1024);
const started = performance.now();
let next = 0;
async function worker() {
  while (next < jobs) {
    const name = `job-${next++}`;
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, 'payload'), payload, { mode: 0o600 });
    const log = openSync(path.join(dir, 'attempt-0.log'), 'a', 0o600);
    await new Promise((resolve, reject) => {
      const child = spawn(command, [], { cwd: root, env: { PATH: process.env.PATH, PAYLOAD_PATH: dir, JOB_NAME: name }, detached: true, stdio: ['ignore', log, log] });
      child.once('error', reject).once('exit', resolve);
    });
    closeSync(log);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const jobsPerSecond = jobs / ((performance.now() - started) / 1000);
const { user, system } = process.cpuUsage();
rmSync(root, { recursive: true, force: true });
process.send({ jobsPerSecond, cpuUs: user + system, rss: process.memoryUsage().rss });
process.disconnect();
