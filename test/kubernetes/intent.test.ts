import assert from 'node:assert/strict';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { JobStatusView } from '../../src/core/view.js';
import { TERMINAL, waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import { ClusterActor, fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';

/**
 * Issue 9, lines 8-11: a stop, a final outcome and a refused create are recorded on the cluster, so that a
 * lagging watch, a restart or a Job deleted by someone else can neither resurrect nor mislabel a job.
 */
describe('the Kubernetes runtime: durable intent, lagging watches, objects deleted by others', function () {
  this.timeout(60_000);
  let fake: FakeApiServer;
  let actor: ClusterActor;
  let t: KubeTestService | undefined;
  const cluster = fakeClusterFrame((each) => ({ fake, actor } = each));

  const job = async (name: string): Promise<JobStatusView> => (await t!.request.get(`/api/v1/jobs/${name}`).expect(200)).body as JobStatusView;
  const batchJob = async (batch: string, name: string): Promise<JobStatusView> => (await t!.request.get(`/api/v1/batches/${batch}/jobs/${name}`).expect(200)).body as JobStatusView;
  const jobUntil = (name: string, done: (job: JobStatusView) => boolean) => waitFor(() => job(name), done);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const jobCreated = (name: string): Promise<any> => waitFor(async () => fake.get('jobs', NAMESPACE, name), Boolean);
  const postJob = async (body: object = {}): Promise<string> => (await t!.request.post('/api/v1/jobs').send(body).expect(200)).body.name as string;
  /** Create requests the runtime sent for one Job, answered or not. */
  const createsOf = (name: string) => fake.requests.filter((r) => r.user === '' && r.verb === 'create' && r.resource === 'jobs' && r.name === name);
  /**
   * Waits until the runtime has seen a Job created after now: the Jobs watch delivers changes in order, so
   * whatever happened to Jobs before (a deletion) has been seen too.
   */
  const fence = async (): Promise<void> => {
    const name = await postJob();
    await jobCreated(name);
    await actor.startPod(name);
    await jobUntil(name, (j) => j.status === 'Active' && j.podStatuses.length === 1);
  };
  const restart = async (): Promise<void> => {
    await t!.close();
    t = await cluster.start();
  };

  it('when the Job exists but the watch has not told of it, stop suspends that Job keeping foreign annotations, and the job ends Stopped, never Succeeded (line 8)', async () => {
    t = await cluster.start();
    fake.delayWatch('jobs', Infinity);
    const name = await postJob();
    await jobCreated(name);
    await waitFor(async () => createsOf(name).map((r) => r.status), (codes) => codes.includes(201));
    // Someone else (a policy controller, an operator) annotates the Job meanwhile.
    await fake.kubeConfig(NAMESPACE, ClusterActor.TOKEN).makeApiClient(BatchV1Api).patchNamespacedJob({
      name,
      namespace: NAMESPACE,
      body: [{ op: 'add', path: '/metadata/annotations/example.com~1owner', value: 'team-a' }],
    });

    await t.request.post(`/api/v1/jobs/${name}/stop`).expect(200);
    fake.releaseWatch('jobs');
    // The job controller: a suspended Job's pods are ended; any other Job runs to completion.
    if (fake.get('jobs', NAMESPACE, name).spec.suspend) {
      await actor.suspend(name);
    } else {
      await actor.attempt(name, 0);
      await actor.complete(name);
    }
    const ended = await jobUntil(name, (j) => TERMINAL.includes(j.status));
    assert.equal(ended.status, 'Stopped');
    const stored = fake.get('jobs', NAMESPACE, name);
    assert.equal(stored.spec.suspend, true);
    assert.equal(stored.metadata.annotations['example.com/owner'], 'team-a', 'the foreign annotation survives the stop');
    assert.ok(stored.metadata.annotations['job-scheduler.io/stopped-at']);
    assert.equal(createsOf(name).length, 1, 'stop creates nothing');
  });

  it('when a finished Job is deleted behind the scheduler, the job keeps its outcome, also after a restart, and no second Job is created (line 9)', async () => {
    t = await cluster.start();
    const name = await postJob();
    await jobCreated(name);
    await actor.attempt(name, 0);
    await actor.complete(name);
    const succeeded = await jobUntil(name, (j) => j.status === 'Succeeded' && j.podStatuses[0]?.endTime !== null);
    await actor.deleteJob(name);
    await waitFor(async () => fake.list('pods', NAMESPACE).filter((pod) => pod.metadata.labels['job-name'] === name).length, (n) => n === 0);
    await fence();
    assert.deepEqual(await job(name), succeeded);

    await restart();
    assert.deepEqual(await job(name), succeeded, 'after a restart too');
    await fence();
    assert.equal(fake.get('jobs', NAMESPACE, name), undefined);
    assert.equal(createsOf(name).length, 1, 'never created again');
  });

  it('when a running Job is deleted behind the scheduler, the job ends Failed saying so, never Waiting, and is not run again after a restart (line 9)', async () => {
    t = await cluster.start();
    const name = await postJob();
    await jobCreated(name);
    await actor.running(await actor.startPod(name));
    await jobUntil(name, (j) => j.status === 'Running');
    await actor.deleteJob(name);
    await fence();
    const failed = await job(name);
    assert.equal(failed.status, 'Failed');
    assert.match(failed.message ?? '', /deleted outside the scheduler/);
    assert.ok(failed.ended);
    assert.ok(failed.podStatuses[0]!.endTime, 'the attempt ended with its Job');

    await restart();
    const after = await job(name);
    assert.equal(after.status, 'Failed');
    assert.equal(after.ended, failed.ended);
    await fence();
    assert.equal(createsOf(name).length, 1);
  });

  it('when the cluster refuses a Job for good, the job is Failed with CreateFailed and stays so after a restart, without another try (line 9)', async () => {
    t = await cluster.start();
    fake.failNext({ verb: 'create', resource: 'jobs', status: 422 });
    const name = await postJob();
    const failed = await jobUntil(name, (j) => j.status === 'Failed');
    assert.match(failed.message ?? '', /^CreateFailed:/);
    assert.doesNotMatch(failed.message ?? '', /admission webhook/, "the cluster's own text stays in the log");

    await restart();
    const after = await job(name);
    assert.equal(after.status, 'Failed');
    assert.match(after.message ?? '', /^CreateFailed:/);
    await fence();
    assert.equal(createsOf(name).length, 1, 'not tried again');
  });

  it('when a batch waits on a full ResourceQuota, stop answers, every job ends Stopped and no Job is created afterwards (line 10)', async () => {
    t = await cluster.start();
    const core = fake.kubeConfig(NAMESPACE, ClusterActor.TOKEN).makeApiClient(CoreV1Api);
    await core.createNamespacedResourceQuota({ namespace: NAMESPACE, body: { metadata: { name: 'jobs' }, spec: { hard: { 'count/jobs.batch': '0' } } } });
    const { body } = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: 'a' }, { payload: 'b' }, { payload: 'c' }] }).expect(200);
    const names: string[] = body.jobStatuses.map((j: JobStatusView) => j.name);
    await waitFor(async () => Promise.all(names.map((name) => batchJob(body.name, name))), (jobs) => jobs.every((j) => /resource quota/.test(j.message ?? '')));

    await t.request.post(`/api/v1/batches/${body.name}/stop`).expect(200);
    const stopped = await waitFor(async () => Promise.all(names.map((name) => batchJob(body.name, name))), (jobs) => jobs.every((j) => j.status === 'Stopped'));
    assert.ok(stopped.every((j) => j.ended && j.podStatuses.length === 0));
    await core.deleteNamespacedResourceQuota({ name: 'jobs', namespace: NAMESPACE });
    await fence();
    assert.deepEqual(names.map((name) => fake.get('jobs', NAMESPACE, name)), [undefined, undefined, undefined]);
  });

  it('when the API server keeps failing the suspension, stop answers 503 saying so, and the recorded stop is carried out once it can be', async () => {
    t = await cluster.start();
    const name = await postJob();
    await jobCreated(name);
    await actor.running(await actor.startPod(name));
    await jobUntil(name, (j) => j.status === 'Running');
    fake.failNext({ verb: 'patch', resource: 'jobs', status: 500, times: 5 });
    const refused = await t.request.post(`/api/v1/jobs/${name}/stop`).expect(503);
    assert.equal(refused.body.reason, 'ServiceUnavailable');
    await waitFor(async () => fake.get('jobs', NAMESPACE, name).spec.suspend, (suspended) => suspended === true);
    await actor.suspend(name);
    await jobUntil(name, (j) => j.status === 'Stopped');
  });

  it('when the stop cannot be recorded, stop answers 503 and the job goes on as if it had not been asked', async () => {
    t = await cluster.start();
    const core = fake.kubeConfig(NAMESPACE, ClusterActor.TOKEN).makeApiClient(CoreV1Api);
    await core.createNamespacedResourceQuota({ namespace: NAMESPACE, body: { metadata: { name: 'jobs' }, spec: { hard: { 'count/jobs.batch': '0' } } } });
    const name = await postJob();
    await jobUntil(name, (j) => /resource quota/.test(j.message ?? ''));
    fake.failNext({ verb: 'patch', resource: 'configmaps', status: 500, times: 5 });
    const refused = await t.request.post(`/api/v1/jobs/${name}/stop`).expect(503);
    assert.match(refused.body.message, /could not record the stop/);
    assert.equal((await job(name)).status, 'Waiting');
    await core.deleteNamespacedResourceQuota({ name: 'jobs', namespace: NAMESPACE });
    await jobCreated(name);
    await restart();
    await jobUntil(name, (j) => j.status === 'Active');
  });

  it('when a batch of 200 running jobs is stopped, the suspend patches never exceed the write concurrency in flight (line 10)', async () => {
    t = await cluster.start({ env: { JOB_SCHEDULER_KUBE_WRITE_CONCURRENCY: '4' } });
    const { body } = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 200 }, (_, i) => ({ payload: `p${i}` })) }).expect(200);
    await waitFor(async () => (await t!.request.get(`/api/v1/batches/${body.name}`).expect(200)).body.jobStatuses as JobStatusView[], (jobs) => jobs.every((j) => j.status === 'Active'));
    fake.slow({ verb: 'patch', resource: 'jobs', user: '', delayMs: 5 });

    await t.request.post(`/api/v1/batches/${body.name}/stop`).expect(200);
    const patches = fake.requests.filter((r) => r.user === '' && r.verb === 'patch' && r.resource === 'jobs');
    assert.equal(patches.length, 200);
    assert.ok(patches.every((r) => r.status === 200));
    assert.ok(fake.list('jobs', NAMESPACE).every((j) => j.spec.suspend === true));
    const most = fake.maxInFlight({ verb: 'patch', resource: 'jobs' });
    assert.ok(most >= 1 && most <= 4, `${most} suspend patches in flight at once`);
  });

  it("when a stopped job's running pod is deleted without a terminated state, the attempt gets an endTime (line 11)", async () => {
    t = await cluster.start();
    const name = await postJob();
    await jobCreated(name);
    const pod = await actor.startPod(name, { nodeName: 'node-1' });
    await actor.running(pod);
    await jobUntil(name, (j) => j.status === 'Running');
    await t.request.post(`/api/v1/jobs/${name}/stop`).expect(200);
    // The job controller deletes the pod; its node never reports it ended, and the pod garbage collector removes it.
    await actor.deletePod(pod.metadata!.name!);
    await actor.deletePod(pod.metadata!.name!, 0);
    await actor.suspend(name);
    const stopped = await jobUntil(name, (j) => j.status === 'Stopped');
    assert.equal(stopped.podStatuses.length, 1);
    assert.ok(stopped.podStatuses[0]!.endTime, 'the attempt has ended');
    assert.equal(stopped.podStatuses[0]!.replicaStatus.status, 'Stopped');
    assert.ok(stopped.ended! >= stopped.podStatuses[0]!.endTime!);
  });

  it('when the deadline ends a job whose pod is deleted without a terminated state, the attempt ends with DeadlineExceeded (line 11)', async () => {
    t = await cluster.start();
    const name = await postJob({ timeLimitSeconds: 5 });
    await jobCreated(name);
    const pod = await actor.startPod(name, { nodeName: 'node-1' });
    await actor.running(pod);
    await jobUntil(name, (j) => j.status === 'Running');
    await actor.deletePod(pod.metadata!.name!);
    await actor.deletePod(pod.metadata!.name!, 0);
    await actor.fail(name, 'DeadlineExceeded', 'Job was active longer than specified deadline', 1);
    const failed = await jobUntil(name, (j) => j.status === 'Failed' && j.podStatuses[0]?.endTime !== null);
    assert.equal(failed.podStatuses[0]!.reason, 'DeadlineExceeded');
    assert.match(failed.message ?? '', /^DeadlineExceeded/);
  });

  it('when a pod is evicted (DisruptionTarget), the attempt is Interrupted, not counted, and the job goes on', async () => {
    t = await cluster.start();
    const name = await postJob({ backoffLimit: 0 });
    const manifest = await jobCreated(name);
    assert.deepEqual(manifest.spec.podFailurePolicy.rules[0], { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] });
    const evicted = await actor.startPod(name);
    await actor.running(evicted);
    await actor.disrupt(evicted);
    await actor.attempt(name, 0);
    await actor.complete(name);
    const done = await jobUntil(name, (j) => j.status === 'Succeeded');
    assert.deepEqual(done.podStatuses.map((p) => [p.reason, p.replicaStatus.status]), [['Interrupted', 'Failed'], ['Completed', 'Succeeded']]);
    assert.equal(done.failed, 0);
  });

  it('when a job brings 19 failurePolicy rules its Job has the 20 Kubernetes allows; 20 rules are refused with 400 naming the field', async () => {
    t = await cluster.start();
    const rules = (n: number) => Array.from({ length: n }, (_, i) => ({ action: 'Count', onExitCodes: { operator: 'In', values: [i + 1] } }));
    const name = await postJob({ failurePolicy: { rules: rules(19) } });
    assert.equal((await jobCreated(name)).spec.podFailurePolicy.rules.length, 20);
    const refused = await t.request.post('/api/v1/jobs').send({ failurePolicy: { rules: rules(20) } }).expect(400);
    assert.match(refused.body.message, /failurePolicy/);
  });

  it('when the service is restarted while a batch is being created, every job gets its Job once: none is settled as lost', async () => {
    t = await cluster.start({ env: { JOB_SCHEDULER_KUBE_WRITE_CONCURRENCY: '2' } });
    fake.slow({ verb: 'create', resource: 'jobs', user: '', delayMs: 20 });
    const { body } = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 300 }, (_, i) => ({ payload: `p${i}` })) }).expect(200);
    await waitFor(async () => fake.count('jobs', NAMESPACE), (n) => n >= 20);
    await restart();
    fake.slow(undefined);
    const jobs = await waitFor(async () => (await t!.request.get(`/api/v1/batches/${body.name}`).expect(200)).body.jobStatuses as JobStatusView[], (all) => all.every((j) => j.status === 'Active'));
    assert.equal(jobs.length, 300);
    assert.equal(fake.count('jobs', NAMESPACE), 300);
    const created = fake.requests.filter((r) => r.user === '' && r.verb === 'create' && r.resource === 'jobs' && r.status === 201);
    assert.equal(new Set(created.map((r) => r.name)).size, created.length, 'no Job created twice');
  });

  it('when the service restarts while jobs wait on the quota, they stay Waiting and are created once the quota allows', async () => {
    t = await cluster.start();
    const core = fake.kubeConfig(NAMESPACE, ClusterActor.TOKEN).makeApiClient(CoreV1Api);
    await core.createNamespacedResourceQuota({ namespace: NAMESPACE, body: { metadata: { name: 'jobs' }, spec: { hard: { 'count/jobs.batch': '0' } } } });
    const name = await postJob();
    await jobUntil(name, (j) => /resource quota/.test(j.message ?? ''));
    await restart();
    assert.equal((await job(name)).status, 'Waiting');
    await core.deleteNamespacedResourceQuota({ name: 'jobs', namespace: NAMESPACE });
    await jobCreated(name);
    assert.equal(fake.count('jobs', NAMESPACE), 1);
  });
});
