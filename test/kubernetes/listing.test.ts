import assert from 'node:assert/strict';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import { type ClusterActor, fakeClusterFrame, type KubeTestService, NAMESPACE } from './harness.js';

interface Listed { name: string; status: string; labels?: Record<string, string>; jobCounts?: Record<string, number>; jobStatuses?: Listed[] }

describe('labels, filters and pages on the Kubernetes runtime (fake API server)', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let actor: ClusterActor;
  let t: KubeTestService | undefined;
  const cluster = fakeClusterFrame((each) => ({ fake, actor } = each));

  const names = async (path: string) => ((await t!.request.get(path).expect(200)).body as Listed[]).map((item) => item.name);

  it('when labelled jobs run, filters find them by label and status, and labels cost no write of their own', async () => {
    t = await cluster.start({ env: { JOB_SCHEDULER_MAX_RUNNING: '40' } });
    const writesBefore = fake.writes().length;
    const batch = (await t.request.post('/api/v1/batches').send({
      labels: { team: 'vision' },
      jobScheduleDescriptions: Array.from({ length: 40 }, (_, i) => ({ jobId: `j${i}`, labels: { parity: i % 2 ? 'odd' : 'even' } })),
    }).expect(200)).body as Listed & { jobStatuses: Listed[] };
    await waitFor(async () => fake.list('jobs', NAMESPACE).length, (n) => n === 40);
    // The Jobs, one payload Secret, the record and its acceptance, one state object: labels ride in the record.
    const writes = fake.writes().slice(writesBefore).length;
    assert.ok(writes <= 40 * 1.1, `${writes} writes for 40 jobs`);
    const jobs = batch.jobStatuses.map((job) => job.name);
    await actor.attempt(jobs[3]!, 0);
    await actor.complete(jobs[3]!);
    await waitFor(() => t!.request.get(`/api/v1/batches/${batch.name}/jobs/${jobs[3]}`), (r) => r.body.status === 'Succeeded');
    const single = (await t.request.post('/api/v1/jobs').send({ labels: { team: 'vision', kind: 'single' } }).expect(200)).body as Listed;
    const read = async (query: string) => ((await t!.request.get(`/api/v1/batches/${batch.name}?${query}`).expect(200)).body as Listed).jobStatuses?.map((job) => job.name);
    assert.deepEqual(await read('status=Succeeded'), [jobs[3]]);
    assert.deepEqual(await read('labelSelector=parity%3Dodd&limit=3'), [jobs[1], jobs[3], jobs[5]]);
    assert.deepEqual(await read('jobId=j7&labelSelector=team%3Dvision'), [jobs[7]]);
    assert.deepEqual(await names('/api/v1/jobs?labelSelector=kind%3Dsingle'), [single.name]);
    assert.deepEqual(await names('/api/v1/batches?labelSelector=team%3Dvision'), [batch.name]);
    const counts = (await t.request.get(`/api/v1/batches/${batch.name}?jobStatuses=false`).expect(200)).body as Listed;
    assert.equal(counts.jobCounts!.Succeeded, 1);
    assert.equal(Object.values(counts.jobCounts!).reduce((sum, n) => sum + n, 0), 40);
  });

  it('when the service restarts, labels are read back from the batch record, filters work, and a page resumes where it stopped', async () => {
    t = await cluster.start({ env: { JOB_SCHEDULER_MAX_RUNNING: '2' } });
    const batch = (await t.request.post('/api/v1/batches').send({
      batchId: 'nightly',
      labels: { team: 'vision' },
      jobScheduleDescriptions: Array.from({ length: 9 }, (_, i) => ({ labels: { parity: i % 2 ? 'odd' : 'even' } })),
    }).expect(200)).body as Listed & { jobStatuses: Listed[] };
    const jobs = batch.jobStatuses.map((job) => job.name);
    const first = await t.request.get(`/api/v1/batches/${batch.name}?labelSelector=parity%3Deven&limit=2`).expect(200);
    assert.deepEqual(first.body.jobStatuses.map((job: Listed) => job.name), [jobs[0], jobs[2]]);
    await t.close();
    t = undefined;

    t = await cluster.start({ env: { JOB_SCHEDULER_MAX_RUNNING: '2' } });
    const read = (await t.request.get(`/api/v1/batches/${batch.name}`).expect(200)).body as Listed & { jobStatuses: Listed[] };
    assert.deepEqual(read.labels, { team: 'vision' });
    assert.deepEqual(read.jobStatuses.map((job) => job.labels), batch.jobStatuses.map((job) => job.labels));
    assert.deepEqual(await names('/api/v1/batches?batchId=nightly&labelSelector=team%3Dvision'), [batch.name]);
    const rest = await t.request.get(`/api/v1/batches/${batch.name}?labelSelector=parity%3Deven&limit=2&continue=${first.headers['x-continue']}`).expect(200);
    assert.deepEqual(rest.body.jobStatuses.map((job: Listed) => job.name), [jobs[4], jobs[6]]);
  });
});
