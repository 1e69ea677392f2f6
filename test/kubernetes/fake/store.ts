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

/** Objects by resource, namespace and name, with one resourceVersion counter and a bounded change history. */
export class Store {
  private readonly objects = new Map<string, Obj>();
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

  private key(resource: string, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  get(resource: string, namespace: string, name: string): Obj | undefined {
    const object = this.objects.get(this.key(resource, namespace, name));
    return object === undefined ? undefined : structuredClone(object);
  }

  list(resource: string, namespace?: string): Obj[] {
    const prefix = namespace === undefined ? `${resource}/` : `${resource}/${namespace}/`;
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, object]) => structuredClone(object));
  }

  all(): Array<{ resource: string; object: Obj }> {
    return [...this.objects.entries()].map(([key, object]) => ({ resource: key.split('/')[0]!, object: structuredClone(object) }));
  }

  hasUid(namespace: string, uid: string): boolean {
    return this.uids.has(`${namespace}/${uid}`);
  }

  /** Objects in the namespace whose owner references name this uid (copies). */
  dependentsOf(namespace: string, uid: string): Array<{ resource: string; object: Obj }> {
    const found: Array<{ resource: string; object: Obj }> = [];
    for (const [key, object] of this.objects) {
      if (object.metadata.namespace !== namespace || !object.metadata.ownerReferences?.some((ref: { uid: string }) => ref.uid === uid)) continue;
      found.push({ resource: key.split('/')[0]!, object: structuredClone(object) });
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
    const key = this.key(resource, namespace, name);
    const object = this.objects.get(key);
    if (!object) return undefined;
    this.objects.delete(key);
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
    const key = this.key(resource, namespace, object.metadata.name);
    const previous = this.objects.get(key);
    object.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, object);
    this.uids.add(`${namespace}/${object.metadata.uid}`);
    this.record({ rv: this.rv, type, resource, namespace, object: structuredClone(object), previous: previous && structuredClone(previous) });
    return structuredClone(object);
  }

  private record(change: Change): void {
    this.history.push(change);
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_LIMIT);
      this.compactedRv = dropped.at(-1)!.rv;
    }
    for (const listener of this.listeners) listener(change);
  }
}
