import { expired } from './status.js';
import { clone, type Obj } from './types.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One write, kept so that watches can replay it and filtered watches can see a label change. */
export interface Change {
  rv: number;
  type: EventType;
  resource: string;
  namespace: string;
  /** The object after the write; for DELETED its last state carrying the deletion's resourceVersion. */
  object: Obj;
  /** The object before the write (MODIFIED, DELETED). */
  previous?: Obj;
}

const HISTORY_LIMIT = 10_000;
// Real resourceVersions are etcd revisions; starting away from 1 keeps tests from leaning on small numbers.
const FIRST_RESOURCE_VERSION = 1000;

const keyOf = (resource: string, namespace: string, name: string) => `${resource}/${namespace}/${name}`;
const byKey = (a: [string, Obj], b: [string, Obj]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * Objects by resource, namespace and name, one resourceVersion counter for every write (as etcd's
 * revision), and a bounded history of changes from which watches resume.
 */
export class Store {
  private objects = new Map<string, Obj>();
  private rv = FIRST_RESOURCE_VERSION;
  private history: Change[] = [];
  private readonly listeners = new Set<(change: Change) => void>();
  /** Watches and snapshots from before this resourceVersion are gone (410). */
  compactedRv = FIRST_RESOURCE_VERSION;

  get resourceVersion(): number {
    return this.rv;
  }

  get(resource: string, namespace: string, name: string): Obj | undefined {
    const object = this.objects.get(keyOf(resource, namespace, name));
    return object && clone(object);
  }

  /** Objects of a resource sorted by namespace and name, as etcd's key order returns them. */
  list(resource: string, namespace?: string): Obj[] {
    return this.entries(this.objects, resource, namespace).map(([, object]) => clone(object));
  }

  /** Every object in a namespace, of every resource, with its resource. */
  namespaceObjects(namespace: string): Array<{ resource: string; object: Obj }> {
    return [...this.objects.entries()]
      .filter(([, object]) => object.metadata.namespace === namespace)
      .map(([key, object]) => ({ resource: key.split('/')[0]!, object: clone(object) }));
  }

  namespaces(): string[] {
    return [...new Set([...this.objects.values()].map((object) => object.metadata.namespace as string))];
  }

  /** Stores the object with the next resourceVersion and tells the watches. */
  put(resource: string, object: Obj): Obj {
    const key = keyOf(resource, object.metadata.namespace, object.metadata.name);
    const previous = this.objects.get(key);
    const stored = clone(object);
    stored.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, stored);
    this.record({ rv: this.rv, type: previous ? 'MODIFIED' : 'ADDED', resource, namespace: object.metadata.namespace, object: clone(stored), previous });
    return clone(stored);
  }

  remove(resource: string, namespace: string, name: string): Obj | undefined {
    const key = keyOf(resource, namespace, name);
    const previous = this.objects.get(key);
    if (!previous) return undefined;
    this.objects.delete(key);
    const deleted = clone(previous);
    deleted.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, type: 'DELETED', resource, namespace, object: deleted, previous });
    return clone(deleted);
  }

  /** Changes after `rv`; 410 Expired when history from there is gone. */
  since(rv: number): Change[] {
    if (rv < this.compactedRv) throw expired(`too old resource version: ${rv} (${this.compactedRv})`);
    return this.history.filter((change) => change.rv > rv).map(clone);
  }

  /** The objects of a resource as they were at `rv`, rebuilt by undoing later changes. */
  snapshot(resource: string, rv: number, namespace?: string): Obj[] {
    if (rv < this.compactedRv) throw expired(`too old resource version: ${rv} (${this.compactedRv})`);
    const state = new Map(this.objects);
    for (const change of [...this.history].reverse()) {
      if (change.rv <= rv) break;
      const key = keyOf(change.resource, change.namespace, change.object.metadata.name);
      if (change.previous) state.set(key, change.previous);
      else state.delete(key);
    }
    return this.entries(state, resource, namespace).map(([, object]) => clone(object));
  }

  /** Forgets all history, as etcd compaction does. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private entries(source: Map<string, Obj>, resource: string, namespace?: string): Array<[string, Obj]> {
    const prefix = namespace === undefined ? `${resource}/` : `${resource}/${namespace}/`;
    return [...source.entries()].filter(([key]) => key.startsWith(prefix)).sort(byKey);
  }

  private record(change: Change): void {
    this.history.push(change);
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_LIMIT);
      this.compactedRv = dropped.at(-1)!.rv;
    }
    for (const listener of [...this.listeners]) listener(clone(change));
  }
}
