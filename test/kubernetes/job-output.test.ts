import assert from 'node:assert/strict';
import http from 'node:http';
import type { V1Pod } from '@kubernetes/client-node';
import type { JobStatusView } from '../../src/core/view.js';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import { type ClusterActor, fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';

const KEPT_MARK = '[job-scheduler: earlier output dropped; the last 64 KiB were kept when the job was stopped]\n';

describe('a job\'s log, payload and settings through the API (Kubernetes runtime)', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let actor: ClusterActor;
  let t: KubeTestService | undefined;
  const cluster = fakeClusterFrame((each) => ({ fake, actor } = each));

  const jobUntil = (name: string, done: (job: JobStatusView) => boolean) => waitFor(async () => (await t!.request.get(`/api/v1/jobs/${name}`).expect(200)).body as JobStatusView, done);
  const jobCreated = (name: string) => waitFor(async () => fake.get('jobs', NAMESPACE, name), Boolean);
  const print = (pod: V1Pod, text: string) => fake.podLogs.write(NAMESPACE, pod.metadata!.name!, text);

  /** A single job whose pod runs, having printed `text`. */
  async function aRunningJob(text: string): Promise<{ name: string; pod: V1Pod }> {
    const name = (await t!.request.post('/api/v1/jobs').send({ payload: 'p' }).expect(200)).body.name as string;
    await jobCreated(name);
    const pod = await actor.startPod(name);
    await actor.running(pod);
    print(pod, text);
    await jobUntil(name, (job) => job.status === 'Running');
    return { name, pod };
  }

  it('when a pod runs, answers its log from pods/log, its last lines with tail, and 404 for no such attempt or a container not started', async () => {
    t = await cluster.start();
    const { name, pod } = await aRunningJob('one\ntwo\nthree\n');
    const log = await t.request.get(`/api/v1/jobs/${name}/logs`).expect(200).expect('content-type', /^text\/plain/);
    assert.equal(log.text, 'one\ntwo\nthree\n');
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs?tail=2&attempt=0`).expect(200)).text, 'two\nthree\n');
    const read = fake.requests.filter((entry) => entry.subresource === 'log' && entry.user === '');
    assert.equal(read.at(-1)!.query.tailLines, '2', 'tail is left to the kubelet');
    assert.equal(read.at(-1)!.name, pod.metadata!.name);
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs?attempt=1`).expect(404)).body.message, `job ${name} has no attempt 1: it has 1 (attempt 0)`);

    const pending = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body.name as string;
    assert.equal((await t.request.get(`/api/v1/jobs/${pending}/logs`).expect(404)).body.reason, 'NotFound');
    await jobCreated(pending);
    await actor.podStatus(await actor.startPod(pending), 'Pending', { waiting: { reason: 'ContainerCreating' } });
    await jobUntil(pending, (job) => job.podStatuses.length === 1);
    const notStarted = await t.request.get(`/api/v1/jobs/${pending}/logs`).expect(404);
    assert.equal(notStarted.body.message, `attempt 0 of job ${pending} has no log yet: it has not started; try again once it runs`);
  });

  it('when a running job is stopped, the tail of its log is kept with the batch and served once the pod is gone; it goes with the batch', async () => {
    t = await cluster.start();
    const { name, pod } = await aRunningJob('working on it\nstill working\n');
    await t.request.post(`/api/v1/jobs/${name}/stop`).expect(200);
    const kept = fake.get('configmaps', NAMESPACE, `${name}-log`);
    assert.ok(kept, 'kept before the stop returned');
    assert.equal(kept.metadata.labels['job-scheduler.io/role'], 'log');
    const record = fake.get('configmaps', NAMESPACE, fake.get('jobs', NAMESPACE, name).metadata.ownerReferences[0].name);
    assert.deepEqual(kept.metadata.ownerReferences.map((owner: { uid: string }) => owner.uid), [record.metadata.uid]);
    await actor.suspend(name);
    await jobUntil(name, (job) => job.status === 'Stopped');
    assert.equal(fake.get('pods', NAMESPACE, pod.metadata!.name!), undefined, 'the job controller removed the pod');
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs`).expect(200)).text, 'working on it\nstill working\n');
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs?tail=1`).expect(200)).text, 'still working\n');
    // A new instance serves it too (it is kept in the cluster), and the kept log never joins a watched set.
    await t.close();
    t = await cluster.start();
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs`).expect(200)).text, 'working on it\nstill working\n');
    const watched = fake.requests.filter((entry) => entry.resource === 'configmaps' && (entry.verb === 'watch' || entry.verb === 'list'));
    assert.ok(watched.length > 0 && watched.every((entry) => /job-scheduler\.io\/role=(batch|state|key)/.test(entry.query.labelSelector ?? '')));
    await t.request.delete(`/api/v1/jobs/${name}`).expect(200);
    await waitFor(async () => fake.get('configmaps', NAMESPACE, `${name}-log`), (object) => object === undefined);
  });

  it('when a stopped pod printed more than 64 KiB, the newest 64 KiB are kept behind a mark', async () => {
    t = await cluster.start();
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(50)}\n`).join('');
    const { name } = await aRunningJob(lines);
    await t.request.post(`/api/v1/jobs/${name}/stop`).expect(200);
    await actor.suspend(name);
    await jobUntil(name, (job) => job.status === 'Stopped');
    const served = (await t.request.get(`/api/v1/jobs/${name}/logs`).expect(200)).text;
    assert.ok(served.startsWith(KEPT_MARK), served.slice(0, 100));
    assert.equal(Buffer.byteLength(served) - KEPT_MARK.length, 64 * 1024);
    assert.ok(lines.endsWith(served.slice(KEPT_MARK.length)), 'the newest bytes');
  });

  it('when a pod that ended on its own is gone, its log is gone with it (404), as on the cluster', async () => {
    t = await cluster.start();
    const { name, pod } = await aRunningJob('done\n');
    await actor.exited(pod, 0);
    await actor.complete(name);
    await jobUntil(name, (job) => job.status === 'Succeeded');
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs`).expect(200)).text, 'done\n');
    await actor.deletePod(pod.metadata!.name!);
    const gone = await waitFor(() => t!.request.get(`/api/v1/jobs/${name}/logs`), (response) => response.status !== 200);
    assert.equal(gone.status, 404);
    assert.match(gone.body.message, /^the log of attempt 0 of job .* is not kept: the attempt wrote none, or it went with the attempt's pod/);
  });

  it('when following a running pod\'s log, output comes as the pod prints it and the response ends when its container terminates', async () => {
    t = await cluster.start();
    const { name, pod } = await aRunningJob('first\n');
    const { port } = new URL(t.request.get('/').url);
    const chunks: string[] = [];
    const ended = new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: Number(port), path: `/api/v1/jobs/${name}/logs?follow=true` }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => chunks.push(chunk));
        res.on('end', () => resolve(chunks.join('')));
        res.on('error', reject);
      }).on('error', reject);
    });
    await waitFor(async () => chunks.join(''), (text) => text === 'first\n');
    print(pod, 'second\n');
    await waitFor(async () => chunks.join(''), (text) => text === 'first\nsecond\n');
    await actor.exited(pod, 0);
    assert.equal(await ended, 'first\nsecond\n');
  });

  it('answers the payload from the batch\'s Secret and the effective settings from the batch record', async () => {
    t = await cluster.start({ component: { variables: { LEVEL: 'component' } } });
    const batch = (await t.request.post('/api/v1/batches').send({
      defaultRadixJobComponentConfig: { variables: { LEVEL: 'batch' } },
      jobScheduleDescriptions: [{ jobId: 'a', payload: '{"n": 1}', imageTagName: 'v2' }, { payload: 'ünïcode ✓' }],
    }).expect(200)).body;
    const [first, second] = batch.jobStatuses.map((job: { name: string }) => job.name) as [string, string];
    assert.equal((await t.request.get(`/api/v1/jobs/${first}/payload`).expect(200).expect('content-type', /^text\/plain/)).text, '{"n": 1}');
    assert.equal((await t.request.get(`/api/v1/jobs/${second}/payload`).expect(200)).text, 'ünïcode ✓');
    const settings = (await t.request.get(`/api/v1/jobs/${first}/settings`).expect(200)).body;
    assert.equal(settings.jobId, 'a');
    assert.equal(settings.settings.image, 'registry.example.com/compute:1.0');
    assert.equal(settings.settings.imageTagName, 'v2');
    assert.deepEqual(settings.settings.variables, { LEVEL: 'batch' });
    // A new instance reads both back from the cluster.
    await t.close();
    t = await cluster.start();
    assert.equal((await t.request.get(`/api/v1/jobs/${first}/payload`).expect(200)).text, '{"n": 1}');
    assert.deepEqual((await t.request.get(`/api/v1/jobs/${first}/settings`).expect(200)).body, settings);
    await t.request.get('/api/v1/jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb/payload').expect(404);
  });
});
