import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { BatchStatusView, JobStatusView } from '../../src/core/view.js';
import { silentLogger } from '../../src/logger.js';
import { noObserver } from '../../src/metrics.js';
import type { OutboxEvent } from '../../src/notifications/events.js';
import { Notifier } from '../../src/notifications/notifier.js';
import { MemoryOutbox } from '../../src/notifications/outbox.js';
import { SqliteOutbox } from '../../src/notifications/sqlite-outbox.js';
import { aJob, startTestService, type TestService, waitFor } from './harness.js';
import { type Receiver, startReceiver, transitionsOf } from './webhook-receiver.js';

/** What the outbox holds now, read from its file by a connection of the test's own. */
function outbox(dataDir: string): { count: number; bytes: number } {
  const db = new Database(path.join(dataDir, 'notifications.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT COUNT(*) AS count, COALESCE(SUM(LENGTH(body)), 0) AS bytes FROM outbox').get() as { count: number; bytes: number };
    return row;
  } finally {
    db.close();
  }
}

/** The outbox's size on disk: the database file and its write-ahead log. */
function fileSize(dataDir: string): number {
  const file = path.join(dataDir, 'notifications.db');
  return [file, `${file}-wal`].reduce((sum, name) => sum + (existsSync(name) ? statSync(name).size : 0), 0);
}

describe('webhook outbox bound and space', function () {
  this.timeout(120_000);
  let t: TestService | undefined;
  let receiver: Receiver | undefined;
  let sampler: NodeJS.Timeout | undefined;
  afterEach(async () => {
    clearInterval(sampler);
    await t?.close();
    t = undefined;
    await receiver?.close();
    receiver = undefined;
  });

  const fast = { JOB_SCHEDULER_WEBHOOK_RETRY_SECONDS: '0.02', JOB_SCHEDULER_WEBHOOK_MAX_RETRY_SECONDS: '0.1' };
  const batchStatus = (name: string) => async () => (await t!.request.get(`/api/v1/batches/${name}`)).body as BatchStatusView;

  it('when the receiver is dead, the outbox stays within its bound (superseded transitions dropped first, then the oldest) and each job is last told in its newest state', async () => {
    const hook = await startReceiver();
    receiver = hook;
    hook.answerWith(() => 500);
    t = await startTestService({ component: { notifications: { webhook: hook.url } }, env: { ...fast, JOB_SCHEDULER_WEBHOOK_OUTBOX_MAX_EVENTS: '30', JOB_SCHEDULER_MAX_RUNNING: '4' } });
    const dataDir = t.dataDir;
    let most = 0;
    sampler = setInterval(() => (most = Math.max(most, outbox(dataDir).count)), 10);
    const names: string[] = [];
    for (const size of [12, 30]) {
      const batch = (await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: size }, () => aJob({})) }).expect(200)).body as BatchStatusView;
      names.push(...batch.jobStatuses!.map((job) => job.name));
      await waitFor(batchStatus(batch.name), (b) => b.status === 'Succeeded', 60_000);
    }
    clearInterval(sampler);
    const held = outbox(dataDir).count;
    assert.ok(held <= 30 && most <= 30, `the outbox held ${held} events (at most ${most}); its bound is 30`);
    const metrics = (await t.request.get('/metrics').expect(200)).text;
    assert.match(metrics, /job_scheduler_webhook_events_dropped_total\{reason="superseded"\} [1-9]/);
    assert.match(metrics, /job_scheduler_webhook_events_dropped_total\{reason="overflow"\} [1-9]/);

    hook.answerWith(() => 204);
    await waitFor(async () => outbox(dataDir).count, (count) => count === 0);
    const told = names.map((name) => transitionsOf(hook.received, name)).filter((keys) => keys.length > 0);
    assert.ok(told.length > 0, 'the jobs whose events were kept were told');
    for (const keys of told) assert.equal(keys.at(-1), 'Succeeded#1#Succeeded');
  });

  it('when delivery resumes after the receiver was dead, delivered events leave the file and it gives their space back', async () => {
    const hook = await startReceiver();
    receiver = hook;
    hook.answerWith(() => 503);
    t = await startTestService({ component: { notifications: { webhook: hook.url } }, env: { ...fast, JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const dataDir = t.dataDir;
    const blocker = (await t.request.post('/api/v1/jobs').send(aJob({ sleeps: [120] })).expect(200)).body as JobStatusView;
    await waitFor(async () => (await t!.request.get(`/api/v1/jobs/${blocker.name}`)).body.status as string, (status) => status === 'Running');
    const waiting = (await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 2000 }, () => aJob({})) }).expect(200)).body as BatchStatusView;
    const held = await waitFor(async () => outbox(dataDir), (now) => now.bytes > 300_000);
    const peak = fileSize(dataDir);

    hook.answerWith(() => 204);
    await waitFor(async () => outbox(dataDir).count, (count) => count === 0);
    const size = await waitFor(async () => fileSize(dataDir), (now) => now <= peak - held.bytes / 2);
    assert.ok(size < peak, `the file went from ${peak} to ${size} bytes`);
    assert.ok(hook.received.some((event) => event.body.name === waiting.name), 'the waiting batch was told');
  });
});

describe('webhook outbox faults and upgrades', function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-outbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when a notifications.db of the earlier format is opened, its events keep their order and gain their batch, job and size, and the file becomes private', () => {
    const file = path.join(dir, 'notifications.db');
    const old = new Database(file);
    old.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
      CREATE TABLE told (job TEXT PRIMARY KEY, key TEXT NOT NULL);`);
    const bodies = [
      JSON.stringify({ name: 'batch-a', event: 'Create', jobStatuses: [{ name: 'batch-a-1' }, { name: 'batch-a-2' }] }),
      JSON.stringify({ name: 'batch-a', event: 'Update', jobStatuses: [{ name: 'batch-a-2' }] }),
      JSON.stringify({ name: 'batch-a', event: 'Delete', jobStatuses: [] }),
    ];
    bodies.forEach((body, i) => old.prepare('INSERT INTO outbox (id, body) VALUES (?, ?)').run(`id-${i}`, body));
    old.close();

    const outbox = new SqliteOutbox(file, 10);
    try {
      assert.deepEqual(outbox.pending(), [
        { id: 'id-0', type: 'Create', batch: 'batch-a', jobs: 2, bytes: Buffer.byteLength(bodies[0]!) },
        { id: 'id-1', type: 'Update', batch: 'batch-a', job: 'batch-a-2', jobs: 1, bytes: Buffer.byteLength(bodies[1]!) },
        { id: 'id-2', type: 'Delete', batch: 'batch-a', jobs: 0, bytes: Buffer.byteLength(bodies[2]!) },
      ]);
      assert.equal(outbox.body('id-1'), bodies[1]);
    } finally {
      outbox.close();
    }
    const reopened = new Database(file, { readonly: true });
    assert.equal(reopened.pragma('auto_vacuum', { simple: true }), 2, 'incremental auto-vacuum is on');
    reopened.close();
    assert.equal(statSync(file).mode & 0o777, 0o600, 'only the service may read it');
  });

  for (const kind of ['sqlite', 'memory'] as const) {
    it(`when more dead letters come than are kept (${kind}), the oldest go, the newest are listed first, and the outbox no longer holds them`, () => {
      const outbox = kind === 'sqlite' ? new SqliteOutbox(path.join(dir, 'notifications.db'), 2) : new MemoryOutbox(2);
      try {
        const events: OutboxEvent[] = ['e1', 'e2', 'e3'].map((id) => ({ id, type: 'Update', batch: 'batch-a', job: `job-${id}`, jobs: 1, bytes: 2, body: '{}' }));
        outbox.append(events, [], []);
        events.forEach((event, i) => outbox.deadLetter(event, { responseStatus: 410 + i, at: `2026-11-23T12:00:0${i}.000Z` }));
        assert.deepEqual(outbox.pending(), []);
        assert.deepEqual(outbox.deadLetters(10), [
          { id: 'e3', event: 'Update', batchName: 'batch-a', jobName: 'job-e3', jobs: 1, responseStatus: 412, deadLettered: '2026-11-23T12:00:02.000Z', bytes: 2 },
          { id: 'e2', event: 'Update', batchName: 'batch-a', jobName: 'job-e2', jobs: 1, responseStatus: 411, deadLettered: '2026-11-23T12:00:01.000Z', bytes: 2 },
        ]);
        assert.deepEqual(outbox.deadLetters(1).map((letter) => letter.id), ['e3']);
      } finally {
        outbox.close();
      }
    });
  }

  it('when the outbox cannot be written, events are still delivered from memory and written once it can', async () => {
    const hook = await startReceiver();
    let failing = true;
    const written: string[] = [];
    class FlakyOutbox extends MemoryOutbox {
      override append(events: OutboxEvent[], told: Array<[string, string]>, dropped: string[]): void {
        if (failing) throw new Error('SQLITE_FULL: database or disk is full');
        written.push(...events.map((event) => event.id));
        super.append(events, told, dropped);
      }
    }
    const notifier = new Notifier({
      url: hook.url, outbox: new FlakyOutbox(10), logger: silentLogger(), observer: noObserver,
      baseDelayMs: 10, maxDelayMs: 10, timeoutMs: 5000, concurrency: 2, bound: { maxEvents: 100, maxBytes: 1_000_000 }, jobsPerEvent: 10,
    });
    try {
      hook.answerWith(() => 503);
      notifier.opened([]);
      const batch: BatchStatusView = { name: 'batch-a', batchName: 'batch-a', batchType: 'batch', created: '2026-11-23T12:00:00Z', started: null, ended: null, updated: '2026-11-23T12:00:00Z', status: 'Waiting', jobStatuses: [] };
      assert.doesNotThrow(() => notifier.batchCreated(batch));
      await waitFor(async () => hook.requests.length, (count) => count > 0);
      failing = false;
      await waitFor(async () => written, (ids) => ids.length === 1, 5000);
      hook.answerWith(() => 204);
      await waitFor(async () => hook.received.length, (count) => count === 1);
    } finally {
      await notifier.close();
      await hook.close();
    }
  });
});
