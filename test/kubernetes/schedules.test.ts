import assert from 'node:assert/strict';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ScheduleConfig } from '../../src/core/schedules.js';
import { scheduleStatesName } from '../../src/runtimes/kubernetes/schedule-state.js';
import { waitFor } from '../component/harness.js';
import { FakeClock } from '../unit/fake-clock.js';
import type { FakeApiServer } from './fake/server.js';
import { ClusterActor, fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';

interface Run {
  name: string;
  status: string;
}

interface ScheduleBody {
  name: string;
  lastTick: string | null;
  lastResult: string | null;
  lastJobName: string | null;
  activeJobs: string[];
}

describe('cron schedules on the Kubernetes runtime', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  const cluster = fakeClusterFrame((each) => ({ fake } = each));
  const start = (schedules: ScheduleConfig[], clock: FakeClock): Promise<KubeTestService> => cluster.start({ component: { schedules }, clock });
  const stop = (t: KubeTestService): Promise<void> => t.close();

  async function runsOf(t: KubeTestService, schedule: string): Promise<Run[]> {
    const { body } = await t.request.get(`/api/v1/jobs?labelSelector=schedule=${schedule}`).expect(200);
    return (body as Run[]).sort((a, b) => a.name.localeCompare(b.name));
  }

  async function handled(t: KubeTestService, name: string, tick: string): Promise<ScheduleBody> {
    return waitFor(async () => ((await t.request.get('/api/v1/schedules').expect(200)).body as ScheduleBody[]).find((entry) => entry.name === name)!, (entry) => entry.lastTick === tick);
  }

  it('when a tick comes, creates one Job for it, named after the tick', async () => {
    const clock = new FakeClock('2026-11-24T09:59:30Z');
    const t = await start([{ name: 'hourly', schedule: '0 * * * *' }], clock);
    clock.advance(30_000);
    const state = await handled(t, 'hourly', '2026-11-24T10:00:00.000Z');
    const runs = await runsOf(t, 'hourly');
    assert.deepEqual(runs.map((run) => run.name), [state.lastJobName]);
    await waitFor(async () => fake.get('jobs', NAMESPACE, runs[0]!.name), Boolean);
    assert.equal(fake.list('jobs', NAMESPACE).length, 1);
  });

  it('when the service was down over several ticks, a new instance runs only the latest, and keeps the state in a ConfigMap', async () => {
    const clock = new FakeClock('2026-11-24T09:59:30Z');
    const schedules = [{ name: 'hourly', schedule: '0 * * * *' }];
    const first = await start(schedules, clock);
    clock.advance(30_000);
    await handled(first, 'hourly', '2026-11-24T10:00:00.000Z');
    await stop(first);
    assert.ok(fake.get('configmaps', NAMESPACE, scheduleStatesName('compute')), 'the schedules\' state is kept in the cluster');

    clock.advanceTo('2026-11-24T13:29:30Z');
    const second = await start(schedules, clock);
    await handled(second, 'hourly', '2026-11-24T13:00:00.000Z');
    const runs = await runsOf(second, 'hourly');
    assert.deepEqual(runs.map((run) => run.name.slice(14, 28)), ['20261124100000', '20261124130000']);
    await waitFor(async () => fake.list('jobs', NAMESPACE).length, (count) => count === 2);
  });

  it('when an earlier run has not ended, Forbid skips the tick', async () => {
    const clock = new FakeClock('2026-11-24T10:00:30Z');
    const t = await start([{ name: 'forbid', schedule: '* * * * *', concurrencyPolicy: 'Forbid' }], clock);
    clock.advance(30_000);
    await handled(t, 'forbid', '2026-11-24T10:01:00.000Z');
    clock.advance(60_000);
    const state = await handled(t, 'forbid', '2026-11-24T10:02:00.000Z');
    assert.equal(state.lastResult, 'Skipped');
    assert.equal((await runsOf(t, 'forbid')).length, 1);
  });

  it('when an earlier run has not ended, Replace stops it and starts the new one', async () => {
    const clock = new FakeClock('2026-11-24T10:00:30Z');
    const t = await start([{ name: 'replace', schedule: '* * * * *', concurrencyPolicy: 'Replace' }], clock);
    const actor = new ClusterActor(fake);
    clock.advance(30_000);
    const [first] = await waitFor(() => runsOf(t, 'replace'), (runs) => runs.length === 1);
    await waitFor(async () => fake.get('jobs', NAMESPACE, first!.name), Boolean);
    await actor.startPod(first!.name);

    clock.advance(60_000);
    await handled(t, 'replace', '2026-11-24T10:02:00.000Z');
    const runs = await runsOf(t, 'replace');
    assert.equal(runs.length, 2);
    assert.equal(runs[0]!.name, first!.name);
    assert.ok(['Stopping', 'Stopped'].includes(runs[0]!.status), `the earlier run is ${runs[0]!.status}`);
    const job = await waitFor(async () => fake.get('jobs', NAMESPACE, first!.name) as { spec?: { suspend?: boolean } } | undefined, (found) => found?.spec?.suspend === true);
    assert.equal(job?.spec?.suspend, true);
  });

  it('when the service died after a tick\'s batch record was created but before the schedule\'s state was, a new instance creates no second Job', async () => {
    const clock = new FakeClock('2026-11-24T09:59:30Z');
    const schedules = [{ name: 'hourly', schedule: '0 * * * *' }];
    const first = await start(schedules, clock);
    await stop(first);
    const core = fake.kubeConfig(NAMESPACE, ClusterActor.TOKEN).makeApiClient(CoreV1Api);
    const name = scheduleStatesName('compute');
    const before = (await core.readNamespacedConfigMap({ name, namespace: NAMESPACE })).data!;

    const second = await start(schedules, clock);
    clock.advance(30_000);
    const [run] = await waitFor(() => runsOf(second, 'hourly'), (runs) => runs.length === 1);
    await handled(second, 'hourly', '2026-11-24T10:00:00.000Z');
    await waitFor(async () => fake.get('jobs', NAMESPACE, run!.name), Boolean);
    await stop(second);
    // The state as it was before the tick: what a kill between the two writes leaves.
    const current = await core.readNamespacedConfigMap({ name, namespace: NAMESPACE });
    await core.replaceNamespacedConfigMap({ name, namespace: NAMESPACE, body: { ...current, data: before } });

    const third = await start(schedules, clock);
    const state = await handled(third, 'hourly', '2026-11-24T10:00:00.000Z');
    assert.equal(state.lastJobName, run!.name);
    assert.deepEqual((await runsOf(third, 'hourly')).map((job) => job.name), [run!.name]);
    assert.equal(fake.list('jobs', NAMESPACE).length, 1);
  });
});
