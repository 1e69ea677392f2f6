import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';
import { loadApiDocument } from './http/api-document.js';
import { answerMalformedRequests } from './http/error-writer.js';
import { answerWhileStarting } from './http/starting.js';
import { createLogger } from './logger.js';
import { programProblem } from './runtimes/local/program.js';
import { type Service, startService } from './service.js';
import { DataDirError } from './store/data-dir.js';

const DEFAULT_COMPONENT_FILE = '/etc/job-scheduler/component.yaml';

async function main(): Promise<void> {
  const apiDocument = loadApiDocument();
  const componentPath = path.resolve(process.env.JOB_SCHEDULER_CONFIG || DEFAULT_COMPONENT_FILE);
  let componentYaml: string;
  try {
    componentYaml = readFileSync(componentPath, 'utf8');
  } catch (error) {
    fail(`cannot read the component file ${componentPath} (set JOB_SCHEDULER_CONFIG): ${(error as Error).message}`);
  }
  const env = { ...process.env };
  // A token mounted from a Secret: read once here, so config stays a pure function of its inputs.
  let apiTokenFile: { text: string } | { error: string } | undefined;
  if (env.JOB_SCHEDULER_API_TOKEN_FILE) {
    try {
      apiTokenFile = { text: readFileSync(env.JOB_SCHEDULER_API_TOKEN_FILE, 'utf8') };
    } catch (error) {
      apiTokenFile = { error: (error as NodeJS.ErrnoException).code ?? 'unreadable' };
    }
  }
  let config;
  try {
    config = loadConfig({ env, componentYaml, componentPath, apiDocument, cpus: availableParallelism(), apiTokenFile });
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const program = config.runtime === 'local' ? config.component.command?.[0] : undefined;
  const programFault = program === undefined ? undefined : programProblem(program, path.dirname(componentPath), process.env.PATH);
  if (programFault) fail(`${componentPath}: command: ${programFault}; no job could start`);
  const logger = createLogger({ level: config.logLevel });
  if (config.ignoredFields.length > 0) logger.info('component fields used only by Radix, ignored', { ignored: config.ignoredFields.join(', ') });
  for (const { name, didYouMean } of config.unknownVariables) {
    logger.warn(`${name} is not a setting of this service and is ignored${didYouMean ? `: did you mean ${didYouMean}?` : ''}`, { variable: name });
  }
  // The port first: an instance that cannot have it exits before it opens, settles or ends any job.
  // A slow client cannot hold a request (and its buffered body) for longer than the request timeout.
  const requestTimeout = config.requestTimeoutSeconds * 1000;
  const headersTimeout = Math.min(requestTimeout, 15_000);
  const server = createServer({ requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(headersTimeout / 2, 5_000) }, answerWhileStarting);
  answerMalformedRequests(server);
  const cannotListen = (error: NodeJS.ErrnoException) => fail(`cannot listen on ${config.host}:${config.port}: ${error.code ?? error.message}`);
  server.once('error', cannotListen);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  server.removeListener('error', cannotListen);
  server.on('error', (error) => {
    logger.error('server failed', { error });
    process.exit(1);
  });
  // Only the Kubernetes runtime loads the Kubernetes client (seconds and tens of megabytes), once the port answers.
  const cluster = config.runtime === 'kubernetes' ? await import('./runtimes/kubernetes/service-runtime.js') : undefined;
  let service: Service;
  try {
    service = await startService({
      kubernetes: cluster?.kubernetesRuntimeFor(config, logger, cluster.defaultKubeConfig()),
      config,
      logger,
      apiDocument,
      componentDir: path.dirname(componentPath),
      hostEnv: process.env,
    });
  } catch (error) {
    if (error instanceof DataDirError) fail(error.message);
    throw error;
  }
  server.removeListener('request', answerWhileStarting);
  server.on('request', service.app);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info('listening', { host: config.host, port, component: config.component.name, runtime: config.runtime, auth: config.apiToken ? 'bearer' : 'off' });
  let stopping = false;
  /**
   * Stop accepting, let requests in flight finish, then close the scheduler and the runtime: local jobs still
   * running get TERM, then KILL after the kill grace period, and are recorded as interrupted (they run again
   * at the next start without counting as failed). Exit within the deadline regardless.
   */
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, deadlineSeconds: config.shutdownSeconds });
    const deadline = setTimeout(() => {
      logger.warn('shutdown deadline passed; exiting');
      process.exit(1);
    }, config.shutdownSeconds * 1000);
    deadline.unref();
    // Followed logs end now: they would otherwise hold the drain until their jobs end, which the drain waits on.
    service.scheduler.output.close();
    // Live event streams never end by themselves: they end now, or the server's close would wait for them.
    service.closeStreams();
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    drained
      .then(() => service.close({ terminate: true }))
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error('shutdown failed', { error: String(error) });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function fail(message: string): never {
  process.stderr.write(`job-scheduler: ${message}\n`);
  process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`job-scheduler: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
