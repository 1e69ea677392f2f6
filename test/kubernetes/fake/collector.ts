import { RESOURCES, type ResourceInfo } from './resources.js';
import type { Obj, Store } from './store.js';

/** Deletion as the API server's registry does it, and the garbage collector's part: owners' dependents go too. */
export class Collector {
  constructor(private readonly store: Store) {}

  /**
   * Deletes as the API server's registry does. A pod is deleted gracefully: it gets a deletionTimestamp and
   * stays (terminating, a MODIFIED event) while it is bound to a node and the grace period is not 0, or while
   * it has finalizers; the kubelet (or the pod garbage collector) ends it with a delete of grace 0, and its
   * DELETED event carries the deletionTimestamp. An unbound or finished pod, and any other kind, goes at once.
   */
  delete(info: ResourceInfo, namespace: string, name: string, gracePeriodSeconds: number | undefined): { object: Obj; gone: boolean } | undefined {
    const current = this.store.get(info.resource, namespace, name);
    if (!current) return undefined;
    if (info.kind === 'Pod') {
      const finished = ['Succeeded', 'Failed'].includes(current.status?.phase);
      const meta = current.metadata;
      const grace = !current.spec?.nodeName || finished ? 0 : gracePeriodSeconds ?? current.spec?.terminationGracePeriodSeconds ?? 30;
      // Already terminating: only a shorter grace period changes anything.
      if (meta.deletionTimestamp && grace >= (meta.deletionGracePeriodSeconds ?? 0)) return { object: current, gone: false };
      meta.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      meta.deletionGracePeriodSeconds = grace;
      if (grace > 0 || meta.finalizers?.length) return { object: this.store.replace(info, namespace, current, false), gone: false };
      // Removed at once: the DELETED event carries the object as last stored (terminating or not).
      this.store.remove(info.resource, namespace, name);
      return { object: current, gone: true };
    }
    const gone = this.store.remove(info.resource, namespace, name);
    return gone && { object: gone, gone: true };
  }

  /** The garbage collector: dependents of a deleted owner go too, or lose the reference when orphaned. */
  collectDependents(namespace: string, uid: string, policy: string): void {
    for (const { resource, object } of this.store.dependentsOf(namespace, uid)) {
      const refs: Obj[] = object.metadata.ownerReferences ?? [];
      if (policy === 'Orphan') {
        object.metadata.ownerReferences = refs.filter((ref) => ref.uid !== uid);
        this.store.replace(RESOURCES[resource]!, namespace, object, false);
      } else if (refs.every((ref) => ref.uid === uid || !this.exists(namespace, ref.uid))) {
        const deleted = this.delete(RESOURCES[resource]!, namespace, object.metadata.name, undefined);
        if (deleted?.gone) this.collectDependents(namespace, deleted.object.metadata.uid, 'Background');
      }
    }
  }

  private exists(namespace: string, uid: string): boolean {
    return this.store.hasUid(namespace, uid);
  }

  /** An object whose owners are all gone is collected soon after it is created. */
  collectIfOrphaned(resource: string, namespace: string, name: string): void {
    const object = this.store.get(resource, namespace, name);
    const refs: Obj[] = object?.metadata.ownerReferences ?? [];
    if (!object || refs.length === 0 || refs.some((ref) => this.exists(namespace, ref.uid))) return;
    const gone = this.store.remove(resource, namespace, name);
    if (gone) this.collectDependents(namespace, gone.metadata.uid, 'Background');
  }
}
