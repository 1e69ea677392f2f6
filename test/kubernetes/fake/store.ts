import { randomUUID } from 'node:crypto';
import type { ResourceInfo } from './resources.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = any;

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  type: EventType;
  resource: string;
  namespace: string;
  object: Obj;
  /** The object before the change (MODIFIED), to tell a filtered watch when it starts or stops matching. */
  previous?: Obj;
}

const HISTORY_LIMIT = 10_000;
const HISTORY_TRIM = 1_000;

/** Objects by resource, namespace and name, with one resourceVersion counter and a bounded change history. */
export class Store {
  /** resource → `namespace/name` → object. */
  private readonly objects = new Map<string, Map<string, Obj>>();
  /** namespace/uid of every stored object, for owner lookups. */
  private readonly uids = new Set<string>();
  private rv = 1;
  readonly history: Change[] = [];
  /** Changes at or before this resourceVersion are gone: a watch from there gets 410. */
  compactedRv = 0;
  private readonly listeners = new Set<(change: Change) => void>();

  get resourceVersion(): number {
    return this.rv;
  }

  private of(resource: string): Map<string, Obj> {
    let objects = this.objects.get(resource);
    if (!objects) this.objects.set(resource, (objects = new Map()));
    return objects;
  }

  get(resource: string, namespace: string, name: string): Obj | undefined {
    const object = this.objects.get(resource)?.get(`${namespace}/${name}`);
    return object === undefined ? undefined : structuredClone(object);
  }

  /** Copies of the resource's objects (in one namespace, or all), ordered by namespace and name as the API server lists them. */
  list(resource: string, namespace?: string): Obj[] {
    const prefix = namespace === undefined ? '' : `${namespace}/`;
    return [...(this.objects.get(resource) ?? [])]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, object]) => structuredClone(object));
  }

  /** How many objects of the resource there are (in one namespace, or all), without copying them. */
  count(resource: string, namespace?: string): number {
    const objects = this.objects.get(resource);
    if (!objects || namespace === undefined) return objects?.size ?? 0;
    let n = 0;
    for (const object of objects.values()) if (object.metadata.namespace === namespace) n++;
    return n;
  }

  hasUid(namespace: string, uid: string): boolean {
    return this.uids.has(`${namespace}/${uid}`);
  }

  /** Objects in the namespace whose owner references name this uid (copies). */
  dependentsOf(namespace: string, uid: string): Array<{ resource: string; object: Obj }> {
    const found: Array<{ resource: string; object: Obj }> = [];
    for (const [resource, objects] of this.objects) {
      for (const object of objects.values()) {
        if (object.metadata.namespace !== namespace || !object.metadata.ownerReferences?.some((ref: { uid: string }) => ref.uid === uid)) continue;
        found.push({ resource, object: structuredClone(object) });
      }
    }
    return found;
  }

  create(info: ResourceInfo, namespace: string, object: Obj): Obj {
    const stored = structuredClone(object);
    stored.apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
    stored.kind = info.kind;
    stored.metadata.namespace = namespace;
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    stored.metadata.generation = 1;
    return this.commit(info.resource, namespace, stored, 'ADDED');
  }

  replace(info: ResourceInfo, namespace: string, object: Obj, bumpGeneration: boolean): Obj {
    const stored = structuredClone(object);
    if (bumpGeneration) stored.metadata.generation = (stored.metadata.generation ?? 1) + 1;
    return this.commit(info.resource, namespace, stored, 'MODIFIED');
  }

  remove(resource: string, namespace: string, name: string): Obj | undefined {
    const objects = this.of(resource);
    const key = `${namespace}/${name}`;
    const object = objects.get(key);
    if (!object) return undefined;
    objects.delete(key);
    this.uids.delete(`${namespace}/${object.metadata.uid}`);
    const deleted = structuredClone(object);
    deleted.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, type: 'DELETED', resource, namespace, object: deleted });
    return structuredClone(deleted);
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  private commit(resource: string, namespace: string, object: Obj, type: EventType): Obj {
    const objects = this.of(resource);
    const key = `${namespace}/${object.metadata.name}`;
    const previous = objects.get(key);
    object.metadata.resourceVersion = String(++this.rv);
    objects.set(key, object);
    this.uids.add(`${namespace}/${object.metadata.uid}`);
    // The stored object is never changed in place (every write stores a new copy), so the history can share it.
    this.record({ rv: this.rv, type, resource, namespace, object, previous });
    return structuredClone(object);
  }

  private record(change: Change): void {
    this.history.push(change);
    // Like the API server's watch cache: a window of recent changes, trimmed in steps rather than on every write.
    if (this.history.length > HISTORY_LIMIT + HISTORY_TRIM) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_LIMIT);
      this.compactedRv = dropped.at(-1)!.rv;
    }
    for (const listener of this.listeners) listener(change);
  }
}
