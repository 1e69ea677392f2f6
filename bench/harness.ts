// What every bench module shares: the service started as `npm start` runs it, baselines in their own
// processes, load, and the figures' formatting. Nothing measured runs in the bench's own process.
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { startCommand } from './servers/start-command.js';

/** One line of the table. */
export interface Row {
  scenario: string;
  measure: string;
  ours: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | null;
}

export const root = path.resolve(import.meta.dirname, '..');
export const here = import.meta.dirname;

/** `npm start` builds first; so does the bench, once. */
let built = false;
export function buildOnce(): void {
  if (built) return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  // What `npm run build:service` makes from the API document: its JSON copy, the component file's and ndjson validators as code.
  execFileSync(process.execPath, ['dist/http/build-api.js'], { cwd: root, stdio: 'inherit' });
  built = true;
}

/** A port free now, for a process that takes it as a setting (as `npm start` does). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServiceOptions {
  /** The program each job runs. */
  command?: string[];
  /** Kept across starts to measure a restart on a full store; a fresh temporary one otherwise. */
  dataDir?: string;
  /** Further `JOB_SCHEDULER_*` settings. */
  env?: Record<string, string>;
  /** Lets the bench ask for a full GC and the memory figures (bench/servers/gc-hook.mjs). */
  memoryHook?: boolean;
  /** More node options (a profile: `--cpu-prof`). */
  execArgv?: string[];
}

export interface ServiceProcess {
  port: number;
  pid: number;
  dataDir: string;
  /** Milliseconds from spawn to the first 200 from /readyz. */
  readyMs: number;
  /** Where its standard output and error go (its log lines). */
  logFile: string;
  /** After a full GC in the service: what process.memoryUsage() says there. */
  memory(): Promise<NodeJS.MemoryUsage>;
  /** SIGTERM, as an orchestrator stops it; waits for the exit. Keeps a data directory that was given. */
  stop(): Promise<void>;
}

/**
 * The real service, started by `npm start`'s script (`servers/start-command.ts`) with the component file in
 * JOB_SCHEDULER_CONFIG, the default log level, standard output and error going to a log file (as a container runtime would keep them).
 */
export async function startService(options: ServiceOptions = {}): Promise<ServiceProcess> {
  buildOnce();
  const work = mkdtempSync(path.join(tmpdir(), 'job-scheduler-bench-'));
  const dataDir = options.dataDir ?? path.join(work, 'data');
  const componentFile = path.join(work, 'component.yaml');
  writeFileSync(componentFile, JSON.stringify({ name: 'bench', command: options.command ?? ['/bin/sleep', '3600'] }));
  const port = await freePort();
  const memoryFile = path.join(work, 'memory.json');
  const log = openSync(path.join(work, 'service.log'), 'a');
  const execArgv = [...(options.memoryHook ? ['--expose-gc', '--import', path.join(here, 'servers/gc-hook.mjs')] : []), ...(options.execArgv ?? [])];
  const started = performance.now();
  const { file, args } = startCommand(root, execArgv);
  const child = spawn(file, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, BENCH_MEMORY_FILE: memoryFile,
      JOB_SCHEDULER_CONFIG: componentFile, JOB_SCHEDULER_DATA_DIR: dataDir, JOB_SCHEDULER_PORT: String(port), ...options.env,
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (;;) {
    const status = await Promise.race([exited.then(() => -1), fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)]);
    if (status === 200) break;
    if (status === -1) throw new Error(`the service exited at start; see ${path.join(work, 'service.log')}`);
    await sleep(status === 0 ? 5 : 2);
  }
  const readyMs = performance.now() - started;
  return {
    port, pid: child.pid!, dataDir, readyMs, logFile: path.join(work, 'service.log'),
    async memory() {
      rmSync(memoryFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 1000; i++) {
        try {
          return JSON.parse(readFileSync(memoryFile, 'utf8')) as NodeJS.MemoryUsage;
        } catch {
          await sleep(10);
        }
      }
      throw new Error('the service did not report its memory');
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** A baseline or helper process: plain node for .mjs, tsx for .ts; it sends its port or result over IPC. */
export function forkProcess(file: string, args: string[] = [], env: Record<string, string> = {}): ChildProcess {
  const execArgv = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return fork(path.join(here, file), args, { execArgv, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

export function firstMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    child.once('message', (message) => resolve(message as T));
    child.once('exit', (code) => reject(new Error(`a bench process exited with ${code}`)));
  });
}

export interface Baseline {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export async function startBaseline(file: string, env: Record<string, string> = {}): Promise<Baseline> {
  const child = forkProcess(file, [], env);
  const { port } = await firstMessage<{ port: number }>(child);
  return {
    port,
    pid: child.pid!,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resident and peak resident set of a process we started, from /proc, in bytes. */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Resets the peak resident set (VmHWM) of a process we started, so a peak is of what follows. */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** CPU time (user + system) a process we started has used, in ms: robust to a busy machine where rates are not. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export async function load(port: number, options: { method: 'GET' | 'POST'; path: string; body?: string; connections?: number; seconds: number; pid?: number }) {
  const cpuBefore = options.pid ? cpuMsOf(options.pid) : 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${options.path}`,
    method: options.method,
    body: options.body,
    headers: options.body ? { 'content-type': 'application/json' } : {},
    connections: options.connections ?? 32,
    duration: options.seconds,
  });
  const bad = result.non2xx + result.errors;
  if (bad > 0) throw new Error(`${bad} failed requests against ${options.path}`);
  const cpuUsPerRequest = options.pid ? ((cpuMsOf(options.pid) - cpuBefore) * 1000) / result.requests.total : NaN;
  return { rps: result.requests.average, p99: result.latency.p99, cpuUsPerRequest };
}

export async function post(port: number, url: string, body: string, contentType = 'application/json'): Promise<{ ms: number; json: unknown }> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}${url}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const json = await response.json();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(json).slice(0, 300)}`);
  return { ms: performance.now() - started, json };
}

export async function getJson<T>(port: number, url: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${url}`);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** Polls a batch until it is done; answers when it was seen done. */
export async function untilBatchDone(port: number, name: string): Promise<void> {
  for (;;) {
    const batch = await getJson<{ status: string }>(port, `/api/v1/batches/${name}`);
    if (['Succeeded', 'Failed', 'Stopped'].includes(batch.status)) return;
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const fmt = (xs: number[], digits = 0) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
