import assert from 'node:assert/strict';
import type { JobStatusView } from '../../src/core/view.js';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import { type ClusterActor, fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';

interface Timeline { complete: boolean; dropped: number; timeline: Array<{ time: string; status: string; reason: string | null; attempt: number | null; eventId?: string }> }

describe('job timeline (Kubernetes runtime, fake API server)', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let actor: ClusterActor;
  let t: KubeTestService | undefined;
  const cluster = fakeClusterFrame((each) => ({ fake, actor } = each));

  const jobUntil = (name: string, done: (job: JobStatusView) => boolean) => waitFor(async () => (await t!.request.get(`/api/v1/jobs/${name}`).expect(200)).body as JobStatusView, done);
  const jobCreated = (name: string) => waitFor(async () => fake.get('jobs', NAMESPACE, name), Boolean);
  const timelineOf = async (name: string) => (await t!.request.get(`/api/v1/jobs/${name}/timeline`).expect(200)).body as Timeline;
  const steps = (timeline: Timeline) => timeline.timeline.map((entry) => `${entry.status}/${entry.reason}/${entry.attempt}`);

  it('when a job fails once and succeeds on its retry, the timeline derived from its pods and Job shows each attempt, and says it may be incomplete', async () => {
    t = await cluster.start();
    const name = (await t.request.post('/api/v1/jobs').send({ backoffLimit: 1 }).expect(200)).body.name as string;
    await jobCreated(name);
    await actor.attempt(name, 1);
    await actor.jobStatus(name, { ...(await actor.job(name)).status, failed: 1, active: 0 });
    await jobUntil(name, (job) => job.podStatuses[0]?.replicaStatus.status === 'Failed');
    await actor.attempt(name, 0);
    await actor.complete(name);
    await jobUntil(name, (job) => job.status === 'Succeeded');

    const timeline = await timelineOf(name);
    assert.equal(timeline.complete, false);
    assert.deepEqual(steps(timeline), [
      'Waiting/Accepted/null', 'Active/AttemptCreated/0', 'Running/Started/0', 'Active/Error/0',
      'Active/Retrying/1', 'Running/Started/1', 'Succeeded/Completed/1',
    ]);
    // The cluster keeps whole seconds; the acceptance is the service's own time, to the millisecond.
    const seconds = timeline.timeline.map((entry) => entry.time.slice(0, 19));
    assert.deepEqual(seconds, [...seconds].sort(), 'oldest first');
    assert.equal(timeline.timeline.some((entry) => entry.eventId !== undefined), false, 'derived entries carry no event id');
  });

  it('when a running job is stopped, its timeline ends with the stop asked and the job stopped, and a restarted service derives the same', async () => {
    t = await cluster.start();
    const name = (await t.request.post('/api/v1/jobs').send({}).expect(200)).body.name as string;
    await jobCreated(name);
    await actor.running(await actor.startPod(name));
    await jobUntil(name, (job) => job.status === 'Running');
    await t.request.post(`/api/v1/jobs/${name}/stop`).expect(200);
    await jobUntil(name, (job) => job.status === 'Stopping');
    await actor.suspend(name);
    await jobUntil(name, (job) => job.status === 'Stopped');

    const before = await timelineOf(name);
    assert.deepEqual(steps(before), ['Waiting/Accepted/null', 'Active/AttemptCreated/0', 'Running/Started/0', 'Stopping/StopRequested/null', 'Stopped/Stopped/0']);
    await t.close();
    t = await cluster.start();
    await jobUntil(name, (job) => job.status === 'Stopped');
    assert.deepEqual(steps(await timelineOf(name)), steps(before));
  });

  it('when the job is unknown, answers 404', async () => {
    t = await cluster.start();
    await t.request.get('/api/v1/jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb/timeline').expect(404);
  });
});
