import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { BLOCK_EVENTS, EventWindow, type LiveEvent } from '../../src/events/event-window.js';
import { LiveEvents } from '../../src/events/live-events.js';
import type { BatchStatusView, JobStatusView } from '../../src/core/view.js';
import { SseClient } from '../component/sse-client.js';
import { FakeTimers } from './fake-timers.js';

const anEvent = (id: string): LiveEvent => ({ id, type: 'Update', batch: 'b', job: 'j', frame: `id: ${id}\n\n` });

describe('EventWindow', () => {
  it('when more events come than it holds, the oldest go, and their ids are no longer found', () => {
    const window = new EventWindow(3);
    for (const id of ['a', 'b', 'c', 'd']) window.push(anEvent(id));
    assert.equal(window.positionOf('a'), undefined);
    assert.equal(window.positionOf('b'), 1);
    assert.equal(window.oldest, 1);
    assert.equal(window.head, 4);
    assert.equal(window.newest, 'd');
    assert.equal(window.at(0), undefined);
    assert.deepEqual([1, 2, 3].map((position) => window.at(position)!.id), ['b', 'c', 'd']);
  });

  it('when its older events are kept in compressed blocks, answers them and finds their ids as before', () => {
    const hexId = (n: number) => n.toString(16).padStart(32, '0');
    const window = new EventWindow(5 * BLOCK_EVENTS);
    const pushed = Array.from({ length: 6 * BLOCK_EVENTS + 7 }, (_, n) => ({ ...anEvent(hexId(n)), job: `job-${n}`, frame: `id: ${hexId(n)}\ndata: {"n":${n}}\n\n` }));
    for (const event of pushed) window.push(event);
    const oldest = pushed.length - 5 * BLOCK_EVENTS;
    assert.equal(window.oldest, oldest);
    assert.equal(window.at(oldest - 1), undefined);
    assert.equal(window.positionOf(hexId(oldest - 1)), undefined);
    for (const position of [oldest, oldest + 1, 2 * BLOCK_EVENTS, 3 * BLOCK_EVENTS - 1, 6 * BLOCK_EVENTS, pushed.length - 1]) {
      assert.deepEqual(window.at(position), pushed[position]);
      assert.equal(window.positionOf(hexId(position)), position);
    }
    assert.deepEqual(Array.from({ length: 5 * BLOCK_EVENTS }, (_, i) => window.at(oldest + i)), pushed.slice(oldest));
  });

  it('when sealed, events come back the same: ids of any form, with and without a job, frames with any text', () => {
    const window = new EventWindow(4 * BLOCK_EVENTS);
    const pushed: LiveEvent[] = Array.from({ length: 2 * BLOCK_EVENTS }, (_, n) => {
      const id = n % 3 === 0 ? `not-hex-${n}` : n.toString(16).padStart(32, '0');
      const event: LiveEvent = { id, type: n % 5 === 0 ? 'Create' : 'Update', batch: `batch-${n % 2}`, frame: `id: ${id}\nevent: x\ndata: {"text":"æøå ✓ 🚀 \\n\\u0000 ${n}"}\n\n${'\n'.repeat(n % 4)}` };
      if (n % 5 !== 0) event.job = `job-${n}`;
      return event;
    });
    for (const event of pushed) window.push(event);
    assert.deepEqual(Array.from({ length: BLOCK_EVENTS }, (_, i) => window.at(i)), pushed.slice(0, BLOCK_EVENTS));
    assert.equal(window.positionOf((4).toString(16).padStart(32, '0')), 4);
  });

  it('when an id is only part of another id kept, does not find it', () => {
    const window = new EventWindow(4 * BLOCK_EVENTS);
    for (let n = 0; n < 2 * BLOCK_EVENTS; n++) window.push(anEvent(`${'ab'.repeat(8)}${n.toString(16).padStart(16, '0')}`));
    assert.equal(window.positionOf(`${'0'.repeat(14)}01${'ab'.repeat(8)}`), undefined);
    assert.equal(window.positionOf(`${'ab'.repeat(8)}${'0'.repeat(15)}1`), 1);
  });

  it('when empty, has no newest event', () => {
    assert.equal(new EventWindow(2).newest, undefined);
  });
});

describe('LiveEvents', () => {
  let server: Server | undefined;
  let client: SseClient | undefined;
  afterEach(async () => {
    client?.drop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  const batch: BatchStatusView = { name: 'b', batchName: 'b', batchType: 'batch', created: '2026-01-01T00:00:00.000Z', started: null, ended: null, updated: '2026-01-01T00:00:00.000Z', status: 'Running' };
  const job = (status: JobStatusView['status'], attempts: number): JobStatusView => ({
    name: 'b-job', created: batch.created, started: null, ended: null, updated: batch.created, status, failed: 0,
    podStatuses: Array.from({ length: attempts }, (_, podIndex) => ({ name: `p${podIndex}`, created: null, startTime: null, endTime: null, exitCode: null, reason: null, replicaStatus: { status: 'Running' }, restartCount: 0, podIndex })),
  });

  async function follow(events: LiveEvents): Promise<SseClient> {
    server = createServer((_req, res) => events.follow(res, {}, undefined));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return SseClient.open(`http://127.0.0.1:${port}`, '/');
  }

  it('when the heartbeat interval passes on the clock, an idle stream gets a heartbeat comment, and not before', async () => {
    const timers = new FakeTimers();
    const events = new LiveEvents({ windowEvents: 10, heartbeatMs: 15_000, maxReaders: 10, timers });
    client = await follow(events);
    events.batchCreated(batch);
    timers.advance(20);
    await client.waitFor((received) => received.length === 1);
    timers.advance(14_959);
    events.jobChanged(batch, job('Active', 1));
    timers.advance(20);
    await client.waitFor((received) => received.length === 2);
    assert.equal(client.events.filter((event) => event.comment === 'heartbeat').length, 0);
    timers.advance(1);
    const deadline = Date.now() + 5000;
    while (!client.events.some((event) => event.comment === 'heartbeat') && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(client.events.filter((event) => event.comment === 'heartbeat').length, 1);
  });

  it('when a job changes without a new transition, or is told twice, no second event is made', async () => {
    const timers = new FakeTimers();
    const events = new LiveEvents({ windowEvents: 10, heartbeatMs: 15_000, maxReaders: 10, timers });
    client = await follow(events);
    events.jobChanged(batch, job('Waiting', 0));
    events.jobChanged(batch, job('Active', 1));
    events.jobChanged(batch, { ...job('Active', 1), updated: '2026-01-01T00:00:01.000Z' });
    events.jobChanged(batch, job('Running', 1));
    timers.advance(20);
    await client.waitFor((received) => received.length >= 2);
    events.batchDeleted(batch, ['b-job']);
    timers.advance(20);
    const received = await client.waitFor((all) => all.some((event) => event.event === 'Delete'));
    assert.deepEqual(received.map((event) => event.event), ['Update', 'Update', 'Delete']);
  });

  it('when as many readers follow as allowed, the next is refused with 429', () => {
    const events = new LiveEvents({ windowEvents: 10, heartbeatMs: 15_000, maxReaders: 0, timers: new FakeTimers() });
    assert.throws(() => events.follow({} as never, {}, undefined), (error: { code?: number }) => error.code === 429);
  });
});
