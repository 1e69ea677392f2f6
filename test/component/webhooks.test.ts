import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { BatchStatusView, JobStatusView } from '../../src/core/view.js';
import { aJob, startTestService, type TestService, waitFor } from './harness.js';
import { deduplicated, type Received, type Receiver, startReceiver, transitionOf, transitionsOf } from './webhook-receiver.js';

/** Each event id must name one transition: the same id never carries two different ones. */
function assertOneTransitionPerId(requests: Received[]): void {
  const byId = new Map<string, string>();
  for (const { id, body } of requests) {
    const what = body.event === 'Update' ? `Update ${(body.jobStatuses ?? []).map((job) => `${job.name} ${transitionOf(job)}`).join()}` : `${body.event} ${body.name}`;
    const before = byId.get(id);
    assert.ok(before === undefined || before === what, `id ${id} was used for "${before}" and for "${what}"`);
    byId.set(id, what);
  }
}

describe('webhook notifications', function () {
  this.timeout(120_000);
  let t: TestService | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await receiver?.close();
    receiver = undefined;
  });

  const fast = { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.02', JOB_SCHEDULER_WEBHOOK_MAX_RETRY_SECONDS: '0.2' };
  const batchStatus = (name: string) => async () => (await t!.request.get(`/api/v1/batches/${name}`)).body as BatchStatusView;

  it('when the receiver fails at first and the service restarts midway, every change of a 100-job batch arrives, once per event id, signed', async () => {
    const secret = 'webhook-secret';
    const hook = await startReceiver(3);
    receiver = hook;
    const options = {
      component: { notifications: { webhook: hook.url } },
      env: { JOB_SCHEDULER_WEBHOOK_SECRET: secret, ...fast, JOB_SCHEDULER_MAX_RUNNING: '8' },
    };
    t = await startTestService(options);
    const jobs = Array.from({ length: 100 }, (_, i) => aJob(i % 10 === 0 ? { exitCodes: [1, 0], sleeps: [0.1, 0.1] } : { sleeps: [0.1] }, { backoffLimit: 2 }));
    const batch = (await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).expect(200)).body as BatchStatusView;
    const names = batch.jobStatuses!.map((job) => job.name);
    await waitFor(batchStatus(batch.name), (b) => b.jobStatuses!.filter((j) => j.status === 'Succeeded').length >= 30);
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    t = undefined;
    const receivedWhileUp = hook.received.length;

    t = await startTestService({ ...options, dataDir });
    const done = await waitFor(batchStatus(batch.name), (b) => b.status === 'Succeeded', 60_000);
    const finals = new Map(done.jobStatuses!.map((job) => [job.name, transitionOf(job)]));
    await waitFor(async () => names.every((name) => transitionsOf(hook.received, name).includes(finals.get(name)!)), Boolean, 30_000);

    assert.ok(hook.attempts() >= hook.received.length + 3, 'the first three attempts were refused and retried');
    assert.ok(receivedWhileUp > 0 && hook.received.length > receivedWhileUp, 'events arrived before and after the restart');
    for (const event of hook.received) {
      const expected = `sha256=${createHmac('sha256', secret).update(`${event.timestamp}.${event.raw}`).digest('hex')}`;
      assert.equal(event.signature, expected);
    }
    assertOneTransitionPerId(hook.requests);
    const creates = deduplicated(hook.received).filter((event) => event.body.event === 'Create');
    assert.equal(creates.length, 1);
    assert.deepEqual(creates[0]!.body.jobStatuses!.map((job) => job.status), names.map(() => 'Waiting'));
    for (const name of names) {
      const statuses = transitionsOf(hook.received, name).map((key) => key.split('#')[0]);
      assert.ok(statuses.includes('Running'), `${name} was seen Running`);
      assert.ok(statuses.includes('Succeeded'), `${name} was seen Succeeded`);
    }
    for (const name of names.filter((_, i) => i % 10 === 0)) {
      // Its second attempt, or a third when the restart ended the second before it ran (Running#<attempts>).
      assert.ok(transitionsOf(hook.received, name).some((key) => /^Running#([2-9]|\d{2,})#/.test(key)), `${name}'s later attempt was told`);
    }
  });

  it('when a job is retried after a failed first attempt, each of its transitions arrives under an id of its own', async () => {
    const hook = await startReceiver();
    receiver = hook;
    t = await startTestService({ component: { notifications: { webhook: hook.url } }, env: fast });
    const job = (await t.request.post('/api/v1/jobs').send(aJob({ exitCodes: [1, 0] }, { backoffLimit: 1 })).expect(200)).body as JobStatusView;
    await waitFor(async () => transitionsOf(hook.received, job.name), (seen) => seen.some((key) => key.startsWith('Succeeded')));

    assertOneTransitionPerId(hook.requests);
    const told = transitionsOf(hook.received, job.name);
    assert.equal(new Set(told).size, told.length, `a transition told twice under different ids: ${told.join(', ')}`);
    const retry = told.indexOf('Active#1#Failed');
    assert.ok(retry > told.indexOf('Active#1#Pending') && told.indexOf('Active#1#Pending') >= 0, `the retry after the failed attempt was told: ${told.join(', ')}`);
    assert.ok(told.indexOf('Running#2#Running') > retry, `the second attempt was told after the retry: ${told.join(', ')}`);
  });

  it('when the service restarts while a job runs, no Create is sent again and what changed at start arrives under new ids', async () => {
    const hook = await startReceiver();
    receiver = hook;
    const options = { component: { notifications: { webhook: hook.url } }, env: fast };
    t = await startTestService(options);
    const job = (await t.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 }, { backoffLimit: 1 })).expect(200)).body as JobStatusView;
    await waitFor(async () => transitionsOf(hook.received, job.name), (seen) => seen.includes('Running#1#Running'));
    const idsBefore = new Set(hook.received.map((event) => event.id));
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    t = await startTestService({ ...options, dataDir });
    await waitFor(async () => transitionsOf(hook.received, job.name), (seen) => seen.includes('Running#2#Running'), 30_000);

    assert.equal(hook.requests.filter((event) => event.body.event === 'Create').length, 1, 'one Create, never repeated');
    assertOneTransitionPerId(hook.requests);
    const after = hook.received.filter((event) => !idsBefore.has(event.id));
    const interrupted = after.flatMap((event) => event.body.jobStatuses ?? []).find((view) => view.podStatuses.length === 1 && view.podStatuses[0]!.replicaStatus.status !== 'Running');
    assert.ok(interrupted, `the attempt found ended at start was told under a new id: ${transitionsOf(hook.received, job.name).join(', ')}`);
  });

  it('when the receiver refuses an event with 413, it is set aside (listed, counted, not retried) and later events of every batch arrive', async () => {
    const hook = await startReceiver();
    receiver = hook;
    hook.answerWith((event) => (event.body.event === 'Create' && event.body.batchId === 'refused' ? 413 : 204));
    t = await startTestService({ component: { notifications: { webhook: hook.url } }, env: fast });
    const refused = (await t.request.post('/api/v1/batches').send({ batchId: 'refused', jobScheduleDescriptions: [aJob({})] }).expect(200)).body as BatchStatusView;
    const other = (await t.request.post('/api/v1/batches').send({ batchId: 'other', jobScheduleDescriptions: [aJob({})] }).expect(200)).body as BatchStatusView;
    const refusedJob = refused.jobStatuses![0]!.name;
    const otherJob = other.jobStatuses![0]!.name;
    await waitFor(async () => [refusedJob, otherJob].map((name) => transitionsOf(hook.received, name)), (seen) => seen.every((keys) => keys.some((key) => key.startsWith('Succeeded'))));

    const creates = hook.requests.filter((event) => event.body.event === 'Create' && event.body.batchId === 'refused');
    assert.equal(creates.length, 1, 'a permanent refusal is not retried');
    const letters = (await t.request.get('/api/v1/notifications/dead-letters').expect(200)).body as Array<Record<string, unknown>>;
    assert.equal(letters.length, 1);
    assert.deepEqual({ ...letters[0], deadLettered: undefined, bytes: undefined }, {
      id: creates[0]!.id, event: 'Create', batchName: refused.name, jobs: 1, responseStatus: 413, deadLettered: undefined, bytes: undefined,
    });
    assert.equal(letters[0]!.bytes, Buffer.byteLength(creates[0]!.raw));
    const metrics = (await t.request.get('/metrics').expect(200)).text;
    assert.match(metrics, /job_scheduler_webhook_dead_letters_total 1\b/);
  });

  it('when a token is configured, the dead letters need it, and a limit out of range is refused', async () => {
    const hook = await startReceiver();
    receiver = hook;
    t = await startTestService({ component: { notifications: { webhook: hook.url } }, env: { JOB_SCHEDULER_API_TOKEN: 'admin-token' } });
    await t.request.get('/api/v1/notifications/dead-letters').expect(401);
    const auth = { Authorization: 'Bearer admin-token' };
    assert.deepEqual((await t.request.get('/api/v1/notifications/dead-letters?limit=5').set(auth).expect(200)).body, []);
    const refused = await t.request.get('/api/v1/notifications/dead-letters?limit=1001').set(auth).expect(400);
    assert.equal(refused.body.reason, 'BadRequest');
  });

  it('when the receiver holds one batch\'s events, the other batches\' events arrive meanwhile, each batch in order despite retries', async () => {
    const hook = await startReceiver();
    receiver = hook;
    let release: () => void = () => {};
    const held = new Promise<number>((resolve) => (release = () => resolve(204)));
    hook.answerWith((event, index) => (event.body.batchId === 'slow' ? held : index % 3 === 0 ? 500 : 204));
    t = await startTestService({ component: { notifications: { webhook: hook.url } }, env: { ...fast, JOB_SCHEDULER_WEBHOOK_TIMEOUT_SECONDS: '600' } });
    const slow = (await t.request.post('/api/v1/batches').send({ batchId: 'slow', jobScheduleDescriptions: [aJob({})] }).expect(200)).body as BatchStatusView;
    const others = [];
    for (let i = 0; i < 3; i++) others.push((await t.request.post('/api/v1/batches').send({ batchId: `quick-${i}`, jobScheduleDescriptions: [aJob({}), aJob({})] }).expect(200)).body as BatchStatusView);
    const quickJobs = others.flatMap((batch) => batch.jobStatuses!.map((job) => job.name));
    await waitFor(async () => quickJobs.map((name) => transitionsOf(hook.received, name)), (seen) => seen.every((keys) => keys.some((key) => key.startsWith('Succeeded'))), 30_000);
    assert.equal(hook.received.filter((event) => event.body.batchId === 'slow').length, 0, 'the held batch is still held');
    assert.ok(hook.requests.some((event) => event.answered === 500), 'some deliveries were retried');

    release();
    const slowJob = slow.jobStatuses![0]!.name;
    await waitFor(async () => transitionsOf(hook.received, slowJob), (keys) => keys.some((key) => key.startsWith('Succeeded')));
    const rank = (key: string) => ['Waiting', 'Active', 'Running', 'Succeeded'].indexOf(key.split('#')[0]!) * 10 + ['-', 'Pending', 'Running', 'Succeeded'].indexOf(key.split('#')[2]!);
    for (const name of [...quickJobs, slowJob]) {
      const told = transitionsOf(hook.received, name);
      assert.deepEqual(told, [...told].sort((a, b) => rank(a) - rank(b)), `${name}'s transitions arrived in order`);
    }
    for (const batch of [slow, ...others]) {
      const events = deduplicated(hook.received).filter((event) => event.body.name === batch.name).map((event) => event.body.event);
      assert.equal(events[0], 'Create', `${batch.name}'s Create came first`);
    }
  });

  it('when the receiver is dead, requests are still answered and the events, a delete included, wait in the outbox across a restart until it is back', async () => {
    let hook = await startReceiver(1_000_000);
    receiver = hook;
    t = await startTestService({ component: { notifications: { webhook: hook.url } }, env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.01', JOB_SCHEDULER_WEBHOOK_MAX_RETRY_SECONDS: '0.05' } });
    const created = (await t.request.post('/api/v1/jobs').send(aJob({})).expect(200)).body as JobStatusView;
    await waitFor(async () => (await t!.request.get(`/api/v1/jobs/${created.name}`)).body as JobStatusView, (job) => job.status === 'Succeeded');
    await t.request.delete(`/api/v1/jobs/${created.name}`).expect(200);
    assert.equal(hook.received.length, 0);
    const refused = hook.attempts();
    await hook.close();
    hook = await startReceiver(0);
    receiver = hook;
    await t.close({ keepData: true });
    const dataDir = t.dataDir;
    t = await startTestService({ component: { notifications: { webhook: hook.url } }, env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.01' }, dataDir });
    await waitFor(async () => hook.received.map((event) => event.body.event), (events) => events.includes('Delete'));
    assert.ok(refused > 1);
    assert.equal(hook.received[0]!.body.event, 'Create');
    assert.equal(hook.received.at(-1)!.body.event, 'Delete');
    assert.equal(hook.received.at(-1)!.body.name, created.name.split('-').slice(0, 4).join('-'));
  });
});
