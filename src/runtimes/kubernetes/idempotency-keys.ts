import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import type { IdempotencyRecord } from '../../core/idempotency.js';
import type { BatchRecord } from '../../core/model.js';
import type { Logger } from '../../logger.js';
import { ANNOTATIONS, componentSelector, objectLabels } from './labels.js';
import type { ClusterSettings } from './manifests.js';
import { type RetryPolicy, statusOf, toApiError, withRetry } from './retry.js';

/**
 * Idempotency keys on Kubernetes. A key is an annotation of its batch record, written by the same create: the
 * cluster holds the batch with its key or neither, whenever the service dies. A deleted batch's key is kept, until
 * it expires, by a `key` object written before the batch record is deleted (not owned by it, so the garbage
 * collector leaves it). One instance of the service answers a component at a time, as with the local data
 * directory's lock, so concurrent requests with one key are ordered in memory (see the scheduler), not by the cluster.
 */

interface Encoded {
  k: string;
  f: string;
  e: number;
}

/** The annotation's value: the key's hash, the fingerprint and the expiry; never the key or the body. */
export function keyAnnotation(record: IdempotencyRecord): string {
  const encoded: Encoded = { k: record.keyHash, f: record.fingerprint, e: record.expires };
  return JSON.stringify(encoded);
}

/** The key an object carries for `batchName`; undefined when it carries none or an unreadable one. */
export function readKeyAnnotation(object: V1ConfigMap, batchName: string): IdempotencyRecord | undefined {
  const text = object.metadata?.annotations?.[ANNOTATIONS.idempotency];
  if (!text) return undefined;
  try {
    const { k, f, e } = JSON.parse(text) as Partial<Encoded>;
    if (typeof k !== 'string' || typeof f !== 'string' || typeof e !== 'number') return undefined;
    return { keyHash: k, fingerprint: f, batchName, expires: e };
  } catch {
    return undefined;
  }
}

export function keyObjectName(batchName: string): string {
  return `${batchName}-key`;
}

/** The object that keeps a deleted batch's key until it expires. */
export function keyObject(settings: ClusterSettings, batch: Pick<BatchRecord, 'name' | 'type'>, record: IdempotencyRecord): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: keyObjectName(batch.name),
      namespace: settings.namespace,
      labels: objectLabels({ component: settings.component, role: 'key', batchName: batch.name, batchType: batch.type }),
      annotations: { [ANNOTATIONS.idempotency]: keyAnnotation(record) },
    },
  };
}

export interface ClusterKeysContext {
  coreApi: CoreV1Api;
  settings: ClusterSettings;
  logger: Logger;
  requestRetry: RetryPolicy;
  backgroundRetry: RetryPolicy;
  now: () => Date;
}

/** The keys of the batches this runtime knows, and the `key` objects of deleted batches. */
export class ClusterKeys {
  private readonly byBatch = new Map<string, IdempotencyRecord>();
  /** Key objects by name, with their expiry: removed once expired. */
  private readonly kept = new Map<string, number>();

  constructor(private readonly context: ClusterKeysContext) {}

  /** A batch's key, from its record (at start) or from its acceptance. */
  known(record: IdempotencyRecord): void {
    this.byBatch.set(record.batchName, record);
  }

  /** The keys of deleted batches, read once at start; expired key objects are removed. */
  async loadDeleted(): Promise<IdempotencyRecord[]> {
    const { coreApi, settings, backgroundRetry } = this.context;
    const records: IdempotencyRecord[] = [];
    const labelSelector = componentSelector(settings.component, 'key');
    let token: string | undefined;
    do {
      const page = await withRetry(backgroundRetry, () => coreApi.listNamespacedConfigMap({ namespace: settings.namespace, labelSelector, limit: 500, _continue: token }));
      for (const object of page.items) {
        const name = object.metadata?.name ?? '';
        const batchName = name.endsWith('-key') ? name.slice(0, -'-key'.length) : '';
        const record = batchName ? readKeyAnnotation(object, batchName) : undefined;
        if (record) {
          this.kept.set(name, record.expires);
          records.push(record);
        }
      }
      token = page.metadata?._continue || undefined;
    } while (token);
    this.removeExpired();
    return records;
  }

  /**
   * Before a keyed batch is deleted: keeps its key (while it has not expired) in a key object. Throws an
   * `ApiError` when that cannot be written, so that the batch is not deleted without its key.
   */
  async beforeRemove(batch: BatchRecord): Promise<void> {
    const record = this.byBatch.get(batch.name);
    this.removeExpired();
    if (!record || record.expires <= this.context.now().getTime()) return;
    const { coreApi, settings, requestRetry, logger } = this.context;
    try {
      await withRetry(requestRetry, () => coreApi.createNamespacedConfigMap({ namespace: settings.namespace, body: keyObject(settings, batch, record) }));
    } catch (error) {
      // Already there: an earlier deletion of this batch got this far.
      if (statusOf(error) !== 409) {
        logger.error('could not keep the idempotency key of a batch', { batchName: batch.name, status: statusOf(error) });
        throw toApiError(error, 'keep the batch\'s idempotency key');
      }
    }
    this.kept.set(keyObjectName(batch.name), record.expires);
  }

  forget(batchName: string): void {
    this.byBatch.delete(batchName);
  }

  /** Removes expired key objects in the background; one that cannot be removed now is tried again next time. */
  private removeExpired(): void {
    const now = this.context.now().getTime();
    const { coreApi, settings } = this.context;
    for (const [name, expires] of this.kept) {
      if (expires > now) continue;
      this.kept.delete(name);
      coreApi.deleteNamespacedConfigMap({ name, namespace: settings.namespace }).catch((error: unknown) => {
        if (statusOf(error) !== 404) this.kept.set(name, expires);
      });
    }
  }
}
