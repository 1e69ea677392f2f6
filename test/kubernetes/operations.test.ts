import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { JobStatusView } from '../../src/core/view.js';
import { waitFor } from '../component/harness.js';
import type { FakeApiServer } from './fake/server.js';
import { ClusterActor, type KubeTestService, NAMESPACE, startFakeApiServer, startKubeTestService } from './harness.js';

/** Operating features run on the Kubernetes runtime as on the local one. */
describe('operating the service on the Kubernetes runtime', function () {
  this.timeout(30_000);
  let fake: FakeApiServer;
  let t: KubeTestService | undefined;
  let receiver: Server | undefined;
  beforeEach(async () => {
    fake = await startFakeApiServer();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    receiver?.closeAllConnections();
    await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
    receiver = undefined;
    await fake.close();
  });

  it('when a job runs, the webhook is told of its creation and each change, and a restart tells the same ids again', async () => {
    const events: Array<{ id: string; event: string; statuses: string[] }> = [];
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as { event: string; jobStatuses: JobStatusView[] };
        events.push({ id: String(req.headers['x-job-scheduler-event-id']), event: body.event, statuses: body.jobStatuses.map((job) => job.status) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    const options = { component: { notifications: { webhook: url } }, env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.01' } };
    t = await startKubeTestService(fake, options);
    const actor = new ClusterActor(fake);
    const { body } = await t.request.post('/api/v1/jobs').send({}).expect(200);
    await waitFor(async () => fake.get('jobs', NAMESPACE, body.name), Boolean);
    await actor.attempt(body.name, 0);
    await actor.complete(body.name);
    await waitFor(async () => events.map((e) => e.statuses.at(-1)), (last) => last.includes('Succeeded'));
    assert.equal(events[0]!.event, 'Create');
    assert.ok(events.some((e) => e.event === 'Update' && e.statuses[0] === 'Running'));
    const idsBefore = new Set(events.map((e) => e.id));
    await t.close();
    t = await startKubeTestService(fake, options);
    await waitFor(async () => events.length, (n) => n > idsBefore.size);
    const retold = events.slice(idsBefore.size);
    assert.ok(retold.every((e) => idsBefore.has(e.id)), 'what is told again after a restart carries the ids it had');
  });

  it('when finished jobs pass the history age, their batch records go and the cluster collects the rest', async () => {
    t = await startKubeTestService(fake, { env: { JOB_SCHEDULER_HISTORY_MAX_AGE_SECONDS: '0', JOB_SCHEDULER_HISTORY_KEEP: '0', JOB_SCHEDULER_HISTORY_CHECK_SECONDS: '0.1' } });
    const actor = new ClusterActor(fake);
    const { body } = await t.request.post('/api/v1/jobs').send({ payload: 'p' }).expect(200);
    await waitFor(async () => fake.get('jobs', NAMESPACE, body.name), Boolean);
    await actor.attempt(body.name, 0);
    await actor.complete(body.name);
    await waitFor(async () => (await t!.request.get(`/api/v1/jobs/${body.name}`)).status, (status) => status === 404);
    await waitFor(async () => ['configmaps', 'secrets', 'jobs', 'pods'].flatMap((resource) => fake.list(resource, NAMESPACE)), (left) => left.length === 0);
  });

  it('when the API server refuses a write, the metrics count the retry', async () => {
    t = await startKubeTestService(fake);
    fake.failNext({ verb: 'create', resource: 'configmaps', status: 500 });
    await t.request.post('/api/v1/jobs').send({}).expect(200);
    const text = (await t.request.get('/metrics').expect(200)).text;
    assert.match(text, /job_scheduler_kubernetes_requests_total\{outcome="retried",code="500"\} 1/);
    assert.match(text, /job_scheduler_kubernetes_requests_total\{outcome="ok",code="none"\} [1-9]/);
  });
});
