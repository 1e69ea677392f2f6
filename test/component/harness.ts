import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import supertest from 'supertest';
import { parse as parseYaml } from 'yaml';
import { type ComponentConfig, type Config, loadConfig, type LogLevel } from '../../src/config.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { answerMalformedRequests } from '../../src/http/error-writer.js';
import type { ScheduleClock } from '../../src/scheduler/schedules.js';
import { type Service, startService } from '../../src/service.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const fixtureJob = path.join(root, 'test/fixtures/job.mjs');
export const apiDocument = parseYaml(readFileSync(path.join(root, 'api/openapi.yaml'), 'utf8')) as object;

export interface TestService {
  request: supertest.Agent;
  service: Service;
  config: Config;
  dataDir: string;
  /** Log lines written so far, when `captureLogs` was asked for. */
  logs: string[];
  /** Stops the service (killing its jobs' processes) and removes its data unless `keepData`. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface TestServiceOptions {
  component?: Partial<ComponentConfig>;
  env?: Record<string, string>;
  /** Reuse a data directory (to test a restart). */
  dataDir?: string;
  /** Collect every log line (at debug level) into `logs`. */
  captureLogs?: boolean;
  /** The level of the captured logger (default `debug`); `info` is the service's default. */
  logLevel?: LogLevel;
  /** The schedules' clock (a test's fake one). */
  clock?: ScheduleClock;
  /** False: finished batches are read only when a read needs them, not in the background after the start. */
  backgroundLoad?: boolean;
}

/** The real app over the real local runtime: real processes, a real SQLite file in a temp dir. */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'job-scheduler-test-'));
  const component: ComponentConfig = { name: 'compute', command: [process.execPath, fixtureJob], ...options.component };
  const config = loadConfig({
    env: {
      JOB_SCHEDULER_DATA_DIR: dataDir,
      JOB_SCHEDULER_KILL_GRACE_SECONDS: '2',
      JOB_SCHEDULER_RETRY_DELAY_SECONDS: '0',
      JOB_SCHEDULER_MAX_RUNNING: '4',
      ...options.env,
    },
    componentYaml: JSON.stringify(component),
    componentPath: 'component.yaml',
    apiDocument,
    cpus: 2,
  });
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = options.captureLogs ? createLogger({ level: options.logLevel ?? 'debug', stream }) : process.env.TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger();
  const service = await startService({
    config,
    logger,
    apiDocument,
    componentDir: root,
    hostEnv: process.env,
    validateResponses: true,
    clock: options.clock,
    backgroundLoad: options.backgroundLoad,
  });
  const server: Server = await new Promise((resolve) => {
    const listening = service.app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  answerMalformedRequests(server);
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    request: supertest.agent(`http://127.0.0.1:${address.port}`),
    service,
    config,
    dataDir,
    logs,
    async close({ keepData = false } = {}) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close({ terminate: true });
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `done` holds, at most `timeoutMs`; no fixed sleeps. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

export const TERMINAL = ['Succeeded', 'Failed', 'Stopped'];

/** Waits until a job (by name) reaches a terminal status, and answers its state. */
export async function waitForJobEnd(request: supertest.Agent, name: string, timeoutMs?: number) {
  const response = await waitFor(() => request.get(`/api/v1/jobs/${name}`), (r) => r.status !== 200 || TERMINAL.includes(r.body.status), timeoutMs);
  return response.body as JobState;
}

export interface JobState {
  name: string;
  jobId?: string;
  batchName?: string;
  status: string;
  message?: string;
  created: string;
  started: string | null;
  ended: string | null;
  failed: number;
  podStatuses: Array<{ name: string; created: string; exitCode: number | null; reason: string | null; replicaStatus: { status: string }; startTime: string | null; endTime: string | null }>;
}

/** Builder of job descriptions whose payload drives test/fixtures/job.mjs. */
export function aJob(behaviour: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) {
  return { payload: JSON.stringify(behaviour), ...settings };
}

/** The lines of a job attempt's log that the fixture printed as JSON. */
export function jobOutput(dataDir: string, jobName: string, attempt = 0): Array<Record<string, unknown>> {
  const text = readFileSync(path.join(dataDir, 'jobs', jobName, `attempt-${attempt}.log`), 'utf8');
  return text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}
