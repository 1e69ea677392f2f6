import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { applyJsonPatch, applyMergePatch, PatchError } from './patch.js';
import { prepareForCreate, quotaCountKeys, RESOURCES, type ResourceInfo, validate } from './resources.js';
import { parseFieldSelector, parseSelector, SelectorError } from './selectors.js';
import { alreadyExists, conflict, invalid, notFound, quotaExceeded, send, sendStatus, statusBody } from './status.js';
import { Collector } from './collector.js';
import { FakePodLogs } from './pod-logs.js';
import { type Change, type Obj, Store } from './store.js';
import { type SlowRule, Traffic } from './traffic.js';
import { WatchDelivery } from './watch-delivery.js';

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The RBAC verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  resource: string;
  group: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  status: number;
  /** The bearer token the client sent ('' for none): tells the runtime's requests from a test actor's. */
  user: string;
}

export interface FailureRule {
  verb?: string;
  resource?: string;
  times?: number;
  /** 429 and 5xx are faults a client retries; 400 and 422 are refusals it must not retry. */
  status: 400 | 422 | 429 | 500 | 503;
  retryAfterSeconds?: number;
}

interface Route {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

interface Watcher {
  res: ServerResponse;
  socket: Socket;
  close(): void;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * A Kubernetes API server for tests, on loopback: it stores objects and answers as the real one
 * does where the runtime depends on it. It runs no controllers: tests play the job controller and
 * the kubelet by writing Job and Pod status through the API.
 */
export class FakeApiServer {
  readonly store = new Store();
  private readonly collector = new Collector(this.store);
  /** What pods' containers print (`pods/log`). */
  readonly podLogs = new FakePodLogs(this.store);
  readonly requests: RequestLogEntry[] = [];
  private readonly failures: Array<FailureRule & { left: number }> = [];
  private chaosRule: { failureRate: number; maxDelayMs: number; forUser: string } | undefined;
  private chaosCount = 0;
  private captured: { resource: string; bodies: string[] } | undefined;
  private readonly watchers = new Set<Watcher>();
  private readonly delivery = new WatchDelivery();
  private readonly traffic = new Traffic();
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((error: unknown) => sendStatus(res, 500, `fake api server: ${String(error)}`));
  });
  url = '';
  /** TCP connections accepted so far. */
  connections = 0;

  async listen(): Promise<this> {
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  kubeConfig(namespace = 'default', token?: string): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'tester', ...(token ? { token } : {}) }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace }],
      currentContext: 'fake',
    });
    return kubeConfig;
  }

  failNext(rule: FailureRule): void {
    this.failures.push({ ...rule, left: rule.times ?? 1 });
  }

  /**
   * From now on, requests of one client (by token; '' is the runtime) fail with 429 or 500 at `failureRate`
   * (evenly spread, so that a short test still meets them), and the others are delayed at random up to `maxDelayMs`. Watches are left alone
   * (cut them with `dropWatches`). `undefined` ends it.
   */
  chaos(rule: { failureRate: number; maxDelayMs: number; forUser: string } | undefined): void {
    this.chaosRule = rule;
  }

  /**
   * From now on, watch events of one resource reach watchers `ms` late (GET and LIST see writes at once, as
   * on a loaded API server); `Infinity` holds them until `releaseWatch`.
   */
  delayWatch(resource: string, ms: number): void {
    this.delivery.setDelay(resource, ms);
  }

  /** Delivers the held or delayed watch events of one resource now, and later ones without delay. */
  releaseWatch(resource: string): void {
    this.delivery.release(resource);
  }

  /** Makes matching requests take `delayMs` longer (after they are counted in flight); `undefined` ends every rule. */
  slow(rule: SlowRule | undefined): void {
    this.traffic.slow(rule);
  }

  /** The most requests of one client (by token; '' is the runtime), verb and resource in flight at once so far. */
  maxInFlight(options: { verb: string; resource: string; user?: string }): number {
    return this.traffic.maxInFlight(options);
  }

  /** From now on, keeps the request bodies of creates of one resource exactly as sent (a benchmark replays them). */
  captureCreates(resource: string): string[] {
    this.captured = { resource, bodies: [] };
    return this.captured.bodies;
  }

  /** Cuts every open watch connection, as a network failure would. */
  dropWatches(): void {
    for (const watcher of this.watchers) watcher.socket.destroy();
  }

  /** Forgets the change history: open watches end with a 410 Expired event, and watches from old versions get one. */
  expireWatches(): void {
    this.store.compact();
    for (const watcher of this.watchers) {
      watcher.res.write(`${JSON.stringify({ type: 'ERROR', object: statusBody(410, `too old resource version: 1 (${this.store.resourceVersion})`, { reason: 'Expired' }) })}\n`);
      watcher.close();
      watcher.res.end();
    }
  }

  get(resource: string, namespace: string, name: string): Obj | undefined {
    return this.store.get(resource, namespace, name);
  }

  list(resource: string, namespace?: string): Obj[] {
    return this.store.list(resource, namespace);
  }

  count(resource: string, namespace?: string): number {
    return this.store.count(resource, namespace);
  }

  /** Write requests (create, update, patch, delete) made without a token: the runtime's, not a test actor's. */
  writes(): RequestLogEntry[] {
    return this.requests.filter((entry) => entry.user === '' && ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(entry.verb));
  }

  async close(): Promise<void> {
    for (const watcher of this.watchers) {
      watcher.close();
      watcher.socket.destroy();
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const route = parseRoute(url.pathname);
    if (!route) {
      if (url.pathname === '/version') return send(res, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0-fake' });
      return sendStatus(res, 404, 'the server could not find the requested resource');
    }
    const verb = verbOf(req.method ?? 'GET', route, query);
    const entry: RequestLogEntry = { method: req.method ?? 'GET', path: url.pathname, query, verb, resource: route.info.resource, group: route.info.group, subresource: route.subresource, namespace: route.namespace, name: route.name, status: 0, user: /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '' };
    this.requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method ?? '') ? await readBody(req) : undefined;
    if (body === 'too large') return sendStatus(res, 413, 'Request entity too large: limit is 3145728');
    let parsed: unknown;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      return sendStatus(res, 400, 'the body of the request was in an unknown format');
    }
    if (verb === 'create' && typeof (parsed as Obj)?.metadata?.name === 'string') entry.name = (parsed as Obj).metadata.name;
    if (verb === 'create' && body && this.captured?.resource === route.info.resource) this.captured.bodies.push(body);
    const failure = this.failures.find((rule) => (!rule.verb || rule.verb === verb) && (!rule.resource || rule.resource === route.info.resource) && rule.left > 0);
    if (failure) {
      failure.left--;
      if (failure.left === 0) this.failures.splice(this.failures.indexOf(failure), 1);
      entry.status = failure.status;
      const retryAfter = failure.retryAfterSeconds ?? 1;
      if (failure.status === 429) return sendStatus(res, 429, 'Too many requests, please try again later.', { details: { retryAfterSeconds: retryAfter } }, { 'retry-after': String(retryAfter) });
      if (failure.status === 400 || failure.status === 422) return sendStatus(res, failure.status, `${route.info.kind} "${route.name ?? ''}" is invalid: refused by an admission webhook`, { reason: failure.status === 422 ? 'Invalid' : 'BadRequest' });
      return sendStatus(res, failure.status, failure.status === 500 ? 'Internal error occurred: etcdserver: request timed out' : 'the server is currently unable to handle the request');
    }
    if (verb !== 'watch') {
      res.on('close', this.traffic.begin(entry.user, verb, route.info.resource));
      const delay = this.traffic.delayFor(entry.user, verb, route.info.resource);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
    const chaos = this.chaosRule;
    if (chaos && entry.user === chaos.forUser && verb !== 'watch') {
      // Every (1 / failureRate)th request fails, 429 and 500 in turn: the rate holds however few requests a test makes.
      this.chaosCount++;
      if (this.chaosCount % Math.max(1, Math.round(1 / chaos.failureRate)) === 0) {
        const status = (this.chaosCount / Math.round(1 / chaos.failureRate)) % 2 === 1 ? 429 : 500;
        entry.status = status;
        if (status === 429) return sendStatus(res, 429, 'Too many requests, please try again later.', { details: { retryAfterSeconds: 0 } }, { 'retry-after': '0' });
        return sendStatus(res, 500, 'Internal error occurred: etcdserver: request timed out');
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * chaos.maxDelayMs));
    }
    try {
      switch (verb) {
        case 'list': return this.list_(res, route, query);
        case 'watch': return this.watch(req, res, route, query);
        case 'get': return route.subresource === 'log' ? this.podLogs.serve(res, route.namespace!, route.name!, query) : this.getOne(res, route);
        case 'create': return this.create(res, route, parsed);
        case 'update': return this.update(res, route, parsed);
        case 'patch': return this.patch(req, res, route, parsed);
        case 'delete': return this.deleteOne(res, route, query, parsed);
        default: return sendStatus(res, 405, `${verb} is not supported by the fake`);
      }
    } catch (error) {
      if (error instanceof SelectorError) return sendStatus(res, 400, `unable to parse requirement: ${error.message}`);
      if (error instanceof PatchError) return sendStatus(res, 422, error.message, { reason: 'Invalid' });
      throw error;
    }
  }

  private matcher(query: Record<string, string>) {
    const labels = parseSelector(query.labelSelector);
    const fields = parseFieldSelector(query.fieldSelector);
    return (object: Obj) => labels(object.metadata?.labels) && fields(object);
  }

  private list_(res: ServerResponse, route: Route, query: Record<string, string>): void {
    const matches = this.matcher(query);
    let items = this.store.list(route.info.resource, route.namespace).filter(matches);
    let rv = String(this.store.resourceVersion);
    let offset = 0;
    if (query.continue) {
      const token = JSON.parse(Buffer.from(query.continue, 'base64').toString('utf8')) as { rv: number; offset: number };
      if (token.rv < this.store.compactedRv) return sendStatus(res, 410, 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.', { reason: 'Expired' });
      offset = token.offset;
      rv = String(token.rv);
    }
    const limit = Number(query.limit) || 0;
    const metadata: Record<string, unknown> = { resourceVersion: rv };
    items = items.slice(offset);
    if (limit > 0 && items.length > limit) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: Number(rv), offset: offset + limit })).toString('base64');
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    const apiVersion = route.info.group ? `${route.info.group}/${route.info.version}` : route.info.version;
    send(res, 200, { kind: `${route.info.kind}List`, apiVersion, metadata, items });
  }

  private watch(req: IncomingMessage, res: ServerResponse, route: Route, query: Record<string, string>): void {
    const matches = this.matcher(query);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const delivery = this.delivery.open(route.info.resource, (line) => res.write(line));
    const write = (type: string, object: Obj) => delivery.push(`${JSON.stringify({ type, object })}\n`);
    const from = query.resourceVersion && query.resourceVersion !== '0' ? Number(query.resourceVersion) : undefined;
    if (from !== undefined && from < this.store.compactedRv) {
      delivery.close();
      res.write(`${JSON.stringify({ type: 'ERROR', object: statusBody(410, `too old resource version: ${from} (${this.store.compactedRv})`, { reason: 'Expired' }) })}\n`);
      res.end();
      return;
    }
    const relevant = (change: Change) => change.resource === route.info.resource && (route.namespace === undefined || change.namespace === route.namespace);
    const emit = (change: Change) => {
      if (!relevant(change)) return;
      const now = matches(change.object);
      const before = change.type === 'MODIFIED' && change.previous ? matches(change.previous) : now;
      if (change.type === 'MODIFIED' && before !== now) write(now ? 'ADDED' : 'DELETED', change.object);
      else if (now) write(change.type, change.object);
    };
    if (from === undefined) {
      for (const object of this.store.list(route.info.resource, route.namespace)) if (matches(object)) write('ADDED', object);
    } else {
      for (const change of this.store.history) if (change.rv > from) emit(change);
    }
    const unsubscribe = this.store.subscribe(emit);
    const timer = query.timeoutSeconds ? setTimeout(() => res.end(), Number(query.timeoutSeconds) * 1000) : undefined;
    const watcher: Watcher = {
      res,
      socket: req.socket,
      close: () => {
        unsubscribe();
        delivery.close();
        if (timer) clearTimeout(timer);
        this.watchers.delete(watcher);
      },
    };
    this.watchers.add(watcher);
    res.on('close', () => watcher.close());
  }

  private getOne(res: ServerResponse, route: Route): void {
    const object = this.store.get(route.info.resource, route.namespace!, route.name!);
    if (!object) return notFound(res, route.info, route.name!);
    send(res, 200, object);
  }

  private create(res: ServerResponse, route: Route, body: Obj): void {
    if (route.name || route.subresource) return sendStatus(res, 405, 'the server does not allow this method on the requested resource');
    const object = structuredClone(body ?? {});
    object.metadata ??= {};
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = `${object.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
    if (object.metadata.namespace && object.metadata.namespace !== route.namespace) {
      return sendStatus(res, 400, 'the namespace of the provided object does not match the namespace sent on the request');
    }
    const name = object.metadata.name ?? '';
    const causes = validate(route.info, object);
    if (causes.length > 0) return invalid(res, route.info, name, causes);
    if (this.store.get(route.info.resource, route.namespace!, name)) return alreadyExists(res, route.info, name);
    const overQuota = this.quotaExceeded(route.info, route.namespace!);
    if (overQuota) return quotaExceeded(res, route.info, name, overQuota);
    delete object.metadata.resourceVersion;
    delete object.metadata.uid;
    const uid = crypto.randomUUID();
    object.metadata.uid = uid;
    prepareForCreate(route.info, object, uid);
    const created = this.store.create(route.info, route.namespace!, object);
    send(res, 201, created);
    if (created.metadata.ownerReferences?.length) setImmediate(() => this.collector.collectIfOrphaned(route.info.resource, route.namespace!, name));
  }

  /** The first ResourceQuota of the namespace whose object count one more create would exceed. */
  private quotaExceeded(info: ResourceInfo, namespace: string): { name: string; key: string; used: number; limit: number } | undefined {
    for (const quota of this.store.list('resourcequotas', namespace)) {
      for (const key of quotaCountKeys(info)) {
        const hard = quota.spec?.hard?.[key];
        if (hard === undefined) continue;
        const limit = Number(hard);
        const used = this.store.count(info.resource, namespace);
        if (used + 1 > limit) return { name: quota.metadata.name, key, used, limit };
      }
    }
    return undefined;
  }

  private update(res: ServerResponse, route: Route, body: Obj): void {
    const current = this.store.get(route.info.resource, route.namespace!, route.name!);
    if (!current) return notFound(res, route.info, route.name!);
    if (body?.metadata?.resourceVersion && body.metadata.resourceVersion !== current.metadata.resourceVersion) return conflict(res, route.info, route.name!);
    this.write(res, route, current, body);
  }

  private patch(req: IncomingMessage, res: ServerResponse, route: Route, body: unknown): void {
    const current = this.store.get(route.info.resource, route.namespace!, route.name!);
    if (!current) return notFound(res, route.info, route.name!);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    let next: Obj;
    if (type === 'application/json-patch+json') next = applyJsonPatch(current, body);
    else if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') next = applyMergePatch(current, body);
    else return sendStatus(res, 415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    if (next?.metadata?.resourceVersion !== current.metadata.resourceVersion && next?.metadata?.resourceVersion) return conflict(res, route.info, route.name!);
    this.write(res, route, current, next);
  }

  /** Applies an update: the main resource keeps its status, the status subresource keeps everything else. */
  private write(res: ServerResponse, route: Route, current: Obj, requested: Obj): void {
    const next = structuredClone(requested ?? {});
    next.metadata = { ...next.metadata, name: current.metadata.name, namespace: current.metadata.namespace, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, resourceVersion: current.metadata.resourceVersion };
    // Clients cannot set or clear a deletion; it is kept from the stored object.
    for (const key of ['deletionTimestamp', 'deletionGracePeriodSeconds']) {
      if (current.metadata[key] === undefined) delete next.metadata[key];
      else next.metadata[key] = current.metadata[key];
    }
    let result: Obj;
    if (route.subresource === 'status') {
      result = { ...current, status: next.status };
    } else {
      result = { ...next, apiVersion: current.apiVersion, kind: current.kind };
      if (route.info.hasStatus) result.status = current.status;
      if (current.immutable && (JSON.stringify(current.data) !== JSON.stringify(result.data) || !result.immutable)) {
        return invalid(res, route.info, current.metadata.name, [{ reason: 'FieldValueForbidden', message: 'Forbidden: field is immutable when `immutable` is set', field: 'data' }]);
      }
      if (route.info.kind === 'Job' && JSON.stringify(current.spec.template) !== JSON.stringify(result.spec?.template) && !current.spec.suspend) {
        return invalid(res, route.info, current.metadata.name, [{ reason: 'FieldValueInvalid', message: 'Invalid value: field is immutable', field: 'spec.template' }]);
      }
    }
    const causes = validate(route.info, result);
    if (causes.length > 0) return invalid(res, route.info, current.metadata.name, causes);
    const specChanged = route.subresource !== 'status' && JSON.stringify(current.spec) !== JSON.stringify(result.spec);
    const stored = this.store.replace(route.info, route.namespace!, result, specChanged);
    // A terminating object whose last finalizer is removed goes once its grace period is over.
    if (stored.metadata.deletionTimestamp && !stored.metadata.finalizers?.length && !stored.metadata.deletionGracePeriodSeconds) this.store.remove(route.info.resource, route.namespace!, current.metadata.name);
    send(res, 200, stored);
  }

  private deleteOne(res: ServerResponse, route: Route, query: Record<string, string>, body: Obj): void {
    const policy: string = query.propagationPolicy ?? body?.propagationPolicy ?? (query.orphanDependents === 'true' ? 'Orphan' : route.info.defaultPropagation);
    const graceText = query.gracePeriodSeconds ?? body?.gracePeriodSeconds;
    const deleted = this.collector.delete(route.info, route.namespace!, route.name!, graceText === undefined ? undefined : Number(graceText));
    if (!deleted) return notFound(res, route.info, route.name!);
    if (route.info.kind === 'Pod') send(res, 200, deleted.object);
    else sendStatus(res, 200, '', { reason: '', details: { name: route.name, group: route.info.group || undefined, kind: route.info.resource, uid: deleted.object.metadata.uid } });
    if (deleted.gone) setImmediate(() => this.collector.collectDependents(route.namespace!, deleted.object.metadata.uid, policy));
  }

}

function parseRoute(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts[1] === 'batch' && parts[2] === 'v1') rest = parts.slice(3);
  else return undefined;
  const group = parts[0] === 'apis' ? 'batch' : '';
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const info = RESOURCES[rest[0] ?? ''];
  if (!info || info.group !== group) return undefined;
  if (rest[2] !== undefined && !(rest[2] === 'status' && info.hasStatus) && !(rest[2] === 'log' && info.kind === 'Pod')) return undefined;
  if (namespace === undefined && rest.length > 1) return undefined;
  return { info, namespace, name: rest[1], subresource: rest[2] };
}

function verbOf(method: string, route: Route, query: Record<string, string>): string {
  const watching = query.watch === 'true' || query.watch === '1';
  switch (method) {
    case 'GET': return route.name ? 'get' : watching ? 'watch' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return route.name ? 'delete' : 'deletecollection';
    default: return method.toLowerCase();
  }
}

async function readBody(req: IncomingMessage): Promise<string | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return 'too large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeApiServer(): Promise<FakeApiServer> {
  return new FakeApiServer().listen();
}
