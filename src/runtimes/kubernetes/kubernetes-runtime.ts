import { BatchV1Api, CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Job, type V1OwnerReference, type V1Pod } from '@kubernetes/client-node';
import { ApiError } from '../../core/errors.js';
import type { Attempt, BatchRecord, JobRecord, NewBatch, Snapshot } from '../../core/model.js';
import type { Logger } from '../../logger.js';
import type { Observer } from '../../metrics.js';
import type { Runtime, RuntimeEvents } from '../runtime.js';
import { attemptOf, deriveJobRecord } from './job-state.js';
import { ANNOTATIONS, componentSelector, LABELS } from './labels.js';
import { batchRecordObject, type ClusterSettings, jobObject, MAX_OBJECT_DATA_BYTES, ownerReference, packPayloads, type PayloadRef, payloadSecretObject } from './manifests.js';
import { decodeBatchRecord, encodeBatchRecord, waitingRecord } from './record-codec.js';
import { isQuotaExceeded, type RetryPolicy, statusOf, toApiError, withRetry } from './retry.js';
import { Limiter } from './limiter.js';
import { makePooledApiClient, PooledAuthentication } from './connections.js';
import { Tracker } from './tracker.js';

export interface KubernetesRuntimeOptions {
  kubeConfig: KubeConfig;
  settings: ClusterSettings;
  logger: Logger;
  observer?: Observer;
  /** Most write requests in flight at once when creating Jobs and Secrets. */
  writeConcurrency?: number;
  /** Retries of a client's request (the client is waiting), and of background work (until it succeeds). */
  requestRetry?: RetryPolicy;
  backgroundRetry?: RetryPolicy;
  now?: () => Date;
}

interface BatchEntry {
  batch: BatchRecord;
  owner: V1OwnerReference;
  removed: boolean;
}

interface JobEntry {
  base: JobRecord;
  batch: BatchEntry;
  payload: PayloadRef;
  /** Attempts by pod name: pods that are gone (a stopped job's) stay in the job's history. */
  attempts: Map<string, Attempt>;
  creating?: Promise<void>;
  current: JobRecord;
  /** The last state reported, to report only changes. */
  reported: string;
}

const RECORD_KEY = 'batch.json.gz';
const WAITING_FOR_QUOTA = "the namespace's resource quota allows no more Jobs now; the Job is created as soon as it does";

/**
 * Runs each job as a `batch/v1` Job. State lives in the cluster: a batch record (a ConfigMap
 * owning the batch's payload Secrets and Jobs), Jobs and their pods, all tracked by informers,
 * so reads never call the API and a new instance rebuilds everything from the cluster.
 */
export class KubernetesRuntime implements Runtime {
  private readonly batchApi: BatchV1Api;
  private readonly coreApi: CoreV1Api;
  private readonly records: Tracker<V1ConfigMap>;
  private readonly jobs: Tracker<V1Job>;
  private readonly pods: Tracker<V1Pod>;
  private readonly entries = new Map<string, JobEntry>();
  private readonly limiter: Limiter;
  private readonly authentication: PooledAuthentication;
  private readonly requestRetry: RetryPolicy;
  private readonly backgroundRetry: RetryPolicy;
  private readonly now: () => Date;
  private events: RuntimeEvents | undefined;
  private closed = false;

  constructor(private readonly options: KubernetesRuntimeOptions) {
    const { kubeConfig, settings, logger } = options;
    this.authentication = new PooledAuthentication(kubeConfig);
    this.batchApi = makePooledApiClient(kubeConfig, this.authentication, BatchV1Api);
    this.coreApi = makePooledApiClient(kubeConfig, this.authentication, CoreV1Api);
    this.limiter = new Limiter(options.writeConcurrency ?? 16);
    const observe = (outcome: 'ok' | 'retried' | 'failed', code: number | undefined) => options.observer?.kubernetesRequest(outcome, code);
    this.requestRetry = { baseDelayMs: 100, maxDelayMs: 2_000, maxTries: 5, observe, ...options.requestRetry };
    this.backgroundRetry = { baseDelayMs: 200, maxDelayMs: 30_000, maxTries: Infinity, observe, ...options.backgroundRetry };
    this.now = options.now ?? (() => new Date());
    const namespace = settings.namespace;
    const labelSelector = componentSelector(settings.component);
    const common = { kubeConfig, labelSelector, logger };
    this.records = new Tracker<V1ConfigMap>({
      ...common,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      list: () => this.coreApi.listNamespacedConfigMap({ namespace, labelSelector }),
      onChange: () => {},
    });
    this.jobs = new Tracker<V1Job>({
      ...common,
      path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
      list: () => this.batchApi.listNamespacedJob({ namespace, labelSelector }),
      onChange: (job) => this.refresh(job.metadata?.labels?.[LABELS.jobName]),
    });
    this.pods = new Tracker<V1Pod>({
      ...common,
      path: `/api/v1/namespaces/${namespace}/pods`,
      list: () => this.coreApi.listNamespacedPod({ namespace, labelSelector }),
      onChange: (pod, deleted) => this.onPod(pod, deleted),
    });
  }

  async open(events: RuntimeEvents): Promise<Snapshot> {
    await Promise.all([this.records.start(), this.jobs.start(), this.pods.start()]);
    const snapshot: Snapshot = { batches: [], jobs: [] };
    const records = [...this.records.list()].sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
    for (const record of records) {
      if (record.metadata?.annotations?.[ANNOTATIONS.state] !== 'accepted') {
        // The client never got an answer for this batch: take it back, Secrets and all.
        await this.deleteRecord(record.metadata!.name!).catch((error: unknown) => this.options.logger.warn('could not remove an unfinished batch record', { batchName: record.metadata?.name, status: statusOf(error) }));
        continue;
      }
      const encoded = record.binaryData?.[RECORD_KEY];
      if (!encoded) continue;
      const recorded = decodeBatchRecord(encoded);
      const batch: BatchEntry = { batch: recorded.batch, owner: ownerReference(record), removed: false };
      snapshot.batches.push(recorded.batch);
      recorded.jobs.forEach((job, index) => {
        const base = waitingRecord(recorded.batch, job, index);
        this.entries.set(job.name, { base, batch, payload: job.payload, attempts: new Map(), current: base, reported: '' });
      });
    }
    snapshot.batches.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
    for (const pod of this.pods.list()) this.onPod(pod, false);
    for (const entry of this.entries.values()) {
      entry.current = this.derive(entry);
      entry.reported = JSON.stringify(entry.current);
    }
    const order = new Map(snapshot.batches.map((batch, i) => [batch.name, i]));
    snapshot.jobs = [...this.entries.values()]
      .map((entry) => entry.current)
      .sort((a, b) => order.get(a.batchName)! - order.get(b.batchName)! || a.index - b.index);
    this.events = events;
    return snapshot;
  }

  async accept({ batch, jobs }: NewBatch): Promise<void> {
    const { settings } = this.options;
    const secrets = packPayloads(batch.name, jobs.map(({ record, payload }) => ({ name: record.name, payload })));
    const refs = new Map(secrets.flatMap((secret) => secret.entries.map(({ key }) => [key, { secretName: secret.secretName, key }] as const)));
    const encoded = encodeBatchRecord({
      batch,
      jobs: jobs.map(({ record }) => ({ name: record.name, jobId: record.jobId, spec: record.spec, payload: refs.get(record.name)! })),
    });
    if (Buffer.byteLength(encoded, 'base64') > MAX_OBJECT_DATA_BYTES - 4096) {
      throw ApiError.payloadTooLarge(`the batch's job settings do not fit one cluster object (${jobs.length} jobs); send it as smaller batches`);
    }
    let created: V1ConfigMap;
    try {
      created = await withRetry(this.requestRetry, () => this.coreApi.createNamespacedConfigMap({ namespace: settings.namespace, body: batchRecordObject(settings, batch, encoded) }));
    } catch (error) {
      this.options.logger.error('could not create a batch record', { batchName: batch.name, status: statusOf(error) });
      throw toApiError(error, 'record the batch');
    }
    const owner = ownerReference(created);
    try {
      await Promise.all(secrets.map((secret) => this.limiter.run(() => this.createIgnoringExisting(this.requestRetry, () =>
        this.coreApi.createNamespacedSecret({ namespace: settings.namespace, body: payloadSecretObject(settings, batch, owner, secret) })))));
      await withRetry(this.requestRetry, () => this.coreApi.patchNamespacedConfigMap({
        name: batch.name,
        namespace: settings.namespace,
        body: [{ op: 'replace', path: `/metadata/annotations/${escapePointer(ANNOTATIONS.state)}`, value: 'accepted' }],
      }));
    } catch (error) {
      this.options.logger.error('could not record the batch payloads', { batchName: batch.name, status: statusOf(error) });
      await this.deleteRecord(batch.name).catch(() => undefined);
      throw toApiError(error, 'record the batch');
    }
    const entry: BatchEntry = { batch, owner, removed: false };
    for (const { record } of jobs) {
      this.entries.set(record.name, { base: record, batch: entry, payload: refs.get(record.name)!, attempts: new Map(), current: record, reported: JSON.stringify(record) });
    }
  }

  async launch(job: JobRecord): Promise<void> {
    await this.create(job.name);
  }

  async stop(job: JobRecord): Promise<void> {
    const entry = this.entries.get(job.name);
    if (!entry) return;
    const stoppedAt = this.now().toISOString();
    if (!this.jobs.get(job.name, this.options.settings.namespace) && !entry.creating) {
      await this.create(job.name, stoppedAt);
      return;
    }
    await entry.creating;
    const current = this.jobs.get(job.name, this.options.settings.namespace);
    if (current?.metadata?.annotations?.[ANNOTATIONS.stoppedAt]) return;
    const annotations = { ...(current?.metadata?.annotations ?? {}), [ANNOTATIONS.stoppedAt]: stoppedAt };
    try {
      await withRetry(this.requestRetry, () => this.batchApi.patchNamespacedJob({
        name: job.name,
        namespace: this.options.settings.namespace,
        body: [
          { op: 'add', path: '/metadata/annotations', value: annotations },
          { op: 'replace', path: '/spec/suspend', value: true },
        ],
      }));
    } catch (error) {
      if (statusOf(error) === 404) return;
      this.options.logger.error('could not stop a job', { jobName: job.name, status: statusOf(error) });
      throw toApiError(error, 'stop the job');
    }
  }

  async remove(batch: BatchRecord): Promise<void> {
    for (const entry of this.entries.values()) if (entry.batch.batch.name === batch.name) entry.batch.removed = true;
    try {
      await this.deleteRecord(batch.name);
    } catch (error) {
      for (const entry of this.entries.values()) if (entry.batch.batch.name === batch.name) entry.batch.removed = false;
      this.options.logger.error('could not delete a batch', { batchName: batch.name, status: statusOf(error) });
      throw toApiError(error, 'delete the batch');
    }
    for (const [name, entry] of this.entries) if (entry.batch.batch.name === batch.name) this.entries.delete(name);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events = undefined;
    await Promise.all([this.records.stop(), this.jobs.stop(), this.pods.stop()]);
    this.authentication.close();
  }

  /** Creates the job's Job once: an existing one (seen, or answered 409) counts as created. */
  private create(name: string, stoppedAt?: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry || entry.batch.removed || this.jobs.get(name, this.options.settings.namespace)) return Promise.resolve();
    if (entry.creating) return entry.creating;
    const { settings } = this.options;
    const body = jobObject({ settings, job: entry.base, batchType: entry.batch.batch.type, owner: entry.batch.owner, payload: entry.payload, stoppedAt });
    const createJob = () => this.batchApi.createNamespacedJob({ namespace: settings.namespace, body }).catch((error: unknown) => {
      if (isQuotaExceeded(error)) this.waitForQuota(entry);
      throw error;
    });
    entry.creating = this.limiter.run(() => this.createIgnoringExisting(this.backgroundRetry, createJob, () => this.closed || entry.batch.removed))
      .catch((error: unknown) => {
        if (this.closed || entry.batch.removed) return;
        this.options.logger.error('the cluster refused a Job', { jobName: name, status: statusOf(error) });
        entry.current = { ...entry.current, status: 'Failed', ended: this.now().toISOString(), updated: this.now().toISOString(), message: `CreateFailed: the cluster refused the Job (HTTP ${statusOf(error) ?? 'error'}); see the service log` };
        this.report(entry);
      })
      .finally(() => {
        entry.creating = undefined;
      });
    return entry.creating;
  }

  /** Says why a job stays Waiting while the namespace's quota allows no more Jobs; its Job's first event clears it. */
  private waitForQuota(entry: JobEntry): void {
    if (entry.current.status !== 'Waiting' || entry.current.message === WAITING_FOR_QUOTA) return;
    entry.current = { ...entry.current, message: WAITING_FOR_QUOTA, updated: this.now().toISOString() };
    this.report(entry);
  }

  private async createIgnoringExisting(policy: RetryPolicy, call: () => Promise<unknown>, stopped?: () => boolean): Promise<void> {
    try {
      await withRetry(policy, call, stopped);
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
  }

  private async deleteRecord(name: string): Promise<void> {
    try {
      await withRetry(this.requestRetry, () => this.coreApi.deleteNamespacedConfigMap({ name, namespace: this.options.settings.namespace, propagationPolicy: 'Background' }));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  private onPod(pod: V1Pod, deleted: boolean): void {
    const name = pod.metadata?.labels?.[LABELS.jobName];
    const entry = name ? this.entries.get(name) : undefined;
    if (!entry || !pod.metadata?.name) return;
    const attempt = attemptOf(pod);
    if (deleted && (attempt.replicaStatus === 'Pending' || attempt.replicaStatus === 'Running')) {
      attempt.replicaStatus = 'Stopped';
      attempt.endTime ??= this.now().toISOString();
    }
    entry.attempts.set(pod.metadata.name, attempt);
    this.refresh(name);
  }

  private derive(entry: JobEntry): JobRecord {
    const attempts = [...entry.attempts.values()].sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.name < b.name ? -1 : 1));
    return deriveJobRecord(entry.base, this.jobs.get(entry.base.name, this.options.settings.namespace), attempts);
  }

  private refresh(name: string | undefined): void {
    const entry = name ? this.entries.get(name) : undefined;
    if (!entry || entry.batch.removed) return;
    entry.current = this.derive(entry);
    this.report(entry);
  }

  private report(entry: JobEntry): void {
    const text = JSON.stringify(entry.current);
    if (text === entry.reported) return;
    entry.reported = text;
    this.events?.jobChanged(entry.current);
  }
}

/** A JSON Pointer segment (RFC 6901): `~` and `/` escaped. */
function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
