import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runJobName } from '../../src/core/cluster-job.js';
import type { JobStatusView } from '../../src/core/view.js';
import { LABELS } from '../../src/runtimes/kubernetes/labels.js';
import { waitFor } from '../component/harness.js';
import { ProcessServiceFixture } from '../component/process-service.js';
import type { FakeApiServer } from './fake/server.js';
import { type ClusterActor, fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';
import { JobControllerPlayer } from './job-controller.js';

type Job = JobStatusView & { generation?: number };
const COMPONENT = { name: 'compute', image: 'registry.example.com/compute:1.0', payload: { path: '/compute/args' } };

describe('restart, rerun-failed and copy over the Kubernetes runtime (fake API server)', function () {
  this.timeout(60_000);
  let fake: FakeApiServer;
  let t: KubeTestService | undefined;
  let actor: ClusterActor;
  let cluster: JobControllerPlayer;

  const frame = fakeClusterFrame((each) => {
    ({ fake, actor } = each);
    cluster = new JobControllerPlayer(fake, 20_000);
  });

  const job = async (name: string): Promise<Job> => (await t!.request.get(`/api/v1/jobs/${name}`).expect(200)).body as Job;
  const jobUntil = (name: string, done: (job: Job) => boolean) => waitFor(() => job(name), done);
  /** The Jobs in the cluster for one job (every run), by name. */
  const jobsOf = (name: string) => fake.list('jobs', NAMESPACE).filter((object) => object.metadata.labels?.[LABELS.jobName] === name).map((object) => object.metadata.name as string).sort();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const created = (name: string): Promise<any> => waitFor(async () => fake.get('jobs', NAMESPACE, name), Boolean);

  it('when a failed job is restarted (default backoffLimit 0), its next run gets a Job of its own, the earlier one is deleted, and its attempts stay', async () => {
    t = await frame.start({ component: COMPONENT });
    const name = (await t.request.post('/api/v1/jobs').send({ payload: 'p' }).expect(200)).body.name as string;
    await cluster.play(name, { exitCode: 3 });
    const failed = await jobUntil(name, (j) => j.status === 'Failed');
    assert.equal(failed.failed, 1);

    const restarted = await t.request.post(`/api/v1/jobs/${name}/restart`).expect(200);
    assert.equal(restarted.body.status, 'Waiting');
    assert.equal(restarted.body.generation, 1);
    assert.equal(restarted.body.failed, 0);
    assert.equal(restarted.body.started, null);
    assert.deepEqual(restarted.body.podStatuses.map((p: { exitCode: number }) => p.exitCode), [3]);

    const second = runJobName(name, 1);
    const manifest = await created(second);
    assert.equal(manifest.metadata.labels[LABELS.run], '1');
    assert.equal(manifest.spec.template.metadata.labels[LABELS.run], '1');
    await waitFor(async () => jobsOf(name), (names) => names.length === 1);
    assert.deepEqual(jobsOf(name), [second]);
    await cluster.play(second, { exitCode: 0 });
    const ended = await jobUntil(name, (j) => j.status === 'Succeeded');
    assert.equal(ended.failed, 0);
    assert.equal(ended.generation, 1);
    assert.deepEqual(ended.podStatuses.map((p) => [p.replicaStatus.status, p.exitCode]), [['Failed', 3], ['Succeeded', 0]]);
    const timeline = (await t.request.get(`/api/v1/jobs/${name}/timeline`).expect(200)).body.timeline as Array<{ status: string; reason: string }>;
    assert.equal(timeline.at(-1)!.status, 'Succeeded');
  });

  it('when a stopped and a succeeded job are restarted, each runs again in a new Job', async () => {
    t = await frame.start({ component: COMPONENT });
    const stopped = (await t.request.post('/api/v1/jobs').send({ payload: 's' }).expect(200)).body.name as string;
    const succeeded = (await t.request.post('/api/v1/jobs').send({ payload: 'ok' }).expect(200)).body.name as string;
    await created(stopped);
    const pod = await actor.startPod(stopped, { nodeName: 'node-1' });
    await actor.running(pod);
    await jobUntil(stopped, (j) => j.status === 'Running');
    const stopping = Promise.resolve(t.request.post(`/api/v1/jobs/${stopped}/stop`).expect(200));
    await cluster.afterStop(stopped);
    await stopping;
    assert.equal((await jobUntil(stopped, (j) => j.status === 'Stopped')).message, 'stopped');
    await cluster.play(succeeded, { exitCode: 0 });
    await jobUntil(succeeded, (j) => j.status === 'Succeeded');

    await t.request.post(`/api/v1/jobs/${stopped}/restart`).expect(200);
    await t.request.post(`/api/v1/jobs/${succeeded}/restart`).expect(200);
    await cluster.play(runJobName(stopped, 1), { exitCode: 0 });
    await cluster.play(runJobName(succeeded, 1), { exitCode: 0 });
    const again = [await jobUntil(stopped, (j) => j.status === 'Succeeded'), await jobUntil(succeeded, (j) => j.status === 'Succeeded')];
    assert.deepEqual(again[0]!.podStatuses.map((p) => p.replicaStatus.status), ['Stopped', 'Succeeded']);
    assert.deepEqual(again[1]!.podStatuses.map((p) => p.replicaStatus.status), ['Succeeded', 'Succeeded']);
    await t.request.post(`/api/v1/jobs/${stopped}/restart`).expect(200);
    const third = await created(runJobName(stopped, 2));
    assert.equal(third.metadata.labels[LABELS.run], '2');
    await waitFor(async () => jobsOf(stopped), (names) => names.length === 1);
  });

  it('when the failed jobs of a mixed batch are rerun, only the failed and the stopped one get a new run', async () => {
    t = await frame.start({ component: COMPONENT });
    const batch = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ jobId: 'ok' }, { jobId: 'fails' }, { jobId: 'stopped' }] }).expect(200);
    const [ok, fails, stopped] = (batch.body.jobStatuses as Job[]).map((j) => j.name);
    await cluster.play(ok!, { exitCode: 0 });
    await cluster.play(fails!, { exitCode: 3 });
    await created(stopped!);
    const stopping = Promise.resolve(t.request.post(`/api/v1/batches/${batch.body.name}/jobs/${stopped}/stop`).expect(200));
    await cluster.afterStop(stopped!);
    await stopping;
    await waitFor(() => t!.request.get(`/api/v1/batches/${batch.body.name}`), (r) => r.body.status === 'Failed');

    const rerun = await t.request.post(`/api/v1/batches/${batch.body.name}/rerun-failed`).expect(200);
    assert.deepEqual((rerun.body.jobStatuses as Job[]).map((j) => [j.jobId, j.status, j.generation]), [['ok', 'Succeeded', undefined], ['fails', 'Waiting', 1], ['stopped', 'Waiting', 1]]);
    await cluster.play(runJobName(fails!, 1), { exitCode: 0 });
    await cluster.play(runJobName(stopped!, 1), { exitCode: 0 });
    const after = await waitFor(() => t!.request.get(`/api/v1/batches/${batch.body.name}`), (r) => r.body.status === 'Succeeded');
    assert.deepEqual((after.body.jobStatuses as Job[]).map((j) => j.podStatuses.length), [1, 2, 1]);
    assert.deepEqual(jobsOf(ok!), [ok]);
    assert.equal(fake.get('jobs', NAMESPACE, runJobName(ok!, 1)), undefined);
  });

  it('when the restart cannot be recorded in the cluster (its state object\'s patches fail), it is a 503, the job stays Failed and no Job is created', async () => {
    t = await frame.start({ component: COMPONENT });
    const name = (await t.request.post('/api/v1/jobs').send({ payload: 'p' }).expect(200)).body.name as string;
    await cluster.play(name, { exitCode: 3 });
    await jobUntil(name, (j) => j.status === 'Failed');
    fake.failNext({ verb: 'patch', resource: 'configmaps', status: 503, times: 5 });
    const refused = await t.request.post(`/api/v1/jobs/${name}/restart`).expect(503);
    assert.equal(refused.body.reason, 'ServiceUnavailable');
    const after = await job(name);
    assert.equal(after.status, 'Failed');
    assert.equal(after.generation, undefined);
    assert.deepEqual(jobsOf(name), [name]);
    // The failed outcome, which was waiting to be written with others when the restart's patch failed, is still written.
    const state = `${name.slice(0, -9)}-state-0`;
    const recorded = await waitFor(async () => fake.get('configmaps', NAMESPACE, state)?.data?.['outcome.0'] as string | undefined, Boolean);
    assert.equal(JSON.parse(recorded!).status, 'Failed');
    assert.equal(fake.get('configmaps', NAMESPACE, state)?.data?.['run.0'], undefined);
    await t.request.post(`/api/v1/jobs/${name}/restart`).expect(200);
    await created(runJobName(name, 1));
  });

  it('when a job is copied with an override, the new Job has the override and a Secret with the same payload', async () => {
    t = await frame.start({ component: COMPONENT });
    const original = (await t.request.post('/api/v1/jobs').send({ jobId: 'j1', payload: '{"n": 7}', variables: { KEEP: 'k', CHANGE: 'old' } }).expect(200)).body.name as string;
    await created(original);
    const copy = await t.request.post(`/api/v1/jobs/${original}/copy`).send({ variables: { CHANGE: 'new' } }).expect(200);
    assert.notEqual(copy.body.name, original);
    assert.equal(copy.body.jobId, 'j1');
    const manifest = await created(copy.body.name);
    const env = Object.fromEntries((manifest.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
    assert.equal(env.KEEP, 'k');
    assert.equal(env.CHANGE, 'new');
    const volume = manifest.spec.template.spec.volumes[0].secret;
    const secret = fake.get('secrets', NAMESPACE, volume.secretName);
    assert.equal(Buffer.from(secret.data[volume.items[0].key], 'base64').toString('utf8'), '{"n": 7}');
  });

  describe('when the service is killed mid-restart and another instance takes over', function () {
    let fixture: ProcessServiceFixture;
    beforeEach(() => {
      fixture = new ProcessServiceFixture('k8s-restart', COMPONENT);
      writeFileSync(path.join(fixture.dir, 'kubeconfig'), fake.kubeConfig(NAMESPACE).exportConfig());
    });
    afterEach(() => fixture.cleanUp());
    const env = () => ({ KUBECONFIG: path.join(fixture.dir, 'kubeconfig'), JOB_SCHEDULER_RUNTIME: 'kubernetes', JOB_SCHEDULER_NAMESPACE: NAMESPACE, JOB_SCHEDULER_MAX_RUNNING: '1' });

    it('after the restart was recorded and before its Job was created: the next instance deletes the earlier Job and creates the run\'s Job once', async () => {
      const first = await fixture.start(env());
      // One job holds the only slot (maxRunning 1), so the restarted one is recorded and still waiting when killed.
      const name = (await first.request.post('/api/v1/jobs').send({ payload: 'p' }).expect(200)).body.name as string;
      await cluster.play(name, { exitCode: 3 });
      await waitFor(() => first.request.get(`/api/v1/jobs/${name}`), (r) => r.body.status === 'Failed');
      const holder = (await first.request.post('/api/v1/jobs').send({ payload: 'hold' }).expect(200)).body.name as string;
      await created(holder);
      fake.failNext({ verb: 'delete', resource: 'jobs', status: 503, times: 5 });
      await first.request.post(`/api/v1/jobs/${name}/restart`).expect(200);
      await waitFor(async () => fake.requests.filter((r) => r.verb === 'delete' && r.resource === 'jobs').length, (n) => n >= 5);
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      assert.deepEqual(jobsOf(name), [name], 'killed before the new run\'s Job and before the earlier one was deleted');

      t = await frame.start({ component: COMPONENT });
      const second = runJobName(name, 1);
      await created(second);
      await waitFor(async () => jobsOf(name), (names) => names.length === 1);
      assert.deepEqual(jobsOf(name), [second]);
      await cluster.play(second, { exitCode: 0 });
      const ended = await jobUntil(name, (j) => j.status === 'Succeeded');
      assert.deepEqual(ended.podStatuses.map((p) => p.exitCode), [3, 0]);
      assert.equal(ended.generation, 1);
      assert.equal(fake.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs' && r.status === 201 && r.user === '').length, 3, 'three Jobs ever created: the first run, the holder, the second run');
    });

    it('after the run\'s Job was created and before the earlier one was deleted: the next instance deletes the earlier Job and creates nothing', async () => {
      const first = await fixture.start({ ...env(), JOB_SCHEDULER_MAX_RUNNING: '4' });
      const name = (await first.request.post('/api/v1/jobs').send({ payload: 'p' }).expect(200)).body.name as string;
      await cluster.play(name, { exitCode: 3 });
      await waitFor(() => first.request.get(`/api/v1/jobs/${name}`), (r) => r.body.status === 'Failed');
      fake.failNext({ verb: 'delete', resource: 'jobs', status: 503, times: 5 });
      await first.request.post(`/api/v1/jobs/${name}/restart`).expect(200);
      await created(runJobName(name, 1));
      await waitFor(async () => fake.requests.filter((r) => r.verb === 'delete' && r.resource === 'jobs').length, (n) => n >= 5);
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      assert.deepEqual(jobsOf(name), [name, runJobName(name, 1)].sort());

      t = await frame.start({ component: COMPONENT });
      await waitFor(async () => jobsOf(name), (names) => names.length === 1);
      assert.deepEqual(jobsOf(name), [runJobName(name, 1)]);
      assert.equal((await job(name)).status, 'Active');
      await cluster.play(runJobName(name, 1), { exitCode: 0 });
      assert.deepEqual((await jobUntil(name, (j) => j.status === 'Succeeded')).podStatuses.map((p) => p.exitCode), [3, 0]);
      assert.equal(fake.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs' && r.status === 201 && r.user === '').length, 2, 'two Jobs ever created, one per run');
    });
  });
});
