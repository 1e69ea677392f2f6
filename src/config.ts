import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { JobSettings } from './core/model.js';
import { closestName, didYouMean } from './core/closest.js';
import { ApiError } from './core/errors.js';
import { componentNameProblem } from './core/naming.js';
import { checkJobDescription } from './core/validate.js';
import type { BatchStatusRule } from './core/status.js';
import { type ScheduleConfig, scheduleProblems } from './core/schedules.js';
import { DEFAULT_LIMITS, EMPTY_EXEC_SIZE, execProblems, LINUX_MAX_ARG_STRLEN, overlayExecSize, type RequestLimits } from './core/limits.js';
import { componentValidatorFor } from './component-validator.js';
import { LOADER_VARIABLES_GRANT, type OverrideGrant } from './core/trust.js';
import { readApiToken, type TokenFile } from './api-token.js';

/** The component, as configured with the field names of a Radix `jobs:` entry. */
export interface ComponentConfig extends JobSettings {
  name: string;
  schedulerPort?: number;
  payload?: { path: string };
  notifications?: { webhook?: string };
  batchStatusRules?: BatchStatusRule[];
  /**
   * Whether a job may simply run again after the service interrupted its attempt (shutdown, crash, deploy).
   * Default true: such an attempt is recorded `Interrupted` and does not count toward backoffLimit. False: it
   * counts as a failed attempt, for programs that must not run twice unattended.
   */
  safeToRestart?: boolean;
  /** The job fields clients may set; absent, the runtime's default (see core/trust.ts). */
  allowOverrides?: OverrideGrant[];
  /** Cron schedules: each tick runs a single job without payload, labelled `schedule=<name>` (core/schedules.ts). */
  schedules?: ScheduleConfig[];
  /** Whether a batch's `batchId` is its idempotency key (as the `Idempotency-Key` header is) when no header is sent. */
  idempotentBatchId?: boolean;
}

export type RuntimeKind = 'local' | 'kubernetes';
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  component: ComponentConfig;
  /** Fields of the component file that only the Radix platform uses, given and ignored (named once at start). */
  ignoredFields: string[];
  runtime: RuntimeKind;
  host: string;
  port: number;
  logLevel: LogLevel;
  /** `JOB_SCHEDULER_*` variables set but not read (likely misspelt), each with the known name it is closest to. */
  unknownVariables: Array<{ name: string; didYouMean?: string }>;
  /** Most job attempts running at once; the rest wait in order. */
  maxRunning: number;
  /** Largest request body accepted (a batch of many jobs); a single job's payload is capped separately. */
  maxRequestBytes: number;
  /** When set, every `/api` route requires it as a bearer token. Never logged. */
  apiToken: string | undefined;
  /** Most seconds a client may take to send a whole request (headers and body). */
  requestTimeoutSeconds: number;
  /** Bounds on what one request may ask for. */
  limits: RequestLimits;
  /** Serve Swagger UI at /swaggerui. */
  swaggerUi: boolean;
  /** Serve the ops page at /ops/. */
  opsPage: boolean;
  /** On SIGTERM, how long requests in flight may take before the service exits anyway. */
  shutdownSeconds: number;
  /** How long an idempotency key answers the batch it created. */
  idempotencyWindowSeconds: number;
  /** Finished batches older than `maxAgeSeconds` are deleted, keeping the newest `keep` of each kind. */
  history: { maxAgeSeconds: number; keep: number; checkSeconds: number };
  webhook: {
    /** Signs each event (HMAC-SHA256) when set. Never logged. */
    secret: string | undefined;
    retrySeconds: number;
    maxRetrySeconds: number;
    timeoutSeconds: number;
    /** Most deliveries in flight at once (never two of one batch). */
    concurrency: number;
    /** The outbox's bound (events, bytes): past it, superseded transitions are dropped, then the oldest events. */
    outboxMaxEvents: number;
    outboxMaxBytes: number;
    /** Most jobs one `Create` event carries; a larger batch's `Create` comes in parts. */
    jobsPerEvent: number;
    /** Most dead letters (events refused for good) kept; the oldest go first. */
    deadLetters: number;
  };
  /** The live event stream (`GET /api/v1/events`). */
  events: {
    /** How many of the newest events are kept, for readers resuming with `Last-Event-ID` and readers behind. */
    windowEvents: number;
    heartbeatSeconds: number;
    maxReaders: number;
  };
  local: {
    dataDir: string;
    /** Seconds between TERM and KILL when a job is stopped or runs out of time. */
    killGraceSeconds: number;
    /** First delay before retrying a failed attempt; doubles per retry up to 60 s. */
    retryDelaySeconds: number;
    /** Bytes of each attempt's log kept (the newest); older output is dropped with a mark. */
    maxLogBytes: number;
  };
  kubernetes: {
    /** Where Jobs go; unset means the pod's own namespace (in a cluster) or the kubeconfig context's. */
    namespace: string | undefined;
    /** Node label (and taint) keys for `runtime.nodeType`, `node.gpu` and `node.gpuCount`. */
    nodeTypeKey: string;
    gpuKey: string;
    gpuCountKey: string;
    /** Most write requests to the API server in flight at once. */
    writeConcurrency: number;
    /** Client-side rate limit on every request to the API server (client-go's QPS and Burst); qps 0 is off. */
    qps: number;
    burst: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  env: Record<string, string | undefined>;
  /** Text of the component YAML file and its path (for messages). */
  componentYaml: string;
  componentPath: string;
  /** The parsed OpenAPI document: job settings in the file are checked with its schemas. */
  apiDocument: object;
  cpus: number;
  /** What `JOB_SCHEDULER_API_TOKEN_FILE` holds, read by main.ts, or why it could not be read. */
  apiTokenFile?: TokenFile;
}

/** Reads and checks every setting at once; throws one ConfigError naming every bad one. */
export function loadConfig(sources: ConfigSources): Config {
  const problems: string[] = [];
  const ignoredFields: string[] = [];
  const component = readComponent(sources, problems, ignoredFields);
  const env = new EnvReader(sources.env, problems);
  const runtime = env.oneOf('JOB_SCHEDULER_RUNTIME', ['local', 'kubernetes'] as const, 'local');
  const config: Config = {
    component,
    ignoredFields,
    runtime,
    host: env.string('JOB_SCHEDULER_HOST', '127.0.0.1'),
    port: env.integer('JOB_SCHEDULER_PORT', component.schedulerPort ?? 8080, 0, 65535),
    logLevel: env.oneOf('JOB_SCHEDULER_LOG_LEVEL', LOG_LEVELS, 'info'),
    unknownVariables: [],
    // Local jobs share this machine's CPUs; Kubernetes Jobs are bounded by the cluster's quotas instead.
    maxRunning: env.integer('JOB_SCHEDULER_MAX_RUNNING', runtime === 'local' ? Math.max(1, sources.cpus) : 1_000_000, 1, 1_000_000),
    // A body is parsed in one piece: 32 MiB parse in about 50 ms, so no request holds the event loop for long.
    maxRequestBytes: env.integer('JOB_SCHEDULER_MAX_REQUEST_BYTES', 32 * 1024 * 1024, 2 * 1024 * 1024, 2 ** 31 - 1),
    apiToken: readApiToken(sources.env, sources.apiTokenFile, problems),
    requestTimeoutSeconds: env.number('JOB_SCHEDULER_REQUEST_TIMEOUT_SECONDS', 60, 1, 3600),
    limits: {
      maxBatchJobs: env.integer('JOB_SCHEDULER_MAX_BATCH_JOBS', DEFAULT_LIMITS.maxBatchJobs, 1, 1_000_000),
      maxTrackedJobs: env.integer('JOB_SCHEDULER_MAX_TRACKED_JOBS', DEFAULT_LIMITS.maxTrackedJobs, 1, 10_000_000),
      maxVariables: env.integer('JOB_SCHEDULER_MAX_VARIABLES', DEFAULT_LIMITS.maxVariables, 1, 10_000),
      maxVariableBytes: env.integer('JOB_SCHEDULER_MAX_VARIABLE_BYTES', DEFAULT_LIMITS.maxVariableBytes, 16, LINUX_MAX_ARG_STRLEN),
      maxExecBytes: env.integer('JOB_SCHEDULER_MAX_EXEC_BYTES', DEFAULT_LIMITS.maxExecBytes, 1024, 16 * 1024 * 1024),
    },
    swaggerUi: env.boolean('JOB_SCHEDULER_SWAGGER_UI', true),
    opsPage: env.boolean('JOB_SCHEDULER_OPS_PAGE', true),
    shutdownSeconds: env.number('JOB_SCHEDULER_SHUTDOWN_SECONDS', 25, 0, 3600),
    idempotencyWindowSeconds: env.number('JOB_SCHEDULER_IDEMPOTENCY_WINDOW_SECONDS', 86400, 1, 365 * 24 * 3600),
    history: {
      maxAgeSeconds: env.number('JOB_SCHEDULER_HISTORY_MAX_AGE_SECONDS', 7 * 24 * 3600, 0, 10 * 365 * 24 * 3600),
      keep: env.integer('JOB_SCHEDULER_HISTORY_KEEP', 10, 0, 1_000_000),
      checkSeconds: env.number('JOB_SCHEDULER_HISTORY_CHECK_SECONDS', 60, 0.05, 86400),
    },
    webhook: {
      secret: sources.env.JOB_SCHEDULER_WEBHOOK_SECRET || undefined,
      retrySeconds: env.number('JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS', 1, 0, 3600),
      maxRetrySeconds: env.number('JOB_SCHEDULER_WEBHOOK_MAX_RETRY_SECONDS', 60, 0, 86400),
      timeoutSeconds: env.number('JOB_SCHEDULER_WEBHOOK_TIMEOUT_SECONDS', 10, 0.1, 3600),
      concurrency: env.integer('JOB_SCHEDULER_WEBHOOK_CONCURRENCY', 4, 1, 256),
      outboxMaxEvents: env.integer('JOB_SCHEDULER_WEBHOOK_OUTBOX_MAX_EVENTS', 100_000, 10, 10_000_000),
      outboxMaxBytes: env.integer('JOB_SCHEDULER_WEBHOOK_OUTBOX_MAX_BYTES', 64 * 1024 * 1024, 64 * 1024, 2 ** 40),
      jobsPerEvent: env.integer('JOB_SCHEDULER_WEBHOOK_JOBS_PER_EVENT', 100, 1, 100_000),
      deadLetters: env.integer('JOB_SCHEDULER_WEBHOOK_DEAD_LETTERS', 1000, 1, 1_000_000),
    },
    events: {
      // Twice the largest batch by default: stopping a whole batch at once does not push its own start out.
      windowEvents: env.integer('JOB_SCHEDULER_EVENTS_WINDOW', 20_000, 10, 1_000_000),
      heartbeatSeconds: env.number('JOB_SCHEDULER_EVENTS_HEARTBEAT_SECONDS', 15, 0.05, 3600),
      maxReaders: env.integer('JOB_SCHEDULER_EVENTS_MAX_READERS', 1000, 1, 100_000),
    },
    local: {
      dataDir: env.string('JOB_SCHEDULER_DATA_DIR', '.data'),
      killGraceSeconds: env.number('JOB_SCHEDULER_KILL_GRACE_SECONDS', 10, 0, 3600),
      retryDelaySeconds: env.number('JOB_SCHEDULER_RETRY_DELAY_SECONDS', 1, 0, 3600),
      maxLogBytes: env.integer('JOB_SCHEDULER_MAX_LOG_BYTES', 10 * 1024 * 1024, 1024, 2 ** 30),
    },
    kubernetes: {
      namespace: sources.env.JOB_SCHEDULER_NAMESPACE || undefined,
      nodeTypeKey: env.string('JOB_SCHEDULER_NODE_TYPE_KEY', 'job-scheduler.io/node-type'),
      gpuKey: env.string('JOB_SCHEDULER_GPU_KEY', 'job-scheduler.io/gpu'),
      gpuCountKey: env.string('JOB_SCHEDULER_GPU_COUNT_KEY', 'job-scheduler.io/gpu-count'),
      writeConcurrency: env.integer('JOB_SCHEDULER_KUBE_WRITE_CONCURRENCY', 16, 1, 256),
      qps: env.number('JOB_SCHEDULER_KUBE_QPS', 0, 0, 100_000),
      burst: env.integer('JOB_SCHEDULER_KUBE_BURST', 32, 1, 100_000),
    },
  };
  config.unknownVariables = unknownVariables(sources.env, env.names);
  if (runtime === 'local' && component.name && !component.command?.length) {
    problems.push(`${sources.componentPath}: command is required on the local runtime (the program each job runs)`);
  }
  if (runtime === 'kubernetes' && component.name && !component.image) {
    problems.push(`${sources.componentPath}: image is required on the kubernetes runtime`);
  }
  if (config.limits.maxBatchJobs > config.limits.maxTrackedJobs) {
    problems.push('JOB_SCHEDULER_MAX_BATCH_JOBS cannot be above JOB_SCHEDULER_MAX_TRACKED_JOBS (no batch that large could be accepted)');
  }
  for (const problem of execProblems(component, overlayExecSize(EMPTY_EXEC_SIZE, component), config.limits, '')) {
    problems.push(`${sources.componentPath}: ${problem.path} ${problem.message}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readComponent(sources: ConfigSources, problems: string[], ignored: string[]): ComponentConfig {
  const where = sources.componentPath;
  let parsed: unknown;
  try {
    parsed = parseYaml(sources.componentYaml);
  } catch (error) {
    // The parser's message ends with a code frame (the line and a caret under the fault): keep it.
    problems.push(`${where}: not valid YAML: ${(error as Error).message.trimEnd()}`);
    return { name: '' };
  }
  const validate = componentValidator(sources.apiDocument);
  if (!validate(parsed)) {
    for (const error of validate.errors ?? []) problems.push(`${where}: ${describeSchemaError(error)}`);
    return { name: '' };
  }
  const fields = parsed as Record<string, unknown>;
  const radixOnly = radixOnlyFields();
  for (const name of Object.keys(fields).filter((key) => radixOnly.includes(key))) {
    ignored.push(name);
    delete fields[name];
  }
  const component = fields as unknown as ComponentConfig;
  // radixconfig.yaml takes `gpuCount: 2`; the API, as Radix's, carries it as a string.
  if (typeof component.node?.gpuCount === 'number') component.node.gpuCount = String(component.node.gpuCount);
  try {
    const { payload: _mountPath, allowOverrides: _allow, idempotentBatchId: _key, ...settings } = component;
    checkJobDescription(settings);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    for (const field of error.fields ?? []) problems.push(`${where}: ${field.path} ${field.message}`);
  }
  if (component.allowOverrides?.includes(LOADER_VARIABLES_GRANT) && !component.allowOverrides.includes('variables')) {
    problems.push(`${where}: allowOverrides lists ${LOADER_VARIABLES_GRANT} but not variables, which it is part of`);
  }
  const nameProblem = componentNameProblem(component.name);
  if (nameProblem) problems.push(`${where}: name ${nameProblem}`);
  for (const problem of scheduleProblems(component.schedules ?? [])) problems.push(`${where}: ${problem.path} ${problem.message}`);
  return component;
}

function describeSchemaError(error: ErrorObject): string {
  const field = error.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)';
  if (error.keyword === 'additionalProperties') {
    // Worded as the API words it (src/http/validation-messages.ts), with the close name of that level.
    const name = String(error.params.additionalProperty);
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    return `${field === '(top level)' ? '' : field + '.'}${name} is not a known field${didYouMean(name, known)}`;
  }
  if (error.keyword === 'required') return `${field === '(top level)' ? '' : field + '.'}${String(error.params.missingProperty)} is required`;
  return `${field} ${error.message ?? 'is invalid'}`;
}

const validators = new WeakMap<object, ReturnType<Ajv['compile']>>();

let loadedSchema: ComponentSchema | undefined;

/** The component file's schema: a Radix `jobs:` entry (see api/component.schema.json), read once, when first needed. */
function componentSchema(): ComponentSchema {
  loadedSchema ??= JSON.parse(readFileSync(new URL('../api/component.schema.json', import.meta.url), 'utf8')) as ComponentSchema;
  return loadedSchema;
}

interface ComponentSchema {
  properties: Record<string, { 'x-radix-only'?: boolean; items?: object }>;
}

/** Fields that only the Radix platform uses: accepted, checked for shape, and otherwise ignored. */
function radixOnlyFields(): string[] {
  const { properties } = componentSchema();
  return Object.keys(properties).filter((name) => properties[name]?.['x-radix-only']);
}

function componentValidator(apiDocument: object) {
  const cached = validators.get(apiDocument);
  if (cached) return cached;
  const validate = componentValidatorFor(apiDocument, componentSchema());
  validators.set(apiDocument, validate);
  return validate;
}

/** Variables read outside EnvReader (main.ts, the token reader, plain strings). */
const OTHER_VARIABLES = ['JOB_SCHEDULER_CONFIG', 'JOB_SCHEDULER_API_TOKEN', 'JOB_SCHEDULER_API_TOKEN_FILE', 'JOB_SCHEDULER_WEBHOOK_SECRET', 'JOB_SCHEDULER_NAMESPACE'];

function unknownVariables(env: Record<string, string | undefined>, read: ReadonlySet<string>): Config['unknownVariables'] {
  const known = [...read, ...OTHER_VARIABLES];
  return Object.keys(env)
    .filter((name) => name.startsWith('JOB_SCHEDULER_') && !known.includes(name))
    .map((name) => ({ name, didYouMean: closestName(name, known) }));
}

class EnvReader {
  /** Every variable asked for, so that one set but never asked for can be warned about. */
  readonly names = new Set<string>();

  constructor(private readonly env: Record<string, string | undefined>, private readonly problems: string[]) {}

  string(name: string, fallback: string): string {
    this.names.add(name);
    const value = this.env[name];
    return value === undefined || value === '' ? fallback : value;
  }

  number(name: string, fallback: number, min: number, max: number, integer = false): number {
    this.names.add(name);
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      this.problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not "${raw}"`);
      return fallback;
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    return this.number(name, fallback, min, max, true);
  }

  boolean(name: string, fallback: boolean): boolean {
    this.names.add(name);
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['false', '0', 'no', 'off'].includes(raw.toLowerCase())) return false;
    this.problems.push(`${name} must be true or false, not "${raw}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    this.names.add(name);
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, not "${raw}"`);
      return fallback;
    }
    return raw as T;
  }
}
