import assert from 'node:assert/strict';
import { ApiException, BatchV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type V1ConfigMap, Watch } from '@kubernetes/client-node';
import { waitFor } from '../component/harness.js';
import { type FakeApiServer, startFakeApiServer } from './fake/server.js';

/** The fake must answer as a real API server does where the runtime depends on it. */
describe('the fake Kubernetes API server', () => {
  let fake: FakeApiServer;
  let core: CoreV1Api;
  let batch: BatchV1Api;
  const namespace = 'apps';
  const aConfigMap = (name: string, labels: Record<string, string> = {}): V1ConfigMap => ({ metadata: { name, labels }, data: { a: '1' } });

  beforeEach(async () => {
    fake = await startFakeApiServer();
    core = fake.kubeConfig(namespace).makeApiClient(CoreV1Api);
    batch = fake.kubeConfig(namespace).makeApiClient(BatchV1Api);
  });
  afterEach(() => fake.close());

  async function failure(call: Promise<unknown>): Promise<{ code: number; body: { reason: string; message: string; code: number; kind: string } }> {
    try {
      await call;
    } catch (error) {
      assert.ok(error instanceof ApiException, String(error));
      return { code: error.code, body: typeof error.body === 'string' ? JSON.parse(error.body) : error.body };
    }
    assert.fail('expected the call to fail');
  }

  it('when an object is created, it gets a uid, a creation time and increasing resourceVersions', async () => {
    const first = await core.createNamespacedConfigMap({ namespace, body: aConfigMap('one') });
    const second = await core.createNamespacedConfigMap({ namespace, body: aConfigMap('two') });
    assert.match(first.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.ok(first.metadata!.creationTimestamp);
    assert.ok(Number(second.metadata!.resourceVersion) > Number(first.metadata!.resourceVersion));
  });

  it('when a name exists or is missing, answers 409 AlreadyExists and 404 NotFound Status bodies', async () => {
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('one') });
    const exists = await failure(core.createNamespacedConfigMap({ namespace, body: aConfigMap('one') }));
    assert.equal(exists.code, 409);
    assert.deepEqual([exists.body.kind, exists.body.reason, exists.body.code], ['Status', 'AlreadyExists', 409]);
    const missing = await failure(batch.readNamespacedJob({ name: 'nope', namespace }));
    assert.equal(missing.code, 404);
    assert.equal(missing.body.message, 'jobs.batch "nope" not found');
  });

  it('when a create would go over a ResourceQuota object count, answers 403 Forbidden as the quota admission does', async () => {
    await core.createNamespacedResourceQuota({ namespace, body: { metadata: { name: 'small' }, spec: { hard: { 'count/jobs.batch': '1', configmaps: '2' } } } });
    const job = { metadata: { name: 'a' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } };
    await batch.createNamespacedJob({ namespace, body: job });
    const over = await failure(batch.createNamespacedJob({ namespace, body: { ...job, metadata: { name: 'b' } } }));
    assert.equal(over.code, 403);
    assert.equal(over.body.reason, 'Forbidden');
    assert.equal(over.body.message, 'jobs.batch "b" is forbidden: exceeded quota: small, requested: count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1');
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('one') });
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('two') });
    assert.equal((await failure(core.createNamespacedConfigMap({ namespace, body: aConfigMap('three') }))).code, 403);
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'unlimited' }, data: {} } });
    await core.deleteNamespacedResourceQuota({ name: 'small', namespace });
    await batch.createNamespacedJob({ namespace, body: { ...job, metadata: { name: 'b' } } });
  });

  it('when a Secret holds more than 1 MiB or a name is invalid, answers 422 Invalid', async () => {
    const big = await failure(core.createNamespacedSecret({ namespace, body: { metadata: { name: 's' }, data: { a: Buffer.alloc(1024 * 1024 + 1).toString('base64') } } }));
    assert.equal(big.code, 422);
    assert.match(big.body.message, /Too long: must have at most 1048576 bytes/);
    assert.equal((await failure(core.createNamespacedConfigMap({ namespace, body: aConfigMap('Not_Valid') }))).code, 422);
  });

  it('when listing with a label selector, only matching objects come back', async () => {
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('a', { app: 'x', tier: 'one' }) });
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('b', { app: 'y' }) });
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('c', { app: 'x' }) });
    const names = async (labelSelector: string) => (await core.listNamespacedConfigMap({ namespace, labelSelector })).items.map((i) => i.metadata!.name);
    assert.deepEqual(await names('app=x'), ['a', 'c']);
    assert.deepEqual(await names('app in (x,y),!tier'), ['b', 'c']);
    assert.deepEqual(await names('app!=x'), ['b']);
    assert.equal((await failure(core.listNamespacedConfigMap({ namespace, labelSelector: 'app in x' }))).code, 400);
  });

  it('when a watched object starts or stops matching the selector, the watch says ADDED or DELETED', async () => {
    const seen: string[] = [];
    const list = await core.listNamespacedConfigMap({ namespace });
    const request = await new Watch(fake.kubeConfig(namespace)).watch(`/api/v1/namespaces/${namespace}/configmaps`, { labelSelector: 'app=x', resourceVersion: list.metadata!.resourceVersion }, (type, object) => seen.push(`${type} ${object.metadata.name}`), () => {});
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('a', { app: 'y' }) });
    await core.patchNamespacedConfigMap({ name: 'a', namespace, body: [{ op: 'replace', path: '/metadata/labels/app', value: 'x' }] });
    await core.patchNamespacedConfigMap({ name: 'a', namespace, body: [{ op: 'replace', path: '/data/a', value: '2' }] });
    await core.patchNamespacedConfigMap({ name: 'a', namespace, body: [{ op: 'replace', path: '/metadata/labels/app', value: 'z' }] });
    await waitFor(async () => seen.length, (n) => n === 3, 5000);
    request.abort();
    assert.deepEqual(seen, ['ADDED a', 'MODIFIED a', 'DELETED a']);
  });

  it('when a watch starts from a compacted resourceVersion, it gets an ERROR event with a 410 Expired Status', async () => {
    const first = await core.createNamespacedConfigMap({ namespace, body: aConfigMap('a') });
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('b') });
    fake.expireWatches();
    const events: Array<{ type: string; code?: number; reason?: string }> = [];
    let ended = false;
    await new Watch(fake.kubeConfig(namespace)).watch(`/api/v1/namespaces/${namespace}/configmaps`, { resourceVersion: first.metadata!.resourceVersion }, (type, object) => events.push({ type, code: object.code, reason: object.reason }), () => (ended = true));
    await waitFor(async () => ended, Boolean, 5000);
    assert.deepEqual(events, [{ type: 'ERROR', code: 410, reason: 'Expired' }]);
  });

  it('when an owner is deleted in the background, its dependents go too; a Job by default orphans them', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace, body: aConfigMap('owner') });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! };
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'dependent', ownerReferences: [ref] } } });
    const job = await batch.createNamespacedJob({ namespace, body: { metadata: { name: 'j' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } });
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'p', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: job.metadata!.uid!, controller: true }] }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace, propagationPolicy: 'Background' });
    await waitFor(async () => fake.get('secrets', namespace, 'dependent'), (s) => s === undefined, 5000);
    await batch.deleteNamespacedJob({ name: 'j', namespace });
    const pod = await waitFor(async () => fake.get('pods', namespace, 'p'), (p) => !p.metadata.ownerReferences?.length, 5000);
    assert.ok(pod, 'the pod of a Job deleted without a propagation policy is orphaned, not deleted');
  });

  it('when an object is created with an owner that does not exist, the garbage collector removes it', async () => {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'stray', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', uid: '00000000-0000-0000-0000-000000000000' }] } } });
    await waitFor(async () => fake.get('secrets', namespace, 'stray'), (s) => s === undefined, 5000);
  });

  it('when a Job is created, status is reset and the selector and template labels are set; writes to the Job keep its status', async () => {
    const created = await batch.createNamespacedJob({ namespace, body: { metadata: { name: 'j' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } }, status: { succeeded: 1 } } });
    assert.deepEqual(JSON.parse(JSON.stringify(created.status)), {});
    assert.equal(created.spec!.template.metadata!.labels!['batch.kubernetes.io/job-name'], 'j');
    await batch.replaceNamespacedJobStatus({ name: 'j', namespace, body: { ...created, status: { active: 1 } } });
    const patched = await batch.patchNamespacedJob({ name: 'j', namespace, body: [{ op: 'replace', path: '/spec/suspend', value: true }, { op: 'add', path: '/status', value: { failed: 9 } }] });
    assert.equal(patched.spec!.suspend, true);
    assert.deepEqual(JSON.parse(JSON.stringify(patched.status)), { active: 1 });
    const restartAlways = await failure(batch.createNamespacedJob({ namespace, body: { metadata: { name: 'k' }, spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'busybox' }] } } } } }));
    assert.equal(restartAlways.code, 422);
  });

  it('when failures are injected, answers 429 with Retry-After and 500 with Status bodies, once each', async () => {
    fake.failNext({ verb: 'create', resource: 'configmaps', status: 429, retryAfterSeconds: 3 });
    fake.failNext({ verb: 'list', resource: 'configmaps', status: 500 });
    const throttled = await failure(core.createNamespacedConfigMap({ namespace, body: aConfigMap('a') }));
    assert.equal(throttled.code, 429);
    assert.equal(throttled.body.reason, 'TooManyRequests');
    assert.equal((await failure(core.listNamespacedConfigMap({ namespace }))).code, 500);
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('a') });
    assert.equal((await core.listNamespacedConfigMap({ namespace })).items.length, 1);
    assert.deepEqual(fake.requests.map((r) => `${r.verb} ${r.resource} ${r.status}`), ['create configmaps 429', 'list configmaps 500', 'create configmaps 201', 'list configmaps 200']);
  });

  it('when a merge patch names some annotations, they are added or replaced and the others stay; null removes one', async () => {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'a', annotations: { mine: '1', theirs: '2' } }, data: { k: 'v' } } });
    const patched = await core.patchNamespacedConfigMap({ name: 'a', namespace, body: { metadata: { annotations: { mine: '3', gone: null } }, data: { l: 'w' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.deepEqual(patched.metadata!.annotations, { mine: '3', theirs: '2' });
    assert.deepEqual(patched.data, { k: 'v', l: 'w' });
  });

  it('when the watch of a resource is held, GET sees a write at once and the watch tells it only once released, in order', async () => {
    const seen: string[] = [];
    const list = await core.listNamespacedConfigMap({ namespace });
    fake.delayWatch('configmaps', Infinity);
    const request = await new Watch(fake.kubeConfig(namespace)).watch(`/api/v1/namespaces/${namespace}/configmaps`, { resourceVersion: list.metadata!.resourceVersion }, (type, object) => seen.push(`${type} ${object.metadata.name}`), () => {});
    const others: string[] = [];
    const control = await new Watch(fake.kubeConfig(namespace)).watch(`/api/v1/namespaces/${namespace}/secrets`, { resourceVersion: list.metadata!.resourceVersion }, (type) => others.push(type), () => {});
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('a') });
    await core.deleteNamespacedConfigMap({ name: 'a', namespace });
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('b') });
    assert.ok(await core.readNamespacedConfigMap({ name: 'b', namespace }));
    // A later event of a watch that is not held gets through; the held ones have not.
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 's' } } });
    await waitFor(async () => others.length, (n) => n === 1, 5000);
    control.abort();
    assert.deepEqual(seen, []);
    fake.releaseWatch('configmaps');
    await waitFor(async () => seen.length, (n) => n === 3, 5000);
    request.abort();
    assert.deepEqual(seen, ['ADDED a', 'DELETED a', 'ADDED b']);
  });

  it('when a pod bound to a node is deleted, it is terminating (deletionTimestamp) until a delete of grace 0, whose DELETED event still carries it', async () => {
    const seen: Array<[string, boolean]> = [];
    const list = await core.listNamespacedPod({ namespace });
    const request = await new Watch(fake.kubeConfig(namespace)).watch(`/api/v1/namespaces/${namespace}/pods`, { resourceVersion: list.metadata!.resourceVersion }, (type, object) => seen.push([type, Boolean(object.metadata.deletionTimestamp)]), () => {});
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'bound' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] } } });
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'unbound' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    await core.deleteNamespacedPod({ name: 'bound', namespace });
    assert.ok(fake.get('pods', namespace, 'bound').metadata.deletionTimestamp, 'terminating');
    await core.deleteNamespacedPod({ name: 'bound', namespace });
    await core.deleteNamespacedPod({ name: 'bound', namespace, gracePeriodSeconds: 0 });
    await core.deleteNamespacedPod({ name: 'unbound', namespace });
    await waitFor(async () => seen.length, (n) => n === 5, 5000);
    request.abort();
    assert.deepEqual(seen, [['ADDED', false], ['ADDED', false], ['MODIFIED', true], ['DELETED', true], ['DELETED', false]]);
    assert.equal(fake.count('pods', namespace), 0);
  });

  it('when requests of one client overlap, the fake counts the most in flight at once', async () => {
    // Long enough for the three requests sent at once to be in flight together even on a loaded machine.
    fake.slow({ verb: 'create', resource: 'configmaps', delayMs: 500 });
    await Promise.all(['a', 'b', 'c'].map((name) => core.createNamespacedConfigMap({ namespace, body: aConfigMap(name) })));
    await core.createNamespacedConfigMap({ namespace, body: aConfigMap('d') });
    assert.equal(fake.maxInFlight({ verb: 'create', resource: 'configmaps' }), 3);
    assert.equal(fake.maxInFlight({ verb: 'list', resource: 'configmaps' }), 0);
  });

  it('when a Job has podFailurePolicy rules on pod conditions, their status defaults to True; a rule with neither condition nor exit codes is refused', async () => {
    const spec = (rules: unknown[]) => ({ podFailurePolicy: { rules }, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } });
    const created = await batch.createNamespacedJob({ namespace, body: { metadata: { name: 'j' }, spec: spec([{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }]) as never } });
    assert.equal(created.spec!.podFailurePolicy!.rules[0]!.onPodConditions![0]!.status, 'True');
    assert.equal((await failure(batch.createNamespacedJob({ namespace, body: { metadata: { name: 'k' }, spec: spec([{ action: 'Ignore' }]) as never } }))).code, 422);
  });

  it('when a list is paged, continue tokens walk every item once', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await core.createNamespacedConfigMap({ namespace, body: aConfigMap(name) });
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await core.listNamespacedConfigMap({ namespace, limit: 2, _continue: token });
      seen.push(...page.items.map((i) => i.metadata!.name!));
      token = page.metadata!._continue;
    } while (token);
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
  });
});
