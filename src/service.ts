import path from 'node:path';
import type { Express } from 'express';
import type { Config } from './config.js';
import { createApp } from './http/app.js';
import type { Logger } from './logger.js';
import { JobFiles } from './runtimes/local/job-files.js';
import { LocalRuntime } from './runtimes/local/local-runtime.js';
import { Scheduler } from './scheduler/scheduler.js';
import { SqliteStore } from './store/sqlite-store.js';
import { mkdirSync } from 'node:fs';

export interface Service {
  app: Express;
  scheduler: Scheduler;
  /** Stops the scheduler and the runtime; with `terminate`, ends running local jobs too. */
  close(options?: { terminate?: boolean }): Promise<void>;
}

export interface ServiceDependencies {
  config: Config;
  logger: Logger;
  apiDocument: object;
  /** Directory the component's relative command paths are resolved from (the component file's). */
  componentDir: string;
  /** The environment jobs start from: only harmless variables such as PATH are passed on. */
  hostEnv: Record<string, string | undefined>;
  validateResponses?: boolean;
}

/** Variables of the service's own environment that a local job inherits; nothing else leaks (tokens, secrets). */
const INHERITED_VARIABLES = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/** Wires the runtime, the scheduler and the HTTP app for a configuration, and starts the scheduler. */
export async function startService(deps: ServiceDependencies): Promise<Service> {
  const { config, logger } = deps;
  if (config.runtime !== 'local') throw new Error(`the ${config.runtime} runtime is not available in this build`);
  const dataDir = path.resolve(config.local.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const runtime = new LocalRuntime({
    store: new SqliteStore(path.join(dataDir, 'scheduler.db')),
    files: new JobFiles(dataDir),
    workDir: deps.componentDir,
    baseEnv: Object.fromEntries(
      INHERITED_VARIABLES.flatMap((name) => (deps.hostEnv[name] === undefined ? [] : [[name, deps.hostEnv[name]!]])),
    ),
    killGraceMs: config.local.killGraceSeconds * 1000,
    retryDelayMs: config.local.retryDelaySeconds * 1000,
    logger,
  });
  const scheduler = new Scheduler({ runtime, component: config.component, maxRunning: config.maxRunning, logger });
  await scheduler.start();
  const app = createApp({
    scheduler,
    logger,
    apiDocument: deps.apiDocument,
    maxRequestBytes: config.maxRequestBytes,
    validateResponses: deps.validateResponses ?? false,
  });
  return {
    app,
    scheduler,
    async close(options = {}) {
      await scheduler.close();
      await runtime.close(options);
    },
  };
}
