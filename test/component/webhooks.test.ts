import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { BatchStatusView, JobStatusView } from '../../src/core/view.js';
import { aJob, startTestService, type TestService, waitFor } from './harness.js';

interface Received {
  id: string;
  signature: string;
  timestamp: string;
  raw: string;
  body: BatchStatusView & { event: string };
}

/** A webhook receiver on loopback that refuses its first `failFirst` requests with 500. */
async function startReceiver(failFirst: number): Promise<{ url: string; received: Received[]; attempts: () => number; close(): Promise<void> }> {
  const received: Received[] = [];
  let attempts = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      attempts++;
      if (attempts <= failFirst) {
        res.writeHead(500).end();
        return;
      }
      received.push({
        id: String(req.headers['x-job-scheduler-event-id']),
        signature: String(req.headers['x-job-scheduler-signature']),
        timestamp: String(req.headers['x-job-scheduler-timestamp']),
        raw,
        body: JSON.parse(raw),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/events`,
    received,
    attempts: () => attempts,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('webhook notifications', function () {
  this.timeout(120_000);
  let t: TestService | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('when the receiver fails at first and the service restarts midway, every change of a 100-job batch arrives, once per event id, signed', async () => {
    const secret = 'webhook-secret';
    receiver = await startReceiver(3);
    const options = {
      component: { notifications: { webhook: receiver.url } },
      env: { JOB_SCHEDULER_WEBHOOK_SECRET: secret, JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.02', JOB_SCHEDULER_WEBHOOK_MAX_RETRY_SECONDS: '0.2', JOB_SCHEDULER_MAX_RUNNING: '8' },
    };
    t = await startTestService(options);
    const jobs = Array.from({ length: 100 }, (_, i) => aJob(i % 10 === 0 ? { exitCodes: [1, 0], sleeps: [0.1, 0.1] } : { sleeps: [0.1] }, { backoffLimit: 2 }));
    const batch = (await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).expect(200)).body as BatchStatusView;
    const names = batch.jobStatuses!.map((job) => job.name);
    await waitFor(async () => (await t!.request.get(`/api/v1/batches/${batch.name}`)).body as BatchStatusView, (b) => b.jobStatuses!.filter((j) => j.status === 'Succeeded').length >= 30);
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    t = undefined;
    const receivedWhileUp = receiver.received.length;

    t = await startTestService({ ...options, dataDir });
    const done = await waitFor(async () => (await t!.request.get(`/api/v1/batches/${batch.name}`)).body as BatchStatusView, (b) => b.status === 'Succeeded', 60_000);
    const finalKeys = new Map(done.jobStatuses!.map((job) => [job.name, `${job.status}#${job.podStatuses.length}`]));
    const seen = () => {
      const keys = new Map<string, Set<string>>();
      for (const { body } of receiver.received) {
        for (const job of body.jobStatuses ?? []) {
          const set = keys.get(job.name) ?? new Set();
          set.add(`${job.status}#${job.podStatuses.length}`);
          keys.set(job.name, set);
        }
      }
      return keys;
    };
    await waitFor(async () => seen(), (keys) => names.every((name) => keys.get(name)?.has(finalKeys.get(name)!)), 30_000);

    assert.ok(receiver.attempts() >= receiver.received.length + 3, 'the first three attempts were refused and retried');
    assert.ok(receivedWhileUp > 0 && receiver.received.length > receivedWhileUp, 'events arrived before and after the restart');
    for (const event of receiver.received) {
      const expected = `sha256=${createHmac('sha256', secret).update(`${event.timestamp}.${event.raw}`).digest('hex')}`;
      assert.equal(event.signature, expected);
    }
    // De-duplicated by id, each job transition is told exactly once.
    const unique = new Map(receiver.received.map((event) => [event.id, event.body]));
    const transitions = new Map<string, string>();
    for (const [id, body] of unique) {
      if (body.event !== 'Update') continue;
      for (const job of body.jobStatuses as JobStatusView[]) {
        const key = `${job.name} ${job.status}#${job.podStatuses.length}`;
        assert.ok(!transitions.has(key), `${key} told under two ids`);
        transitions.set(key, id);
      }
    }
    const creates = [...unique.values()].filter((body) => body.event === 'Create');
    assert.equal(creates.length, 1);
    assert.deepEqual(creates[0]!.jobStatuses!.map((job) => job.status), names.map(() => 'Waiting'));
    for (const name of names) {
      const statuses = [...seen().get(name)!].map((key) => key.split('#')[0]);
      assert.ok(statuses.includes('Running'), `${name} was seen Running`);
      assert.ok(statuses.includes('Succeeded'), `${name} was seen Succeeded`);
    }
    const retried = names.filter((_, i) => i % 10 === 0);
    for (const name of retried) assert.ok([...seen().get(name)!].some((key) => key.startsWith('Running#2')), `${name}'s second attempt was told`);
    assert.equal(unique.get(transitions.get(`${names[0]} ${finalKeys.get(names[0]!)}`)!)!.batchType, 'batch');
  });

  it('when the receiver is dead, requests are still answered and the events, a delete included, wait in the outbox across a restart until it is back', async () => {
    receiver = await startReceiver(1_000_000);
    t = await startTestService({ component: { notifications: { webhook: receiver.url } }, env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.01', JOB_SCHEDULER_WEBHOOK_MAX_RETRY_SECONDS: '0.05' } });
    const created = (await t.request.post('/api/v1/jobs').send(aJob({})).expect(200)).body as JobStatusView;
    await waitFor(async () => (await t!.request.get(`/api/v1/jobs/${created.name}`)).body as JobStatusView, (job) => job.status === 'Succeeded');
    await t.request.delete(`/api/v1/jobs/${created.name}`).expect(200);
    assert.equal(receiver.received.length, 0);
    const refused = receiver.attempts();
    await receiver.close();
    receiver = await startReceiver(0);
    await t.close({ keepData: true });
    const dataDir = t.dataDir;
    t = await startTestService({ component: { notifications: { webhook: receiver.url } }, env: { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.01' }, dataDir });
    await waitFor(async () => receiver.received.map((event) => event.body.event), (events) => events.includes('Delete'));
    assert.ok(refused > 1);
    assert.deepEqual(receiver.received.map((event) => event.body.event)[0], 'Create');
    assert.equal(receiver.received.at(-1)!.body.event, 'Delete');
    assert.equal(receiver.received.at(-1)!.body.name, created.name.split('-').slice(0, 4).join('-'));
  });
});
