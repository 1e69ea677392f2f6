import assert from 'node:assert/strict';
import { CoreV1Api } from '@kubernetes/client-node';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import type { JobStatusView } from '../../src/core/view.js';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import { ClusterActor, fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';

describe('the Kubernetes runtime against a fake API server', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let actor: ClusterActor;
  let t: KubeTestService | undefined;
  const cluster = fakeClusterFrame((each) => ({ fake, actor } = each));

  const job = async (name: string): Promise<JobStatusView> => (await t!.request.get(`/api/v1/jobs/${name}`).expect(200)).body as JobStatusView;
  const jobUntil = (name: string, done: (job: JobStatusView) => boolean) => waitFor(() => job(name), done);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const jobCreated = (name: string): Promise<any> => waitFor(async () => fake.get("jobs", NAMESPACE, name), Boolean);

  it('when a job is posted, a valid Job mounts only its own payload key, and the job runs to Succeeded from pod and Job status', async () => {
    t = await cluster.start({ component: { variables: { GREETING: 'hi' } } });
    const created = await t.request.post('/api/v1/jobs').send({ jobId: 'one', payload: '{"x": 1}', backoffLimit: 1 }).expect(200);
    assert.equal(created.body.status, 'Waiting');
    const name: string = created.body.name;
    const manifest = await jobCreated(name);
    new Job(manifest).validate();
    const pod = manifest.spec.template.spec;
    assert.deepEqual(pod.volumes[0].secret.items, [{ key: name, path: 'payload' }]);
    const secret = fake.get('secrets', NAMESPACE, pod.volumes[0].secret.secretName);
    new Secret(secret).validate();
    assert.equal(Buffer.from(secret.data[name], 'base64').toString('utf8'), '{"x": 1}');
    assert.equal(manifest.spec.backoffLimit, 1);
    assert.deepEqual(pod.containers[0].env.find((env: { name: string }) => env.name === 'JOB_ID'), { name: 'JOB_ID', value: 'one' });

    const attempt = await actor.startPod(name);
    await jobUntil(name, (j) => j.status === 'Active');
    await actor.running(attempt);
    await jobUntil(name, (j) => j.status === 'Running');
    await actor.exited(attempt, 0);
    await actor.complete(name);
    const done = await jobUntil(name, (j) => j.status === 'Succeeded');
    assert.equal(done.podStatuses.length, 1);
    assert.equal(done.podStatuses[0]!.exitCode, 0);
    assert.equal(done.podStatuses[0]!.image, 'registry.example.com/compute:1.0');
    assert.ok(done.ended);
  });

  it('when a batch has labels, its Jobs and their pods carry the client\'s labels (the job\'s over the batch\'s), except keys Kubernetes sets itself', async () => {
    t = await cluster.start();
    const labels = { team: 'vision', input: 'all', 'app.kubernetes.io/part-of': 'etl', 'job-name': 'mine', 'controller-uid': 'x' };
    const created = await t.request.post('/api/v1/batches').send({ labels, jobScheduleDescriptions: [{ jobId: 'a', labels: { input: 'bad' } }, { jobId: 'b' }] }).expect(200);
    const [first, second] = (created.body.jobStatuses as JobStatusView[]).map((j) => j.name) as [string, string];
    const [a, b] = [await jobCreated(first), await jobCreated(second)];
    for (const [manifest, input] of [[a, 'bad'], [b, 'all']] as const) {
      new Job(manifest).validate();
      for (const carried of [manifest.metadata.labels, manifest.spec.template.metadata.labels]) {
        assert.equal(carried.team, 'vision');
        assert.equal(carried.input, input);
        // The API server sets job-name and controller-uid on the pod template itself: never the client's values.
        assert.equal(carried['app.kubernetes.io/part-of'], undefined);
        assert.notEqual(carried['job-name'], 'mine');
        assert.notEqual(carried['controller-uid'], 'x');
        assert.equal(carried['job-scheduler.io/job-name'], manifest.metadata.name, 'the scheduler\'s own labels are kept');
      }
    }
    const pod = await actor.startPod(first);
    assert.equal(pod.metadata?.labels?.team, 'vision');
    // The API answers the client's labels whole, whatever the cluster objects carry.
    assert.deepEqual((await job(first)).labels, { ...labels, input: 'bad' });
  });

  it('when a batch of 60 jobs is posted, it costs at most N + ceil(payload bytes / 1 MiB) + 2 writes + 1 per 400 jobs launched, objects are owned by the batch record, and reads cost nothing', async () => {
    t = await cluster.start();
    const payloads = Array.from({ length: 60 }, (_, i) => `${i}:`.padEnd(40_000, 'p'));
    const writesBefore = fake.writes().length;
    const created = await t.request.post('/api/v1/batches').send({ batchId: 'b', jobScheduleDescriptions: payloads.map((payload, i) => ({ jobId: `j${i}`, payload })) }).expect(200);
    const names: string[] = created.body.jobStatuses.map((j: JobStatusView) => j.name);
    await waitFor(async () => fake.list('jobs', NAMESPACE).length, (n) => n === 60);
    const totalBytes = payloads.reduce((sum, p) => sum + Buffer.byteLength(p), 0);
    const writes = fake.writes().slice(writesBefore);
    // Jobs, payload Secrets, the record and its acceptance, and one state object for 400 jobs' launch marks (written before their Jobs).
    assert.ok(writes.length <= 60 + Math.ceil(totalBytes / (1024 * 1024)) + 2 + Math.ceil(60 / 400), `${writes.length} writes`);
    const secrets = fake.list('secrets', NAMESPACE);
    assert.equal(secrets.length, Math.ceil(totalBytes / (1024 * 1024)));
    const record = fake.get('configmaps', NAMESPACE, created.body.name);
    new ConfigMap(record).validate();
    const states = fake.list('configmaps', NAMESPACE).filter((object) => object.metadata.labels['job-scheduler.io/role'] === 'state');
    assert.equal(states.length, 1);
    for (const state of states) new ConfigMap(state).validate();
    for (const object of [...secrets, ...states, ...fake.list('jobs', NAMESPACE)]) {
      assert.deepEqual(object.metadata.ownerReferences.map((ref: { uid: string }) => ref.uid), [record.metadata.uid]);
    }
    // Every object the runtime wrote, as the server stored it, against the official schema.
    for (const secret of secrets) new Secret(secret).validate();
    for (const job of fake.list('jobs', NAMESPACE)) new Job(job).validate();
    for (const [i, name] of names.entries()) {
      const volume = fake.get('jobs', NAMESPACE, name).spec.template.spec.volumes[0].secret;
      const secret = secrets.find((s) => s.metadata.name === volume.secretName);
      assert.equal(Buffer.from(secret.data[volume.items[0].key], 'base64').toString('utf8'), payloads[i]);
    }
    const requestsBefore = fake.requests.length;
    await t.request.get(`/api/v1/batches/${created.body.name}`).expect(200);
    await t.request.get(`/api/v1/batches/${created.body.name}/jobs/${names[0]}`).expect(200);
    await t.request.get('/api/v1/batches').expect(200);
    assert.equal(fake.requests.length, requestsBefore);
  });

  it('when a batch of 200 jobs is created, the requests share kept-open connections instead of one connection each', async () => {
    t = await cluster.start();
    await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 200 }, (_, i) => ({ payload: `p${i}` })) }).expect(200);
    await waitFor(async () => fake.count('jobs', NAMESPACE), (n) => n === 200);
    const requests = fake.requests.filter((entry) => entry.user === '').length;
    assert.ok(requests > 200);
    // At most one connection per concurrent writer and per watch, give or take the lists: far fewer than requests.
    assert.ok(fake.connections < requests / 4, `${fake.connections} connections for ${requests} requests`);
  });

  it('when attempts fail, retries show in podStatuses and the job Failed with BackoffLimitExceeded', async () => {
    t = await cluster.start();
    const { body } = await t.request.post('/api/v1/jobs').send({ backoffLimit: 1 }).expect(200);
    await jobCreated(body.name);
    await actor.attempt(body.name, 3);
    await actor.attempt(body.name, 4);
    await actor.fail(body.name, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', 2);
    const failed = await jobUntil(body.name, (j) => j.status === 'Failed');
    assert.deepEqual(failed.podStatuses.map((p) => p.exitCode), [3, 4]);
    assert.equal(failed.failed, 2);
    assert.match(failed.message ?? '', /^BackoffLimitExceeded/);
  });

  it('when the deadline passes or the container is OOMKilled, the job Failed saying so', async () => {
    t = await cluster.start();
    const slow = (await t.request.post('/api/v1/jobs').send({ timeLimitSeconds: 5 }).expect(200)).body.name as string;
    const hungry = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body.name as string;
    assert.equal((await jobCreated(slow)).spec.activeDeadlineSeconds, 5);
    await jobCreated(hungry);
    await actor.running(await actor.startPod(slow));
    await actor.fail(slow, 'DeadlineExceeded', 'Job was active longer than specified deadline', 1);
    await actor.attempt(hungry, 137, 'OOMKilled');
    await actor.fail(hungry, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', 1);
    assert.match((await jobUntil(slow, (j) => j.status === 'Failed')).message ?? '', /^DeadlineExceeded/);
    const oom = await jobUntil(hungry, (j) => j.status === 'Failed');
    assert.equal(oom.podStatuses[0]!.reason, 'OOMKilled');
    assert.match(oom.message ?? '', /OOMKilled/);
  });

  it('when the image cannot be pulled, the job stays Active and its message names the error', async () => {
    t = await cluster.start();
    const { body } = await t.request.post('/api/v1/jobs').send({ imageTagName: 'missing' }).expect(200);
    await jobCreated(body.name);
    const pod = await actor.startPod(body.name);
    await actor.podStatus(pod, 'Pending', { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } });
    const stuck = await jobUntil(body.name, (j) => (j.message ?? '').includes('ErrImagePull'));
    assert.equal(stuck.status, 'Active');
  });

  it('when a running job is stopped, its Job is suspended and it ends Stopped; a waiting one is Stopped and never created', async () => {
    t = await cluster.start({ env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const running = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body.name as string;
    const waiting = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body.name as string;
    await jobCreated(running);
    await actor.running(await actor.startPod(running));
    await jobUntil(running, (j) => j.status === 'Running');
    assert.equal(fake.get('jobs', NAMESPACE, waiting), undefined);
    await t.request.post(`/api/v1/jobs/${waiting}/stop`).expect(200);
    assert.equal((await jobUntil(waiting, (j) => j.status === 'Stopped')).podStatuses.length, 0);
    assert.equal(fake.get('jobs', NAMESPACE, waiting), undefined);
    await t.request.post(`/api/v1/jobs/${running}/stop`).expect(200);
    assert.equal(fake.get('jobs', NAMESPACE, running).spec.suspend, true);
    await jobUntil(running, (j) => j.status === 'Stopping');
    await actor.suspend(running);
    const stopped = await jobUntil(running, (j) => j.status === 'Stopped');
    assert.equal(stopped.podStatuses.length, 1, 'the ended pod stays in the job history');
    assert.ok(stopped.ended);
  });

  it('when a batch is deleted, its record goes and the garbage collector takes its Jobs, Secrets and pods', async () => {
    t = await cluster.start();
    const { body } = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: 'a' }, { payload: 'b' }] }).expect(200);
    await waitFor(async () => fake.list('jobs', NAMESPACE).length, (n) => n === 2);
    await actor.startPod(body.jobStatuses[0].name);
    await t.request.delete(`/api/v1/batches/${body.name}`).expect(200);
    await t.request.get(`/api/v1/batches/${body.name}`).expect(404);
    const left = await waitFor(async () => ['configmaps', 'secrets', 'jobs', 'pods'].flatMap((r) => fake.list(r, NAMESPACE)), (objects) => objects.length === 0);
    assert.deepEqual(left, []);
    const deletes = fake.writes().filter((w) => w.verb === 'delete');
    assert.deepEqual(deletes.map((d) => [d.resource, d.query.propagationPolicy]), [['configmaps', 'Background']]);
  });

  it('when the service restarts mid-batch, the new instance creates only the missing Jobs and drops an unanswered batch', async () => {
    t = await cluster.start({ env: { JOB_SCHEDULER_MAX_RUNNING: '4' } });
    const { body } = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 12 }, (_, i) => ({ jobId: `j${i}` })) }).expect(200);
    await waitFor(async () => fake.list('jobs', NAMESPACE).length, (n) => n === 4);
    await t.close();
    t = undefined;
    // A batch whose Secrets were never all written: the client never got an answer.
    const half = JSON.parse(JSON.stringify(fake.get('configmaps', NAMESPACE, body.name)));
    half.metadata = { name: `${body.name.slice(0, -8)}zzzzzzzz`, labels: half.metadata.labels, annotations: { 'job-scheduler.io/state': 'accepting' } };
    fake.store.create({ resource: 'configmaps', group: '', version: 'v1', kind: 'ConfigMap', hasStatus: false, defaultPropagation: 'Background' }, NAMESPACE, half);

    t = await cluster.start();
    await waitFor(async () => fake.list('jobs', NAMESPACE).length, (n) => n === 12);
    const creates = fake.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs');
    assert.equal(creates.length, 12, 'one create per Job, none repeated');
    assert.ok(creates.every((c) => c.status === 201));
    assert.equal(fake.get('configmaps', NAMESPACE, half.metadata.name), undefined);
    const batch = (await t.request.get(`/api/v1/batches/${body.name}`).expect(200)).body;
    assert.deepEqual(batch.jobStatuses.map((j: JobStatusView) => j.jobId), Array.from({ length: 12 }, (_, i) => `j${i}`));
  });

  it('when the API server answers 429 and 500, the writes are retried and the batch goes through', async () => {
    t = await cluster.start();
    fake.failNext({ verb: 'create', resource: 'configmaps', status: 500 });
    fake.failNext({ verb: 'create', resource: 'secrets', status: 429, retryAfterSeconds: 0 });
    fake.failNext({ verb: 'create', resource: 'jobs', status: 429, retryAfterSeconds: 1 });
    fake.failNext({ verb: 'create', resource: 'jobs', status: 503 });
    const { body } = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: 'a' }, { payload: 'b' }] }).expect(200);
    await waitFor(async () => fake.list('jobs', NAMESPACE).length, (n) => n === 2);
    const failed = fake.requests.filter((r) => r.status >= 429);
    assert.deepEqual(failed.map((r) => `${r.verb} ${r.resource} ${r.status}`).sort(), ['create configmaps 500', 'create jobs 429', 'create jobs 503', 'create secrets 429']);
    assert.equal((await t.request.get(`/api/v1/batches/${body.name}`).expect(200)).body.jobStatuses.length, 2);
  });

  it('when the namespace quota allows no more Jobs, the rest wait saying why and are created once it does', async () => {
    t = await cluster.start();
    const core = fake.kubeConfig(NAMESPACE, ClusterActor.TOKEN).makeApiClient(CoreV1Api);
    await core.createNamespacedResourceQuota({ namespace: NAMESPACE, body: { metadata: { name: 'jobs' }, spec: { hard: { 'count/jobs.batch': '2' } } } });
    const { body } = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: 'a' }, { payload: 'b' }, { payload: 'c' }] }).expect(200);
    const batch = await waitFor(
      async () => (await t!.request.get(`/api/v1/batches/${body.name}`).expect(200)).body,
      (b) => b.jobStatuses.filter((j: JobStatusView) => /resource quota/.test(j.message ?? '')).length === 1,
    );
    assert.equal(fake.count('jobs', NAMESPACE), 2);
    const refused = fake.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs' && r.status === 403);
    assert.ok(refused.length >= 1);
    const waiting = batch.jobStatuses.find((j: JobStatusView) => j.message);
    assert.equal(waiting.status, 'Waiting');
    assert.doesNotMatch(waiting.message, /count\/jobs\.batch|forbidden/, "the cluster's own text stays in the log");

    await core.deleteNamespacedResourceQuota({ name: 'jobs', namespace: NAMESPACE });
    const created = await jobCreated(waiting.name);
    assert.equal(created.metadata.name, waiting.name);
    const after = await jobUntil(waiting.name, (j) => j.message === undefined);
    const other = batch.jobStatuses.find((j: JobStatusView) => !j.message);
    assert.equal(after.status, (await job(other.name)).status, 'like the jobs whose Jobs were created at once');
    assert.equal(fake.count('jobs', NAMESPACE), 3);
  });

  it('when the quota allows no more Secrets, the batch is refused with 503 and nothing of it stays', async () => {
    t = await cluster.start();
    const core = fake.kubeConfig(NAMESPACE, ClusterActor.TOKEN).makeApiClient(CoreV1Api);
    await core.createNamespacedResourceQuota({ namespace: NAMESPACE, body: { metadata: { name: 'secrets' }, spec: { hard: { secrets: '0' } } } });
    const refused = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: 'a' }] }).expect(503);
    assert.match(refused.body.message, /resource quota is used up/);
    assert.doesNotMatch(refused.body.message, /forbidden|secrets=/);
    await waitFor(async () => fake.count('configmaps', NAMESPACE), (n) => n === 0);
    assert.equal(fake.count('jobs', NAMESPACE), 0);
  });

  it('when the watch history expires (410) or the connection drops, the runtime lists again and keeps up', async () => {
    t = await cluster.start();
    const first = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body.name as string;
    const second = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body.name as string;
    await jobCreated(first);
    await jobCreated(second);
    const listsBefore = fake.requests.filter((r) => r.verb === 'list').length;
    fake.expireWatches();
    await actor.attempt(first, 0);
    await actor.complete(first);
    await jobUntil(first, (j) => j.status === 'Succeeded');
    assert.ok(fake.requests.filter((r) => r.verb === 'list').length > listsBefore, 'listed again after 410');
    fake.dropWatches();
    await actor.attempt(second, 0);
    await actor.complete(second);
    await jobUntil(second, (j) => j.status === 'Succeeded');
  });
});
