import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Express } from 'express';
import type { Config } from './config.js';
import { createApp } from './http/app.js';
import type { Logger } from './logger.js';
import { Metrics, type Observer } from './metrics.js';
import { Notifier } from './notifications/notifier.js';
import { MemoryOutbox } from './notifications/outbox.js';
import { SqliteOutbox } from './notifications/sqlite-outbox.js';
import { KubernetesRuntime } from './runtimes/kubernetes/kubernetes-runtime.js';
import { JobFiles } from './runtimes/local/job-files.js';
import { LocalRuntime } from './runtimes/local/local-runtime.js';
import type { Runtime } from './runtimes/runtime.js';
import { Scheduler } from './scheduler/scheduler.js';
import { SqliteStore } from './store/sqlite-store.js';

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
  /** How to reach the cluster (the Kubernetes runtime only); main.ts loads it from the pod or KUBECONFIG. */
  kubeConfig?: KubeConfig;
  validateResponses?: boolean;
}

/** Variables of the service's own environment that a local job inherits; nothing else leaks (tokens, secrets). */
const INHERITED_VARIABLES = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/** Where Kubernetes jobs find their payload when the component names no `payload.path`. */
export const DEFAULT_PAYLOAD_PATH = '/var/job-payload';

/** Wires the runtime, the scheduler and the HTTP app for a configuration, and starts the scheduler. */
export async function startService(deps: ServiceDependencies): Promise<Service> {
  const { config, logger } = deps;
  const metrics = new Metrics();
  const runtime: Runtime = config.runtime === 'kubernetes' ? kubernetesRuntime(deps, metrics) : localRuntime(deps);
  const notifier = config.component.notifications?.webhook ? createNotifier(deps, config.component.notifications.webhook, metrics) : undefined;
  const scheduler = new Scheduler({
    runtime, component: config.component, maxRunning: config.maxRunning, logger, observer: metrics, listener: notifier,
    history: { maxAgeMs: config.history.maxAgeSeconds * 1000, keep: config.history.keep, checkMs: config.history.checkSeconds * 1000 },
  });
  metrics.countJobsWith(() => scheduler.statusCounts());
  await scheduler.start();
  const app = createApp({
    scheduler,
    logger,
    metrics,
    apiToken: config.apiToken,
    swaggerUi: config.swaggerUi,
    apiDocument: deps.apiDocument,
    maxRequestBytes: config.maxRequestBytes,
    validateResponses: deps.validateResponses ?? false,
    deadLetters: notifier,
  });
  return {
    app,
    scheduler,
    async close(options = {}) {
      await scheduler.close();
      await runtime.close(options);
      await notifier?.close();
    },
  };
}

function createNotifier({ config, logger }: ServiceDependencies, url: string, metrics: Metrics): Notifier {
  const { webhook } = config;
  // The local runtime keeps its outbox beside its store; the Kubernetes runtime keeps no state of its own,
  // so after a restart it tells every batch's Create again (under its id) and each job's current transition.
  const outbox = config.runtime === 'local'
    ? new SqliteOutbox(path.join(ensureDataDir(config), 'notifications.db'), webhook.deadLetters)
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

function ensureDataDir(config: Config): string {
  const dataDir = path.resolve(config.local.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return dataDir;
}

function localRuntime({ config, logger, componentDir, hostEnv }: ServiceDependencies): LocalRuntime {
  const dataDir = ensureDataDir(config);
  return new LocalRuntime({
    store: new SqliteStore(path.join(dataDir, 'scheduler.db')),
    files: new JobFiles(dataDir),
    workDir: componentDir,
    baseEnv: Object.fromEntries(
      INHERITED_VARIABLES.flatMap((name) => (hostEnv[name] === undefined ? [] : [[name, hostEnv[name]!]])),
    ),
    killGraceMs: config.local.killGraceSeconds * 1000,
    retryDelayMs: config.local.retryDelaySeconds * 1000,
    logger,
  });
}

function kubernetesRuntime({ config, logger, kubeConfig }: ServiceDependencies, observer: Observer): KubernetesRuntime {
  if (!kubeConfig) throw new Error('the kubernetes runtime needs a kubeconfig');
  const { kubernetes, component } = config;
  const namespace = kubernetes.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  return new KubernetesRuntime({
    kubeConfig,
    logger,
    observer,
    writeConcurrency: kubernetes.writeConcurrency,
    settings: {
      namespace,
      component: component.name,
      payloadPath: component.payload?.path ?? DEFAULT_PAYLOAD_PATH,
      nodeTypeKey: kubernetes.nodeTypeKey,
      gpuKey: kubernetes.gpuKey,
      gpuCountKey: kubernetes.gpuCountKey,
    },
  });
}
