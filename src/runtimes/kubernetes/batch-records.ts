import type { CoreV1Api, V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import { ApiError } from '../../core/errors.js';
import type { NewBatch } from '../../core/model.js';
import type { Logger } from '../../logger.js';
import { MERGE_PATCH_OPTIONS } from './connections.js';
import type { DirectCreate } from './direct-create.js';
import { shardNumber } from './intent-codec.js';
import { keyAnnotation } from './idempotency-keys.js';
import { ANNOTATIONS, componentSelector, LABELS } from './labels.js';
import { batchRecordObject, type ClusterSettings, MAX_OBJECT_DATA_BYTES, ownerReference, packPayloads, type PayloadRef, payloadSecretObject } from './manifests.js';
import { encodeBatchRecord } from './record-codec.js';
import { type RetryPolicy, statusOf, toApiError, withRetry } from './retry.js';

/** The key of a batch record's compressed jobs. */
export const RECORD_KEY = 'batch.json.gz';

export interface BatchRecordsContext {
  coreApi: CoreV1Api;
  /** Sends the payload Secrets as text (client-node's serializer would walk every key of 1 MiB Secrets, both ways). */
  direct: DirectCreate;
  settings: ClusterSettings;
  logger: Logger;
  requestRetry: RetryPolicy;
  backgroundRetry: RetryPolicy;
  /** One write request through the runtime's write limiter, retried by `policy`. */
  write<T>(call: () => Promise<T>, policy?: RetryPolicy): Promise<T>;
}

/** Batch records (one ConfigMap per batch, owning its Secrets, state objects and Jobs) and the batches' state objects. */
export class BatchRecords {
  constructor(private readonly context: BatchRecordsContext) {}

  /**
   * Records a batch: its record (`accepting`), its payload Secrets, then `accepted`. Until then a restart
   * takes the batch back; on a failure it is taken back at once and the client gets a `Status` error.
   */
  async record({ batch, jobs, idempotency }: NewBatch): Promise<{ owner: V1OwnerReference; payloads: Map<string, PayloadRef> }> {
    const { coreApi, settings, logger, requestRetry } = this.context;
    const secrets = packPayloads(batch.name, jobs.map(({ record, payload }) => ({ name: record.name, payload })));
    const payloads = new Map(secrets.flatMap((secret) => secret.entries.map(({ key }) => [key, { secretName: secret.secretName, key }] as const)));
    const encoded = encodeBatchRecord({
      batch,
      jobs: jobs.map(({ record }) => ({ name: record.name, jobId: record.jobId, spec: record.spec, payload: payloads.get(record.name)! })),
    });
    if (Buffer.byteLength(encoded, 'base64') > MAX_OBJECT_DATA_BYTES - 4096) {
      throw ApiError.payloadTooLarge(`the batch's job settings do not fit one cluster object (${jobs.length} jobs); send it as smaller batches`);
    }
    const body = batchRecordObject(settings, batch, encoded);
    // The key goes into the record's own create: the batch and its key exist together or not at all.
    if (idempotency) body.metadata!.annotations![ANNOTATIONS.idempotency] = keyAnnotation(idempotency);
    let created: V1ConfigMap;
    try {
      created = await withRetry(requestRetry, () => coreApi.createNamespacedConfigMap({ namespace: settings.namespace, body }));
    } catch (error) {
      logger.error('could not create a batch record', { batchName: batch.name, status: statusOf(error) });
      throw toApiError(error, 'record the batch');
    }
    const owner = ownerReference(created);
    try {
      const path = `/api/v1/namespaces/${encodeURIComponent(settings.namespace)}/secrets`;
      await Promise.all(secrets.map((secret) => {
        const body = JSON.stringify(payloadSecretObject(settings, batch, owner, secret));
        return this.context.write(() => this.context.direct.create(path, body).catch((error: unknown) => {
          if (statusOf(error) !== 409) throw error;
        }), requestRetry);
      }));
      await withRetry(requestRetry, () => coreApi.patchNamespacedConfigMap({
        name: batch.name,
        namespace: settings.namespace,
        body: { metadata: { annotations: { [ANNOTATIONS.state]: 'accepted' } } },
      }, MERGE_PATCH_OPTIONS));
    } catch (error) {
      logger.error('could not record the batch payloads', { batchName: batch.name, status: statusOf(error) });
      await this.delete(batch.name).catch(() => undefined);
      throw toApiError(error, 'record the batch');
    }
    return { owner, payloads };
  }

  /** Deletes a batch record; the garbage collector removes what it owns. Gone already counts as done. */
  async delete(name: string): Promise<void> {
    try {
      await withRetry(this.context.requestRetry, () => this.context.coreApi.deleteNamespacedConfigMap({ name, namespace: this.context.settings.namespace, propagationPolicy: 'Background' }));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  /** The state objects of every batch, by batch name; read once at start (not watched: only this service writes them). */
  async stateObjects(): Promise<Map<string, V1ConfigMap[]>> {
    const { coreApi, settings, backgroundRetry } = this.context;
    const byBatch = new Map<string, V1ConfigMap[]>();
    const labelSelector = componentSelector(settings.component, 'state');
    let token: string | undefined;
    do {
      const page = await withRetry(backgroundRetry, () => coreApi.listNamespacedConfigMap({ namespace: settings.namespace, labelSelector, limit: 50, _continue: token }));
      for (const state of page.items) {
        const batchName = state.metadata?.labels?.[LABELS.batchName];
        if (!batchName || shardNumber(batchName, state.metadata?.name ?? '') === undefined) continue;
        byBatch.set(batchName, [...(byBatch.get(batchName) ?? []), state]);
      }
      token = page.metadata?._continue || undefined;
    } while (token);
    return byBatch;
  }
}
