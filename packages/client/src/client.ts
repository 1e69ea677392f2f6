import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import { JobSchedulerError } from './errors.js';
import { type FollowEventsOptions, followEvents, type LiveEvent } from './events.js';
import type { paths } from './generated/api.js';
import { type RetryOptions, retryingFetch, sleep } from './retry.js';
import type {
  BatchCopyDescription, BatchFilters, BatchScheduleDescription, BatchStatus, DeadLetter, DryRunResult, EffectiveJobSettings, JobFilters,
  JobScheduleDescription, JobStatus, JobTimeline, LogOptions, Page, Status, SubmitOptions,
} from './types.js';

/** How to reach the service. */
export interface JobSchedulerClientOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** The API token (`Authorization: Bearer`), when the service has one. */
  token?: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Retries of calls that are safe to repeat. */
  retry?: RetryOptions;
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** Every operation of the job-scheduler API, typed from `api/openapi.yaml`; failures throw `JobSchedulerError`. */
export class JobSchedulerClient {
  private readonly api: Client<paths>;
  private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: JobSchedulerClientOptions) {
    const baseFetch = options.fetch ?? globalThis.fetch;
    this.wait = options.retry?.sleep ?? sleep;
    this.api = createClient<paths>({
      baseUrl: options.url.replace(/\/+$/, ''),
      fetch: retryingFetch(baseFetch, options.retry),
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    });
  }

  /** Starts a single job. */
  async createJob(description: JobScheduleDescription = {}, options: SubmitOptions = {}): Promise<JobStatus> {
    return recorded(await unwrap(this.api.POST('/api/v1/jobs', { body: description, ...submitInit(options) })));
  }

  /** Starts a batch. */
  async createBatch(description: BatchScheduleDescription, options: SubmitOptions = {}): Promise<BatchStatus> {
    return recorded(await unwrap(this.api.POST('/api/v1/batches', { body: description, ...submitInit(options) })));
  }

  /** The effective settings a single job would run with (`?dryRun=true`); nothing is recorded or started. */
  async dryRunJob(description: JobScheduleDescription = {}, options: { signal?: AbortSignal } = {}): Promise<DryRunResult> {
    return dryRunOf(await unwrap(this.api.POST('/api/v1/jobs', { body: description, ...submitInit({ ...options, idempotencyKey: false }, true) })));
  }

  /** The effective settings every job of a batch would run with (`?dryRun=true`); nothing is recorded or started. */
  async dryRunBatch(description: BatchScheduleDescription, options: { signal?: AbortSignal } = {}): Promise<DryRunResult> {
    return dryRunOf(await unwrap(this.api.POST('/api/v1/batches', { body: description, ...submitInit({ ...options, idempotencyKey: false }, true) })));
  }

  async getJob(jobName: string): Promise<JobStatus> {
    return unwrap(this.api.GET('/api/v1/jobs/{jobName}', { params: { path: { jobName } } }));
  }

  /** One page of single jobs. */
  async getJobs(filters: JobFilters = {}): Promise<Page<JobStatus>> {
    return page(this.api.GET('/api/v1/jobs', { params: { query: jobQuery(filters) } }));
  }

  /** Every single job that matches, page after page (`filters.limit` is the page size). */
  listJobs(filters: JobFilters = {}): AsyncGenerator<JobStatus> {
    return pages((cont) => this.getJobs({ ...filters, continue: cont }), filters.continue);
  }

  async deleteJob(jobName: string): Promise<Status> {
    return unwrap(this.api.DELETE('/api/v1/jobs/{jobName}', { params: { path: { jobName } } }));
  }

  async stopJob(jobName: string): Promise<Status> {
    return unwrap(this.api.POST('/api/v1/jobs/{jobName}/stop', { params: { path: { jobName } } }));
  }

  async stopAllJobs(): Promise<Status> {
    return unwrap(this.api.POST('/api/v1/jobs/stop'));
  }

  /** The output of one attempt so far. */
  async getJobLog(jobName: string, options: LogOptions = {}): Promise<string> {
    const query = { attempt: options.attempt, tail: options.tail };
    return unwrap(this.api.GET('/api/v1/jobs/{jobName}/logs', { params: { path: { jobName }, query }, parseAs: 'text', signal: options.signal }));
  }

  /** The output of one attempt as it is written, chunk by chunk; ends when the attempt ends. */
  async *followJobLog(jobName: string, options: LogOptions = {}): AsyncGenerator<string> {
    const query = { attempt: options.attempt, tail: options.tail, follow: true };
    const body = await unwrap(this.api.GET('/api/v1/jobs/{jobName}/logs', { params: { path: { jobName }, query }, parseAs: 'stream', signal: options.signal }));
    const decoder = new TextDecoder();
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const text = decoder.decode(value, { stream: true });
        if (text) yield text;
      }
      const rest = decoder.decode();
      if (rest) yield rest;
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  async getJobPayload(jobName: string): Promise<string> {
    return unwrap(this.api.GET('/api/v1/jobs/{jobName}/payload', { params: { path: { jobName } }, parseAs: 'text' }));
  }

  async getJobSettings(jobName: string): Promise<EffectiveJobSettings> {
    return unwrap(this.api.GET('/api/v1/jobs/{jobName}/settings', { params: { path: { jobName } } }));
  }

  async getJobTimeline(jobName: string): Promise<JobTimeline> {
    return unwrap(this.api.GET('/api/v1/jobs/{jobName}/timeline', { params: { path: { jobName } } }));
  }

  /** One page of batches, each with `jobCounts`. */
  async getBatches(filters: BatchFilters = {}): Promise<Page<BatchStatus>> {
    const { status, ...rest } = filters;
    return page(this.api.GET('/api/v1/batches', { params: { query: { ...rest, status: joined(status) } } }));
  }

  /** Every batch that matches, page after page. */
  listBatches(filters: BatchFilters = {}): AsyncGenerator<BatchStatus> {
    return pages((cont) => this.getBatches({ ...filters, continue: cont }), filters.continue);
  }

  /** One batch with its jobs (`filters` choose and page them). */
  async getBatch(batchName: string, filters: JobFilters = {}): Promise<BatchStatus> {
    return unwrap(this.api.GET('/api/v1/batches/{batchName}', { params: { path: { batchName }, query: jobQuery(filters) } }));
  }

  /** One batch's state and `jobCounts`, without its jobs: cheap however large the batch. */
  async getBatchCounts(batchName: string): Promise<BatchStatus> {
    return unwrap(this.api.GET('/api/v1/batches/{batchName}', { params: { path: { batchName }, query: { jobStatuses: false } } }));
  }

  /** Every job of a batch that matches, page after page. */
  listBatchJobs(batchName: string, filters: JobFilters = {}): AsyncGenerator<JobStatus> {
    return pages(async (cont) => {
      const { data, response } = await answer(this.api.GET('/api/v1/batches/{batchName}', { params: { path: { batchName }, query: jobQuery({ ...filters, continue: cont }) } }));
      return { items: data.jobStatuses ?? [], continue: response.headers.get('x-continue') ?? undefined };
    }, filters.continue);
  }

  async getBatchJob(batchName: string, jobName: string): Promise<JobStatus> {
    return unwrap(this.api.GET('/api/v1/batches/{batchName}/jobs/{jobName}', { params: { path: { batchName, jobName } } }));
  }

  async deleteBatch(batchName: string): Promise<Status> {
    return unwrap(this.api.DELETE('/api/v1/batches/{batchName}', { params: { path: { batchName } } }));
  }

  async stopBatch(batchName: string): Promise<Status> {
    return unwrap(this.api.POST('/api/v1/batches/{batchName}/stop', { params: { path: { batchName } } }));
  }

  async stopBatchJob(batchName: string, jobName: string): Promise<Status> {
    return unwrap(this.api.POST('/api/v1/batches/{batchName}/jobs/{jobName}/stop', { params: { path: { batchName, jobName } } }));
  }

  async stopAllBatches(): Promise<Status> {
    return unwrap(this.api.POST('/api/v1/batches/stop'));
  }

  /** Runs a single job that has ended again, under its name. */
  async restartJob(jobName: string): Promise<JobStatus> {
    return unwrap(this.api.POST('/api/v1/jobs/{jobName}/restart', { params: { path: { jobName } } }));
  }

  /** Runs a job of a batch that has ended again, under its name. */
  async restartBatchJob(batchName: string, jobName: string): Promise<JobStatus> {
    return unwrap(this.api.POST('/api/v1/batches/{batchName}/jobs/{jobName}/restart', { params: { path: { batchName, jobName } } }));
  }

  /** Runs every job of a batch that has ended again. */
  async restartBatch(batchName: string): Promise<BatchStatus> {
    return unwrap(this.api.POST('/api/v1/batches/{batchName}/restart', { params: { path: { batchName } } }));
  }

  /** Runs again only the jobs of a batch that failed or were stopped. */
  async rerunFailedJobs(batchName: string): Promise<BatchStatus> {
    return unwrap(this.api.POST('/api/v1/batches/{batchName}/rerun-failed', { params: { path: { batchName } } }));
  }

  /** A new single job with the settings and payload of `jobName`, overridden by `overrides`. */
  async copyJob(jobName: string, overrides: JobScheduleDescription = {}): Promise<JobStatus> {
    return unwrap(this.api.POST('/api/v1/jobs/{jobName}/copy', { params: { path: { jobName } }, body: overrides }));
  }

  /** A new batch with the jobs, settings and payloads of `batchName`, overridden by `overrides`. */
  async copyBatch(batchName: string, overrides: BatchCopyDescription = {}): Promise<BatchStatus> {
    return unwrap(this.api.POST('/api/v1/batches/{batchName}/copy', { params: { path: { batchName } }, body: overrides }));
  }

  async getDeadLetters(limit?: number): Promise<DeadLetter[]> {
    return unwrap(this.api.GET('/api/v1/notifications/dead-letters', { params: { query: { limit } } }));
  }

  /** The live events (Server-Sent Events), reconnecting with `Last-Event-ID` until `signal` aborts or the loop breaks. */
  events(options: FollowEventsOptions = {}): AsyncGenerator<LiveEvent> {
    const query = { batch: options.batch, job: options.job };
    return followEvents(async (lastEventId, signal) => {
      const header = lastEventId ? { 'Last-Event-ID': lastEventId } : {};
      const { response, error } = await this.api.GET('/api/v1/events', { params: { query, header }, parseAs: 'stream', signal });
      if (!response.ok) throw JobSchedulerError.fromResponse(response, error);
      return response;
    }, options, this.wait);
  }
}

function submitInit(options: SubmitOptions, dryRun = false) {
  const key = options.idempotencyKey === undefined ? randomUUID() : options.idempotencyKey;
  return {
    headers: key === false ? {} : { 'Idempotency-Key': key },
    ...(dryRun ? { params: { query: { dryRun: true } } } : {}),
    signal: options.signal,
  };
}

/** A submission's answer: the state of what was recorded (the document allows a dry run's answer too). */
function recorded<T extends object>(answer: T | DryRunResult): T {
  if ('dryRun' in answer) throw new Error('the service answered a dry run to a submission that asked for none');
  return answer;
}

function dryRunOf(answer: object): DryRunResult {
  if (!('dryRun' in answer)) throw new Error('the service recorded a submission that asked for a dry run');
  return answer as DryRunResult;
}

async function answer<T>(call: Promise<Answer<T>>): Promise<{ data: T; response: Response }> {
  const { data, error, response } = await call;
  if (!response.ok) throw JobSchedulerError.fromResponse(response, error);
  return { data: data as T, response };
}

async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  return (await answer(call)).data;
}

async function page<T>(call: Promise<Answer<T[]>>): Promise<Page<T>> {
  const { data, response } = await answer(call);
  return { items: data, continue: response.headers.get('x-continue') ?? undefined };
}

async function* pages<T>(read: (cont: string | undefined) => Promise<Page<T>>, first: string | undefined): AsyncGenerator<T> {
  let cont = first;
  do {
    const next = await read(cont);
    yield* next.items;
    cont = next.continue;
  } while (cont !== undefined);
}

function joined<T extends string>(value: T | T[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function jobQuery(filters: JobFilters) {
  return { ...filters, status: joined(filters.status) };
}
