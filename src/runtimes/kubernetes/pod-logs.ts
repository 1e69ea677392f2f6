import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { PassThrough, Readable } from 'node:stream';
import { ApiException, type CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Pod } from '@kubernetes/client-node';
import type { JobRecord } from '../../core/model.js';
import type { Logger } from '../../logger.js';
import type { LogRequest } from '../runtime.js';
import { MERGE_PATCH_OPTIONS } from './connections.js';
import type { JobEntry } from './job-entry.js';
import { objectLabels } from './labels.js';
import { Limiter } from './limiter.js';
import type { ClusterSettings, PayloadRef } from './manifests.js';
import { type RetryPolicy, statusOf, toApiError, withRetry } from './retry.js';

/** The most of a stopped pod's log kept with its job. */
export const KEPT_LOG_BYTES = 64 * 1024;
/** Lines asked of the kubelet for the kept tail: bounds what it reads back, since it cannot be asked for the last N bytes. */
const KEPT_LOG_LINES = 5_000;
/** How long a stop waits for the log it keeps; a stop never fails for it. */
const KEEP_TIMEOUT_MS = 5_000;
const KEPT_MARK = `[job-scheduler: earlier output dropped; the last ${KEPT_LOG_BYTES / 1024} KiB were kept when the job was stopped]\n`;
/** Most logs kept at once: stopping a batch of thousands of running jobs must not open thousands of requests. */
const KEEP_CONCURRENCY = 16;
/** The container every job's pod runs (see manifests.ts). */
const CONTAINER = 'job';

export interface PodLogsContext {
  kubeConfig: KubeConfig;
  coreApi: CoreV1Api;
  settings: ClusterSettings;
  logger: Logger;
  requestRetry: RetryPolicy;
  /** The pod as the watch has it. */
  cachedPod(name: string): V1Pod | undefined;
}

/**
 * Jobs' output on Kubernetes: read from `pods/log` while the pod exists. Before a stop ends a running pod, the
 * tail of its log is kept in a ConfigMap named after the job and owned by its batch record (so it goes with the
 * batch; its role `log` keeps it out of every watched set), and served once the pod is gone. Also the payloads,
 * read back from the batch's payload Secrets.
 */
export class PodLogs {
  private readonly keeping = new Limiter(KEEP_CONCURRENCY);

  constructor(private readonly context: PodLogsContext) {}

  async read(entry: JobEntry | undefined, job: JobRecord, request: LogRequest): Promise<Readable | undefined> {
    const pod = job.attempts[request.attempt]?.name;
    if (!entry || !pod) return undefined;
    if (this.context.cachedPod(pod)) {
      try {
        return endOnAbort(await this.open(pod, { follow: request.follow, tailLines: request.tail, signal: request.signal }), request.signal);
      } catch (error) {
        // 400: its container has not started (no log yet); 404: the pod went meanwhile (its kept tail, if any, follows).
        if (statusOf(error) === 400) return undefined;
        if (statusOf(error) !== 404) {
          this.context.logger.warn('could not read a pod log', { jobName: job.name, status: statusOf(error) });
          throw toApiError(error, 'read the log');
        }
      }
    }
    const kept = await this.kept(job.name, pod);
    return kept && Readable.from([tailOf(kept, request.tail)]);
  }

  /** Keeps the tail of the job's running pods' logs; bounded in time, and never failing (the stop goes on). */
  async keep(entry: JobEntry): Promise<void> {
    const running = [...entry.attempts.values()].filter((attempt) => attempt.phase === 'Running' && !attempt.terminated && !attempt.goneAt);
    for (const attempt of running) {
      try {
        await this.keeping.run(async () => this.store(entry, attempt.name, await this.readTail(attempt.name)));
      } catch (error) {
        this.context.logger.warn('could not keep the log of a stopped job', { jobName: entry.base.name, status: statusOf(error), error: statusOf(error) === undefined ? String(error) : undefined });
      }
    }
  }

  async payload(ref: PayloadRef): Promise<Buffer | undefined> {
    const { coreApi, settings, requestRetry } = this.context;
    try {
      const secret = await withRetry(requestRetry, () => coreApi.readNamespacedSecret({ name: ref.secretName, namespace: settings.namespace }));
      const data = secret.data?.[ref.key];
      return data === undefined ? undefined : Buffer.from(data, 'base64');
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toApiError(error, 'read the payload');
    }
  }

  private async kept(jobName: string, pod: string): Promise<Buffer | undefined> {
    const { coreApi, settings, requestRetry } = this.context;
    try {
      const object = await withRetry(requestRetry, () => coreApi.readNamespacedConfigMap({ name: keptLogName(jobName), namespace: settings.namespace }));
      const data = object.binaryData?.[pod];
      return data === undefined ? undefined : Buffer.from(data, 'base64');
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toApiError(error, 'read the kept log');
    }
  }

  /** The last `KEPT_LOG_BYTES` of a pod's log, marked when more was there; memory stays within that bound. */
  private async readTail(pod: string): Promise<Buffer> {
    const log = await this.open(pod, { follow: false, tailLines: KEPT_LOG_LINES, signal: AbortSignal.timeout(KEEP_TIMEOUT_MS) });
    let kept = Buffer.alloc(0);
    let total = 0;
    let lines = 0;
    for await (const chunk of log as AsyncIterable<Buffer>) {
      total += chunk.length;
      for (const byte of chunk) if (byte === 0x0a) lines++;
      kept = Buffer.concat([kept, chunk]);
      if (kept.length > KEPT_LOG_BYTES) kept = kept.subarray(kept.length - KEPT_LOG_BYTES);
    }
    return total > KEPT_LOG_BYTES || lines >= KEPT_LOG_LINES ? Buffer.concat([Buffer.from(KEPT_MARK), kept]) : kept;
  }

  private async store(entry: JobEntry, pod: string, tail: Buffer): Promise<void> {
    const { coreApi, settings, requestRetry } = this.context;
    const name = keptLogName(entry.base.name);
    const binaryData = { [pod]: tail.toString('base64') };
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: settings.namespace,
        labels: objectLabels({ component: settings.component, role: 'log', batchName: entry.batch.batch.name, batchType: entry.batch.batch.type, jobName: entry.base.name }),
        ownerReferences: [entry.batch.owner],
      },
      binaryData,
    };
    try {
      await withRetry(requestRetry, () => coreApi.createNamespacedConfigMap({ namespace: settings.namespace, body }));
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      await withRetry(requestRetry, () => coreApi.patchNamespacedConfigMap({ name, namespace: settings.namespace, body: { binaryData } }, MERGE_PATCH_OPTIONS));
    }
  }

  /** `GET pods/{pod}/log` as a stream (client-node reads a log whole, or pipes it without a way to see its errors). */
  private async open(pod: string, options: { follow: boolean; tailLines?: number; signal: AbortSignal }): Promise<IncomingMessage> {
    const { kubeConfig, settings } = this.context;
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(`${cluster.server.replace(/\/$/, '')}/api/v1/namespaces/${settings.namespace}/pods/${pod}/log`);
    url.searchParams.set('container', CONTAINER);
    if (options.follow) url.searchParams.set('follow', 'true');
    if (options.tailLines !== undefined) url.searchParams.set('tailLines', String(options.tailLines));
    const requestOptions: https.RequestOptions = { method: 'GET', signal: options.signal };
    await kubeConfig.applyToHTTPSOptions(requestOptions);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = transport.request(url, requestOptions, (response) => {
        if (response.statusCode === 200) return resolve(response);
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.length < 16 && chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => reject(new ApiException(response.statusCode ?? 500, 'pod log request failed', Buffer.concat(chunks).toString('utf8'), {})));
      });
      request.on('error', reject);
      request.end();
    });
  }
}

/** The log as it comes, ending cleanly (not cut short with an error) when its reader is ended on purpose. */
function endOnAbort(response: IncomingMessage, signal: AbortSignal): Readable {
  const out = new PassThrough();
  response.on('error', (error) => (signal.aborted ? out.end() : out.destroy(error)));
  response.on('close', () => {
    if (!out.writableEnded && !out.destroyed) out.end();
  });
  response.pipe(out);
  out.once('close', () => response.destroy());
  return out;
}

/** The ConfigMap keeping a stopped job's log tail (a job name is at most 63 characters; a ConfigMap's name may be longer). */
export function keptLogName(jobName: string): string {
  return `${jobName}-log`;
}

/** The last `lines` lines of a kept log (its mark only when they reach back to it). */
export function tailOf(log: Buffer, lines: number | undefined): Buffer {
  if (lines === undefined) return log;
  if (lines <= 0) return Buffer.alloc(0);
  let found = 0;
  for (let i = log.length - 1; i >= 0; i--) {
    if (log[i] !== 0x0a || i === log.length - 1) continue;
    if (++found === lines) return log.subarray(i + 1);
  }
  return log;
}
