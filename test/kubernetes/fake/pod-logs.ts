import type { ServerResponse } from 'node:http';
import { RESOURCES } from './resources.js';
import { notFound, sendStatus } from './status.js';
import type { Change, Obj, Store } from './store.js';

/**
 * `GET pods/{name}/log` as the kubelet answers it: the container's output as text/plain; 400 while the container
 * waits to start; `tailLines` and `limitBytes`; with `follow=true`, the stream stays open and ends once the
 * container has terminated or the pod is gone. Tests set what a pod's container has printed with `write`.
 */
export class FakePodLogs {
  /** `namespace/pod` → what the container printed so far. */
  private readonly texts = new Map<string, string>();
  private readonly followers = new Map<string, Set<(text: string) => void>>();

  constructor(private readonly store: Store) {}

  /** The pod's container prints `text` (appended to what it printed before). */
  write(namespace: string, pod: string, text: string): void {
    const key = `${namespace}/${pod}`;
    this.texts.set(key, (this.texts.get(key) ?? '') + text);
    for (const follower of this.followers.get(key) ?? []) follower(text);
  }

  serve(res: ServerResponse, namespace: string, name: string, query: Record<string, string>): void {
    const pod = this.store.get('pods', namespace, name);
    if (!pod) return notFound(res, RESOURCES.pods!, name);
    const container = query.container ?? pod.spec?.containers?.[0]?.name;
    if (!pod.spec?.containers?.some((c: Obj) => c.name === container)) return sendStatus(res, 400, `container ${container} is not valid for pod ${name}`);
    const state = pod.status?.containerStatuses?.find((s: Obj) => s.name === container)?.state;
    if (!state || state.waiting) return sendStatus(res, 400, `container "${container}" in pod "${name}" is waiting to start: ${state?.waiting?.reason ?? 'ContainerCreating'}`);
    const key = `${namespace}/${name}`;
    let text = this.texts.get(key) ?? '';
    if (query.tailLines !== undefined) text = lastLines(text, Number(query.tailLines));
    if (query.limitBytes !== undefined) text = Buffer.from(text).subarray(0, Number(query.limitBytes)).toString('utf8');
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.write(text);
    if (query.follow !== 'true' || state.terminated) return void res.end();
    const follower = (more: string) => res.write(more);
    const followers = this.followers.get(key) ?? new Set();
    this.followers.set(key, followers.add(follower));
    const ended = (change: Change) => {
      if (change.resource !== 'pods' || change.namespace !== namespace || change.object.metadata?.name !== name) return;
      const terminated = change.object.status?.containerStatuses?.find((s: Obj) => s.name === container)?.state?.terminated;
      if (change.type === 'DELETED' || terminated) close();
    };
    const unsubscribe = this.store.subscribe(ended);
    const close = () => {
      unsubscribe();
      followers.delete(follower);
      res.end();
    };
    res.on('close', () => {
      unsubscribe();
      followers.delete(follower);
    });
  }
}

function lastLines(text: string, lines: number): string {
  if (lines <= 0) return '';
  const parts = text.split('\n');
  const ending = parts.at(-1) === '' ? parts.pop() : undefined;
  return parts.slice(-lines).join('\n') + (ending === '' ? '\n' : '');
}
