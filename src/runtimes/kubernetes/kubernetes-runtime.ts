import type { Readable } from 'node:stream';
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { CLUSTER_POLICY, transition } from '../../core/lifecycle.js';
import type { BatchRecord, JobRecord, NewBatch, Snapshot } from '../../core/model.js';
import { isTerminal } from '../../core/model.js';
import { acceptedEntry, type JobTimeline } from '../../core/timeline.js';
import type { Logger } from '../../logger.js';
import type { Observer } from '../../metrics.js';
import type { LogRequest, Runtime, RuntimeEvents, ScheduleStates } from '../runtime.js';
import { ConfigMapScheduleStates } from './schedule-state.js';
import { emptyIntent, fingerprint, readIntents, shardName, shardNumber } from './intent-codec.js';
import { IntentWriter } from './intent-writer.js';
import { type BatchEntry, endWait, type JobEntry, jobObjectName, keyOf, newEntry, runOf, shardRefOf } from './job-entry.js';
import { observedAttempt, observedJob, unseenGoneJob } from './job-state.js';
import { JobWrites } from './job-writes.js';
import { ANNOTATIONS, componentSelector, LABELS, runOfLabels } from './labels.js';
import { BatchRecords, RECORD_KEY } from './batch-records.js';
import { ClusterKeys, readKeyAnnotation } from './idempotency-keys.js';
import { type ClusterSettings, intentShardObject, ownerReference } from './manifests.js';
import { decodeBatchRecord, waitingRecord } from './record-codec.js';
import { type RetryPolicy, statusOf, toApiError, withRetry } from './retry.js';
import { Limiter } from './limiter.js';
import { PodLogs } from './pod-logs.js';
import { Restarts } from './restarts.js';
import { makePooledApiClient, MERGE_PATCH_OPTIONS, PooledAuthentication } from './connections.js';
import { DirectCreate } from './direct-create.js';
import { type RateLimitClock, type RateLimitSettings, rateLimiter } from './rate-limit.js';
import { clusterTimeline } from './timeline.js';
import { Tracker } from './tracker.js';

export interface KubernetesRuntimeOptions {
  kubeConfig: KubeConfig;
  settings: ClusterSettings;
  logger: Logger;
  observer?: Observer;
  /** Most write requests in flight at once (Job creates, suspensions, recorded intent, Secrets). */
  writeConcurrency?: number;
  /** A client-side limit on every request to the API server (QPS and burst, as client-go's); none when absent or qps 0. */
  rateLimit?: RateLimitSettings & { clock?: RateLimitClock };
  /** Retries of a client's request (the client is waiting), and of background work (until it succeeds). */
  requestRetry?: RetryPolicy;
  backgroundRetry?: RetryPolicy;
  /** How long a finished job's outcome may wait to be recorded together with others (default 5 s). */
  outcomeDelayMs?: number;
  /** How long `close` waits for queued outcomes to be written (default 5 s). */
  closeFlushMs?: number;
  now?: () => Date;
}

/**
 * Runs each job as a `batch/v1` Job. State lives in the cluster: a batch record (a ConfigMap owning the
 * batch's payload Secrets, state objects and Jobs), the jobs' recorded intent (launched, stopped, outcome),
 * and Jobs and their pods, tracked by informers, so reads never call the API and a new instance rebuilds
 * everything from the cluster. What each job's record is, is decided by the core lifecycle (`transition`, with an `observed` event).
 */
export class KubernetesRuntime implements Runtime {
  private readonly batchApi: BatchV1Api;
  private readonly coreApi: CoreV1Api;
  private readonly records: Tracker<V1ConfigMap>;
  private readonly jobs: Tracker<V1Job>;
  private readonly pods: Tracker<V1Pod>;
  private readonly entries = new Map<string, JobEntry>();
  private readonly batches = new Map<string, BatchEntry>();
  private readonly limiter: Limiter;
  private readonly authentication: PooledAuthentication;
  private readonly requestRetry: RetryPolicy;
  private readonly backgroundRetry: RetryPolicy;
  private readonly writer: IntentWriter;
  private readonly writes: JobWrites;
  private readonly batchRecords: BatchRecords;
  private readonly podLogs: PodLogs;
  private readonly restarts: Restarts;
  private readonly keys: ClusterKeys;
  private readonly now: () => Date;
  private events: RuntimeEvents | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: KubernetesRuntimeOptions) {
    const { kubeConfig, settings, logger } = options;
    const rateLimit = rateLimiter(options.rateLimit, options.rateLimit?.clock);
    this.authentication = new PooledAuthentication(kubeConfig, rateLimit);
    this.batchApi = makePooledApiClient(kubeConfig, this.authentication, BatchV1Api);
    this.coreApi = makePooledApiClient(kubeConfig, this.authentication, CoreV1Api);
    this.limiter = new Limiter(options.writeConcurrency ?? 16);
    const observe = (outcome: 'ok' | 'retried' | 'failed', code: number | undefined) => options.observer?.kubernetesRequest(outcome, code);
    this.requestRetry = { baseDelayMs: 100, maxDelayMs: 2_000, maxTries: 5, observe, ...options.requestRetry };
    this.backgroundRetry = { baseDelayMs: 200, maxDelayMs: 30_000, maxTries: Infinity, observe, ...options.backgroundRetry };
    this.now = options.now ?? (() => new Date());
    const namespace = settings.namespace;
    this.writer = new IntentWriter({
      create: ({ batchName, shard }, data) => this.write(async () => {
        const batch = this.batchOf(batchName);
        if (!batch) return;
        await this.coreApi.createNamespacedConfigMap({ namespace, body: intentShardObject(settings, batch.batch, batch.owner, shardName(batchName, shard), data) });
      }, this.requestRetry),
      patch: async ({ batchName, shard }, data) => {
        await this.write(() => this.coreApi.patchNamespacedConfigMap({ name: shardName(batchName, shard), namespace, body: { data } }, MERGE_PATCH_OPTIONS), this.requestRetry);
      },
      delayMs: options.outcomeDelayMs ?? 5_000,
      retryDelayMs: (failures) => Math.min(this.backgroundRetry.maxDelayMs, this.backgroundRetry.baseDelayMs * 2 ** failures),
      logger,
    });
    const direct = new DirectCreate({ kubeConfig, authentication: this.authentication });
    this.batchRecords = new BatchRecords({ coreApi: this.coreApi, direct, settings, logger, requestRetry: this.requestRetry, backgroundRetry: this.backgroundRetry, write: (call, policy) => this.write(call, policy) });
    this.keys = new ClusterKeys({ coreApi: this.coreApi, settings, logger, requestRetry: this.requestRetry, backgroundRetry: this.backgroundRetry, now: this.now });
    this.podLogs = new PodLogs({ kubeConfig, coreApi: this.coreApi, settings, logger, requestRetry: this.requestRetry, cachedPod: (name) => this.pods.get(name, namespace) });
    this.writes = new JobWrites({
      batchApi: this.batchApi, direct, settings, limiter: this.limiter, writer: this.writer, logger,
      requestRetry: this.requestRetry, backgroundRetry: this.backgroundRetry, now: this.now,
      markAhead: Math.max(64, 8 * (options.writeConcurrency ?? 16)),
      closed: () => this.closed,
      cached: (name) => this.jobs.get(name, namespace),
      refresh: (entry) => this.refresh(entry),
      keepLog: (entry) => this.podLogs.keep(entry),
    });
    this.restarts = new Restarts({
      batchApi: this.batchApi, namespace, writer: this.writer, logger, requestRetry: this.requestRetry, now: this.now,
      write: (call) => this.write(call), refresh: (entry) => this.refresh(entry),
    });
    const common = { kubeConfig, logger, rateLimit };
    this.records = new Tracker<V1ConfigMap>({
      ...common,
      labelSelector: componentSelector(settings.component, 'batch'),
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      list: () => this.coreApi.listNamespacedConfigMap({ namespace, labelSelector: componentSelector(settings.component, 'batch') }),
      onChange: () => {},
    });
    const labelSelector = componentSelector(settings.component);
    this.jobs = new Tracker<V1Job>({
      ...common,
      labelSelector,
      path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
      list: () => this.batchApi.listNamespacedJob({ namespace, labelSelector }),
      onChange: (job, deleted) => this.onJob(job, deleted),
    });
    this.pods = new Tracker<V1Pod>({
      ...common,
      labelSelector,
      path: `/api/v1/namespaces/${namespace}/pods`,
      list: () => this.coreApi.listNamespacedPod({ namespace, labelSelector }),
      onChange: (pod, deleted) => this.onPod(pod, deleted),
    });
  }

  async open(events: RuntimeEvents): Promise<Snapshot> {
    await Promise.all([this.records.start(), this.jobs.start(), this.pods.start()]);
    const states = await this.batchRecords.stateObjects();
    const snapshot: Snapshot = { batches: [], jobs: [], idempotency: await this.keys.loadDeleted() };
    const records = [...this.records.list()].sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
    for (const record of records) {
      const name = record.metadata!.name!;
      if (record.metadata?.annotations?.[ANNOTATIONS.state] !== 'accepted') {
        // The client never got an answer for this batch: take it back, Secrets and all.
        await this.batchRecords.delete(name).catch((error: unknown) => this.options.logger.warn('could not remove an unfinished batch record', { batchName: name, status: statusOf(error) }));
        continue;
      }
      const encoded = record.binaryData?.[RECORD_KEY];
      if (!encoded) continue;
      const recorded = decodeBatchRecord(encoded);
      const batch: BatchEntry = { batch: recorded.batch, owner: ownerReference(record), removed: false };
      this.batches.set(name, batch);
      const key = readKeyAnnotation(record, name);
      if (key) {
        this.keys.known(key);
        snapshot.idempotency!.push(key);
      }
      const shards = states.get(name) ?? [];
      for (const state of shards) this.writer.known({ batchName: name, shard: shardNumber(name, state.metadata!.name!)! }, state.data ?? {});
      const { intents, unreadable } = readIntents(shards.map((state) => state.data));
      if (unreadable > 0) this.options.logger.warn('some recorded job intents could not be read', { batchName: name, count: unreadable });
      snapshot.batches.push(recorded.batch);
      recorded.jobs.forEach((job, index) => {
        const entry = newEntry(waitingRecord(recorded.batch, job, index), batch, job.payload, intents.get(index) ?? emptyIntent());
        entry.stopRequested = entry.intent.stoppedAt !== null;
        this.entries.set(job.name, entry);
      });
    }
    snapshot.batches.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
    for (const pod of this.pods.list()) this.onPod(pod, false);
    const seenAt = this.now().toISOString();
    for (const entry of this.entries.values()) {
      const job = this.jobs.get(jobObjectName(entry), this.options.settings.namespace);
      // Launched by an earlier instance, yet no Job: it was deleted by someone else. It is settled, never created again.
      entry.job = job ? observedJob(job) : entry.intent.launched && !entry.intent.outcome ? unseenGoneJob(seenAt) : undefined;
      this.refresh(entry);
      if (entry.intent.stoppedAt && job && !job.spec?.suspend && !isTerminal(entry.current.status)) this.writes.resumeStop(entry);
    }
    // Jobs of runs before their job's current one: a previous instance recorded a restart and did not delete them.
    for (const job of this.jobs.list()) this.onJob(job, false);
    const order = new Map(snapshot.batches.map((batch, i) => [batch.name, i]));
    snapshot.jobs = [...this.entries.values()]
      .map((entry) => entry.current)
      .sort((a, b) => order.get(a.batchName)! - order.get(b.batchName)! || a.index - b.index);
    this.events = events;
    return snapshot;
  }

  async accept(accepted: NewBatch): Promise<void> {
    const { owner, payloads } = await this.batchRecords.record(accepted);
    const entry: BatchEntry = { batch: accepted.batch, owner, removed: false };
    this.batches.set(accepted.batch.name, entry);
    if (accepted.idempotency) this.keys.known(accepted.idempotency);
    for (const { record } of accepted.jobs) this.entries.set(record.name, newEntry(record, entry, payloads.get(record.name)!, emptyIntent()));
  }

  async launch(job: JobRecord): Promise<void> {
    const entry = this.entries.get(job.name);
    if (entry) await this.writes.launch(entry);
  }

  async stop(job: JobRecord): Promise<void> {
    const entry = this.entries.get(job.name);
    if (!entry || entry.batch.removed || entry.intent.outcome) return;
    await this.writes.stop(entry);
  }

  async restart(jobs: readonly JobRecord[]): Promise<void> {
    const entries = jobs.map((job) => this.entryOf(job.name)).filter((entry): entry is JobEntry => entry !== undefined);
    await this.restarts.restart(entries);
  }

  async readLog(job: JobRecord, request: LogRequest): Promise<Readable | undefined> {
    return this.podLogs.read(this.entries.get(job.name), job, request);
  }

  async readPayload(job: JobRecord): Promise<Buffer | undefined> {
    const entry = this.entries.get(job.name);
    return entry ? this.podLogs.payload(entry.payload) : undefined;
  }

  timeline(job: JobRecord): JobTimeline {
    const entry = this.entries.get(job.name);
    return entry ? clusterTimeline(entry) : { entries: [acceptedEntry(job)], dropped: 0, complete: false };
  }

  async remove(batch: BatchRecord): Promise<void> {
    const own = [...this.entries.values()].filter((entry) => entry.batch.batch.name === batch.name);
    for (const entry of own) entry.batch.removed = true;
    try {
      await this.keys.beforeRemove(batch);
      await this.batchRecords.delete(batch.name);
    } catch (error) {
      for (const entry of own) entry.batch.removed = false;
      this.options.logger.error('could not delete a batch', { batchName: batch.name, status: statusOf(error) });
      throw toApiError(error, 'delete the batch');
    }
    this.writer.forget(batch.name);
    this.keys.forget(batch.name);
    this.batches.delete(batch.name);
    for (const entry of own) {
      endWait(entry);
      this.entries.delete(entry.base.name);
    }
  }

  scheduleStates(): ScheduleStates {
    return new ConfigMapScheduleStates({ coreApi: this.coreApi, settings: this.options.settings, retry: this.requestRetry });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.events = undefined;
      for (const entry of this.entries.values()) endWait(entry);
      this.writes.unmarkUnsent(this.entries.values());
      // Outcomes still queued are written now, within a bound: an unreachable API server must not hold a shutdown.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.writer.close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeFlushMs ?? 5_000)))]);
      clearTimeout(timer);
      await Promise.all([this.records.stop(), this.jobs.stop(), this.pods.stop()]);
      this.authentication.close();
    })();
    return this.closing;
  }

  /** One write request through the write limiter, retried by `policy` outside it (a retry's wait holds no slot). */
  private write<T>(call: () => Promise<T>, policy: RetryPolicy = { ...this.requestRetry, maxTries: 1 }): Promise<T> {
    return withRetry(policy, () => this.limiter.run(call, { priority: true }));
  }

  private batchOf(batchName: string): BatchEntry | undefined {
    const batch = this.batches.get(batchName);
    return batch && !batch.removed ? batch : undefined;
  }

  private onJob(job: V1Job, deleted: boolean): void {
    const entry = this.entryOf(job.metadata?.labels?.[LABELS.jobName]);
    if (!entry) return;
    const run = runOfLabels(job.metadata?.labels);
    if (run !== runOf(entry)) {
      // An earlier run's Job (its job was restarted): not the job's any more, and deleted.
      if (run < runOf(entry) && !deleted && job.metadata?.name) this.restarts.deleteEarlierRun(job.metadata.name);
      return;
    }
    entry.job = observedJob(job, deleted ? { at: this.now().toISOString() } : undefined);
    this.refresh(entry);
  }

  private onPod(pod: V1Pod, deleted: boolean): void {
    const entry = this.entryOf(pod.metadata?.labels?.[LABELS.jobName]);
    if (!entry || !pod.metadata?.name || runOfLabels(pod.metadata.labels) !== runOf(entry)) return;
    entry.attempts.set(pod.metadata.name, observedAttempt(pod, deleted ? { at: this.now().toISOString() } : undefined));
    this.refresh(entry);
  }

  private entryOf(name: string | undefined): JobEntry | undefined {
    const entry = name ? this.entries.get(name) : undefined;
    return entry && !entry.batch.removed ? entry : undefined;
  }

  /** Decides the job's record from what is recorded and observed, records a (changed) outcome, and reports a change. */
  private refresh(entry: JobEntry): void {
    if (entry.batch.removed) return;
    const { record, effects } = transition(entry.current, {
      type: 'observed',
      observation: {
        base: entry.base,
        intent: entry.intent,
        job: entry.job,
        attempts: [...entry.attempts.values()],
        knownAbsent: entry.knownAbsent,
        waitingForQuota: entry.waitingForQuota,
        createRefused: entry.createRefused,
      },
    }, this.now(), CLUSTER_POLICY);
    entry.current = record;
    for (const effect of effects) {
      if (effect.kind !== 'record') continue;
      entry.intent.outcome ??= effect.outcome;
      const text = JSON.stringify(effect.outcome);
      if (fingerprint(text) === entry.outcomeWritten) continue;
      entry.outcomeWritten = fingerprint(text);
      const writes: Array<[string, string]> = [[keyOf(entry, 'outcome'), text]];
      // The outcome holds the earlier runs' attempts now: the recorded run drops them in the same patch.
      const restart = entry.intent.restart;
      if (restart && restart.attempts.length > 0) {
        entry.intent.restart = Restarts.settled(restart);
        writes.push([keyOf(entry, 'run'), JSON.stringify(entry.intent.restart)]);
      }
      for (const [key, value] of writes) {
        if (effect.urgent) void this.writer.write(shardRefOf(entry), key, value).catch(() => undefined);
        else this.writer.writeLater(shardRefOf(entry), key, value);
      }
    }
    const reported = JSON.stringify(entry.current);
    if (reported === entry.reported) return;
    entry.reported = reported;
    this.events?.jobChanged(entry.current);
  }
}
