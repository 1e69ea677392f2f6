import path from 'node:path';
import type { Express } from 'express';
import type { Config } from './config.js';
import { overridePolicy } from './core/trust.js';
import { allListeners } from './events/listeners.js';
import { LiveEvents } from './events/live-events.js';
import { createApp } from './http/app.js';
import type { Logger } from './logger.js';
import { Metrics, type Observer } from './metrics.js';
import { Notifier } from './notifications/notifier.js';
import { MemoryOutbox } from './notifications/outbox.js';
import { SqliteOutbox } from './notifications/sqlite-outbox.js';
import { JobFiles } from './runtimes/local/job-files.js';
import { LocalRuntime } from './runtimes/local/local-runtime.js';
import type { Runtime } from './runtimes/runtime.js';
import { Scheduler } from './scheduler/scheduler.js';
import { memoryScheduleStates, type ScheduleClock, ScheduleRunner } from './scheduler/schedules.js';
import { type DataDir, openDataDir, openStore } from './store/data-dir.js';
import type { JobStore } from './store/store.js';
import { refusalOf } from './store/write-health.js';

export interface Service {
  app: Express;
  scheduler: Scheduler;
  /** Ends every live event stream at once, so that a server's close is not held by them. */
  closeStreams(): void;
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
  /**
   * Makes the Kubernetes runtime (that runtime only): `kubernetesRuntimeFor` in `runtimes/kubernetes/service-runtime.ts`,
   * which main.ts imports only then, so that the local runtime never loads the Kubernetes client.
   */
  kubernetes?: (observer: Observer) => Runtime;
  validateResponses?: boolean;
  /** The schedules' clock and timers (tests move it themselves); the system's by default. */
  clock?: ScheduleClock;
  /**
   * Whether the jobs of batches that had all finished are read in the background once the service answers
   * (the default); without, each is read only when a read needs it (tests of reads before anything was read).
   */
  backgroundLoad?: boolean;
}

/** Variables of the service's own environment that a local job inherits; nothing else leaks (tokens, secrets). */
const INHERITED_VARIABLES = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/**
 * Wires the runtime, the scheduler and the HTTP app for a configuration, and starts the scheduler.
 * On the local runtime the data directory is taken first (its lock, its permissions, a check of its
 * store): `DataDirError` means another instance holds it or its store is damaged.
 */
export async function startService(deps: ServiceDependencies): Promise<Service> {
  const { config, logger } = deps;
  const metrics = new Metrics();
  const local = config.runtime === 'local' ? await openLocalState(deps, metrics) : undefined;
  const runtime: Runtime = local ? localRuntime(deps, local) : kubernetesRuntime(deps, metrics);
  const notifier = config.component.notifications?.webhook ? createNotifier(deps, config.component.notifications.webhook, metrics, local?.dataDir) : undefined;
  const events = new LiveEvents({ ...config.events, heartbeatMs: config.events.heartbeatSeconds * 1000 });
  const scheduler = new Scheduler({
    runtime, component: config.component, maxRunning: config.maxRunning, logger, observer: metrics, listener: allListeners(notifier, events),
    history: { maxAgeMs: config.history.maxAgeSeconds * 1000, keep: config.history.keep, checkMs: config.history.checkSeconds * 1000 },
    idempotencyWindowMs: config.idempotencyWindowSeconds * 1000,
  });
  metrics.countJobsWith(() => scheduler.statusCounts());
  if (local) metrics.watchStore(() => local.store.health().writable);
  await scheduler.start().catch(async (error: unknown) => {
    await runtime.close();
    local?.dataDir.release();
    throw error;
  });
  const schedules = new ScheduleRunner({
    schedules: config.component.schedules ?? [], component: config.component.name, scheduler, limits: config.limits, logger, clock: deps.clock,
    states: runtime.scheduleStates?.() ?? memoryScheduleStates(),
  });
  await schedules.start();
  const app = createApp({
    scheduler,
    schedules,
    logger,
    metrics,
    apiToken: config.apiToken,
    swaggerUi: config.swaggerUi,
    opsPage: config.opsPage,
    apiDocument: deps.apiDocument,
    maxRequestBytes: config.maxRequestBytes,
    admission: {
      limits: config.limits,
      policy: overridePolicy(config.runtime, config.component.allowOverrides),
      component: config.component,
      retryAfterSeconds: Math.ceil(config.history.checkSeconds),
    },
    validateResponses: deps.validateResponses ?? false,
    notReady: local && (() => storeNotReady(local.store)),
    deadLetters: notifier,
    events,
  });
  // Once the service answers: reads meanwhile read the finished batches they need themselves.
  if (deps.backgroundLoad !== false) scheduler.loadInBackground();
  return {
    app,
    scheduler,
    closeStreams: () => events.close(),
    async close(options = {}) {
      events.close();
      await schedules.close();
      await scheduler.close();
      await runtime.close(options);
      await notifier?.close();
      local?.dataDir.release();
    },
  };
}

/** The local runtime's data directory (locked, private, checked) and its store. */
interface LocalState {
  dataDir: DataDir;
  store: JobStore;
}

async function openLocalState({ config, logger }: ServiceDependencies, metrics: Metrics): Promise<LocalState> {
  const dataDir = await openDataDir(path.resolve(config.local.dataDir), { logger });
  try {
    return { dataDir, store: openStore(dataDir, { logger, observer: metrics }) };
  } catch (error) {
    dataDir.release();
    throw error;
  }
}

/** Why the service cannot take new work while its store cannot write, for `/readyz`. */
function storeNotReady(store: JobStore) {
  const health = store.health();
  if (health.writable || !health.cause) return undefined;
  return { status: 'not ready', cause: health.cause, since: health.since, message: refusalOf(health.cause).message };
}

function createNotifier({ config, logger }: ServiceDependencies, url: string, metrics: Metrics, dataDir: DataDir | undefined): Notifier {
  const { webhook } = config;
  // The local runtime keeps its outbox beside its store; the Kubernetes runtime keeps no state of its own,
  // so after a restart it tells every batch's Create again (under its id) and each job's current transition.
  const outbox = dataDir
    ? new SqliteOutbox(dataDir.privateFile('notifications.db'), webhook.deadLetters)
    : new MemoryOutbox(webhook.deadLetters);
  const notifier = new Notifier({
    url,
    secret: webhook.secret,
    outbox,
    logger,
    observer: metrics,
    baseDelayMs: webhook.retrySeconds * 1000,
    maxDelayMs: webhook.maxRetrySeconds * 1000,
    timeoutMs: webhook.timeoutSeconds * 1000,
    concurrency: webhook.concurrency,
    bound: { maxEvents: webhook.outboxMaxEvents, maxBytes: webhook.outboxMaxBytes },
    jobsPerEvent: webhook.jobsPerEvent,
  });
  metrics.measureWebhookOutboxWith(() => notifier.held);
  return notifier;
}

function localRuntime({ config, logger, componentDir, hostEnv }: ServiceDependencies, { dataDir, store }: LocalState): LocalRuntime {
  return new LocalRuntime({
    store,
    // After the store: a jobs folder marks a data directory whose store existed.
    files: new JobFiles(dataDir.dir),
    workDir: componentDir,
    baseEnv: Object.fromEntries(
      INHERITED_VARIABLES.flatMap((name) => (hostEnv[name] === undefined ? [] : [[name, hostEnv[name]!]])),
    ),
    killGraceMs: config.local.killGraceSeconds * 1000,
    retryDelayMs: config.local.retryDelaySeconds * 1000,
    maxLogBytes: config.local.maxLogBytes,
    maxRunning: config.maxRunning,
    countInterruptions: config.component.safeToRestart === false,
    logger,
  });
}

function kubernetesRuntime({ kubernetes }: ServiceDependencies, observer: Observer): Runtime {
  if (!kubernetes) throw new Error('the kubernetes runtime needs a way to reach the cluster');
  return kubernetes(observer);
}
