// The processes of the Kubernetes benchmarks: the fake API server, the service on the Kubernetes runtime and a
// bare create loop, each in its own process so that none shares an event loop with what it is measured against.
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { FakeCommand } from './servers/fake-kube.js';

const here = import.meta.dirname;

type Answer = Record<string, unknown>;
type WithoutId<C> = C extends unknown ? Omit<C, 'id'> : never;
type Command = WithoutId<FakeCommand>;

function start(file: string, env: Record<string, string>, execArgv: string[] = []): { child: ChildProcess; first: Promise<Answer> } {
  const child = fork(path.join(here, 'servers', file), [], { execArgv: ['--import', 'tsx', ...execArgv], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const first = new Promise<Answer>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Answer));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  return { child, first };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** The service's requests in a namespace so far, and the fake's CPU time since it started. */
export interface Counts { writes: number; jobCreates: number; requests: number; cpuMs: number }

/** The fake API server in its own process. */
export interface FakeProcess {
  url: string;
  /** Resolves once `count` more Jobs exist in the namespace than when it was asked (told by the fake, not polled). */
  expectJobs(namespace: string, count: number): Promise<void>;
  /** The service's requests in the namespace so far: writes, Job creates, all. */
  counts(namespace: string): Promise<Counts>;
  /** Keeps the bodies of Job creates from now on; `saveCaptured` writes them to a file as a JSON array. */
  capture(): Promise<void>;
  saveCaptured(file: string): Promise<number>;
  /** Removes the namespace's Jobs (not the batch records that own them). */
  clearJobs(namespace: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startFake(): Promise<FakeProcess> {
  const { child, first } = start('fake-kube.ts', {});
  const { url } = (await first) as { url: string };
  let nextId = 0;
  const pending = new Map<number, (answer: Answer) => void>();
  child.on('message', (message: Answer & { id?: number }) => {
    if (message.id === undefined) return;
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const ask = (command: Command) => new Promise<Answer>((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    child.send({ ...command, id });
  });
  return {
    url,
    expectJobs: async (namespace, count) => void (await ask({ type: 'expect', namespace, count })),
    counts: async (namespace) => (await ask({ type: 'counts', namespace })) as unknown as Counts,
    capture: async () => void (await ask({ type: 'capture' })),
    saveCaptured: async (file) => ((await ask({ type: 'saveCaptured', file })) as { bodies: number }).bodies,
    clearJobs: async (namespace) => void (await ask({ type: 'clearJobs', namespace })),
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/** The service on the Kubernetes runtime in its own process. */
export interface KubeServiceProcess {
  port: number;
  /** The process's CPU time so far. */
  cpuMs(): Promise<number>;
  /** Starts a CPU profile; `profileStop` writes it to `profileDir` and answers its file. */
  profileStart(): Promise<void>;
  profileStop(): Promise<string>;
  stop(): Promise<void>;
}

export async function startKubeService(options: { url: string; namespace: string; env?: Record<string, string>; profileDir?: string }): Promise<KubeServiceProcess> {
  const { child, first } = start('kube-service.ts', { BENCH_KUBE_URL: options.url, BENCH_NAMESPACE: options.namespace, BENCH_ENV: JSON.stringify(options.env ?? {}), BENCH_PROFILE_DIR: options.profileDir ?? '' });
  const { port } = (await first) as { port: number };
  const ask = <T>(message: string) => new Promise<T>((resolve) => {
    child.once('message', (answer) => resolve(answer as T));
    child.send(message);
  });
  return {
    port,
    cpuMs: async () => (await ask<{ cpuMs: number }>('cpu')).cpuMs,
    profileStart: async () => void (await ask('profile-start')),
    profileStop: async () => (await ask<{ file: string }>('profile-stop')).file,
    async stop() {
      child.send('stop');
      await exited(child);
    },
  };
}

/** A fresh bare create loop, ready to go: `go()` resolves once it has created every Job in `bodiesFile`. */
export async function startBareCreates(options: { url: string; namespace: string; bodiesFile: string; concurrency: number }): Promise<{ go(): Promise<{ ms: number; cpuMs: number }> }> {
  const { child, first } = start('bare-kube-create.ts', { BENCH_KUBE_URL: options.url, BENCH_NAMESPACE: options.namespace, BENCH_BODIES: options.bodiesFile, BENCH_CONCURRENCY: String(options.concurrency) });
  await first;
  return {
    async go() {
      const done = new Promise<{ ms: number; cpuMs: number }>((resolve) => child.once('message', (message) => resolve(message as { ms: number; cpuMs: number })));
      child.send('go');
      const result = await done;
      await exited(child);
      return result;
    },
  };
}

/** POSTs a batch of `jobs` jobs with 1 KiB payloads; answers the batch's name. */
export async function postBatch(port: number, jobs: number): Promise<string> {
  const payload = 'x'.repeat(1024);
  const body = JSON.stringify({ jobScheduleDescriptions: Array.from({ length: jobs }, (_, i) => ({ jobId: `job-${i}`, payload })) });
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!response.ok) throw new Error(`POST /api/v1/batches: ${response.status}`);
  return ((await response.json()) as { name: string }).name;
}
