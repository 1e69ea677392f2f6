import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_STATUSES, type JobStatusValue } from './core/model.js';

/** What the scheduler and the runtimes report; no-ops where nothing listens. */
export interface Observer {
  batchAccepted(type: 'job' | 'batch', jobs: number): void;
  jobEnded(status: JobStatusValue, seconds: number | null): void;
  kubernetesRequest(outcome: 'ok' | 'retried' | 'failed', code: number | undefined): void;
  /** `refused`: a permanent refusal, set aside as a dead letter. */
  webhookDelivery(outcome: 'delivered' | 'failed' | 'refused'): void;
  webhookEventsDropped(reason: 'superseded' | 'overflow', count: number): void;
}

export const noObserver: Observer = {
  batchAccepted: () => {},
  jobEnded: () => {},
  kubernetesRequest: () => {},
  webhookDelivery: () => {},
  webhookEventsDropped: () => {},
};

/** The service's Prometheus metrics, in a registry of its own (tests run many services in one process). */
export class Metrics implements Observer {
  readonly registry = new Registry();
  private readonly submissions: Counter<'type'>;
  private readonly submittedJobs: Counter<'type'>;
  private readonly durations: Histogram<'status'>;
  private readonly kubernetes: Counter<'outcome' | 'code'>;
  private readonly webhooks: Counter<'outcome'>;
  private readonly storeFailures: Counter<'cause'>;
  private readonly deadLetters: Counter;
  private readonly droppedEvents: Counter<'reason'>;
  private webhookOutbox: () => { events: number; bytes: number } = () => ({ events: 0, bytes: 0 });
  readonly http: Histogram<'method' | 'route' | 'code'>;

  private jobCounts: () => Map<JobStatusValue, number> = () => new Map();

  /** Where the jobs-by-status gauge reads its numbers when scraped. */
  countJobsWith(read: () => Map<JobStatusValue, number>): void {
    this.jobCounts = read;
  }

  /** Where the webhook outbox gauges read their numbers when scraped. */
  measureWebhookOutboxWith(read: () => { events: number; bytes: number }): void {
    this.webhookOutbox = read;
  }

  constructor() {
    const registers = [this.registry];
    const counts = () => this.jobCounts();
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'job_scheduler_jobs',
      help: 'Jobs known to the service, by status.',
      labelNames: ['status'],
      registers,
      collect() {
        const current = counts();
        for (const status of JOB_STATUSES) this.set({ status }, current.get(status) ?? 0);
      },
    });
    this.submissions = new Counter({ name: 'job_scheduler_submissions_total', help: 'Accepted POST /jobs and POST /batches requests.', labelNames: ['type'], registers });
    this.submittedJobs = new Counter({ name: 'job_scheduler_submitted_jobs_total', help: 'Jobs accepted, by the type of their batch.', labelNames: ['type'], registers });
    this.durations = new Histogram({
      name: 'job_scheduler_job_duration_seconds',
      help: 'From start to end of each finished job, by final status.',
      labelNames: ['status'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400, 43200],
      registers,
    });
    this.http = new Histogram({
      name: 'job_scheduler_http_request_duration_seconds',
      help: 'HTTP requests, by method, route and status code.',
      labelNames: ['method', 'route', 'code'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.kubernetes = new Counter({ name: 'job_scheduler_kubernetes_requests_total', help: 'Write requests to the Kubernetes API, by outcome (ok, retried, failed) and status code.', labelNames: ['outcome', 'code'], registers });
    this.webhooks = new Counter({ name: 'job_scheduler_webhook_deliveries_total', help: 'Webhook delivery attempts, by outcome (delivered, failed and retried, refused for good).', labelNames: ['outcome'], registers });
    this.deadLetters = new Counter({ name: 'job_scheduler_webhook_dead_letters_total', help: 'Webhook events the receiver refused for good (a 4xx other than 408 and 429), set aside.', registers });
    this.droppedEvents = new Counter({ name: 'job_scheduler_webhook_events_dropped_total', help: 'Webhook events dropped to keep the outbox within its bound: superseded by a newer transition of the job, or the oldest (overflow).', labelNames: ['reason'], registers });
    const outbox = () => this.webhookOutbox();
    new Gauge({ name: 'job_scheduler_webhook_outbox_events', help: 'Webhook events waiting for delivery.', registers, collect() { this.set(outbox().events); } });
    new Gauge({ name: 'job_scheduler_webhook_outbox_bytes', help: 'Bytes of the webhook events waiting for delivery.', registers, collect() { this.set(outbox().bytes); } });
    this.storeFailures = new Counter({ name: 'job_scheduler_store_write_failures_total', help: 'Failed writes to the local store, by cause (disk-full, locked, gone, io).', labelNames: ['cause'], registers });
  }

  /** The local runtime's store: a gauge, 1 while it can write and 0 while it cannot (absent on Kubernetes). */
  watchStore(writable: () => boolean): void {
    new Gauge({
      name: 'job_scheduler_store_writable',
      help: '1 while the local store can write, 0 while a fault (disk full, lock, I/O, removed data directory) stops it.',
      registers: [this.registry],
      collect() {
        this.set(writable() ? 1 : 0);
      },
    });
  }

  storeWriteFailed(cause: string): void {
    this.storeFailures.inc({ cause });
  }

  batchAccepted(type: 'job' | 'batch', jobs: number): void {
    this.submissions.inc({ type });
    this.submittedJobs.inc({ type }, jobs);
  }

  jobEnded(status: JobStatusValue, seconds: number | null): void {
    if (seconds !== null) this.durations.observe({ status }, seconds);
  }

  kubernetesRequest(outcome: 'ok' | 'retried' | 'failed', code: number | undefined): void {
    this.kubernetes.inc({ outcome, code: code === undefined ? 'none' : String(code) });
  }

  webhookDelivery(outcome: 'delivered' | 'failed' | 'refused'): void {
    this.webhooks.inc({ outcome });
    if (outcome === 'refused') this.deadLetters.inc();
  }

  webhookEventsDropped(reason: 'superseded' | 'overflow', count: number): void {
    this.droppedEvents.inc({ reason }, count);
  }
}
