import assert from 'node:assert/strict';
import type { BatchStatusView, JobStatusView } from '../../src/core/view.js';
import { PermanentRefusal, refusal, retryAfterMs, retryDelayMs, TransientFailure } from '../../src/notifications/delivery.js';
import { createEvents, type EventHeader, eventId, isInitial, transitionKey, updateEvent } from '../../src/notifications/events.js';
import { PendingQueue } from '../../src/notifications/pending-queue.js';

const BATCH = 'batch-compute-20261123120000-abcdefgh';

function aJobView(name: string, status: JobStatusView['status'], replicaStatuses: string[] = []): JobStatusView {
  return {
    name,
    batchName: BATCH,
    created: '2026-11-23T12:00:00Z',
    started: null,
    ended: null,
    updated: '2026-11-23T12:00:00Z',
    status,
    failed: 0,
    podStatuses: replicaStatuses.map((replica, index) => ({
      name: `${name}-${index}`, created: null, startTime: null, endTime: null, exitCode: null, reason: null, replicaStatus: { status: replica }, restartCount: 0, podIndex: index,
    })),
  };
}

function aBatchView(jobs: JobStatusView[]): BatchStatusView {
  return { name: BATCH, batchName: BATCH, batchType: 'batch', created: '2026-11-23T12:00:00Z', started: null, ended: null, updated: '2026-11-23T12:00:00Z', status: 'Waiting', jobStatuses: jobs };
}

describe('webhook event ids', () => {
  const transitions: Array<[string, JobStatusView, string]> = [
    ['accepted', aJobView('j', 'Waiting'), 'Waiting#0#-'],
    ['first attempt pending', aJobView('j', 'Active', ['Pending']), 'Active#1#Pending'],
    ['first attempt running', aJobView('j', 'Running', ['Running']), 'Running#1#Running'],
    ['first attempt failed, the job still running', aJobView('j', 'Running', ['Failed']), 'Running#1#Failed'],
    ['waiting for the retry', aJobView('j', 'Active', ['Failed']), 'Active#1#Failed'],
    ['second attempt pending', aJobView('j', 'Active', ['Failed', 'Pending']), 'Active#2#Pending'],
    ['succeeded', aJobView('j', 'Succeeded', ['Failed', 'Succeeded']), 'Succeeded#2#Succeeded'],
  ];
  for (const [what, job, key] of transitions) {
    it(`when a job is ${what}, its transition key is ${key}`, () => {
      assert.equal(transitionKey(job), key);
    });
  }

  it('when two transitions differ, their Update ids differ; the same transition found again gets the same id', () => {
    const batch = aBatchView([]);
    const ids = transitions.map(([, job]) => updateEvent(batch, job).id);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(updateEvent(batch, structuredClone(transitions[4]![1])).id, ids[4]);
  });

  it('when a transition is told, its id is the first 32 hex digits of SHA-256 over batch, type, job and key, as every earlier version made it', () => {
    const job = aJobView(`${BATCH}-00000001`, 'Running', ['Running']);
    assert.equal(updateEvent(aBatchView([]), job).id, '5d14dce63aaad70b66102aa3913a8898');
  });

  it('when a batch is told with or without its jobs, an Update body is the batch\'s state without its jobs, then the event, then the one job', () => {
    const job = aJobView(`${BATCH}-00000001`, 'Running', ['Running']);
    const { jobStatuses: _jobs, ...status } = { ...aBatchView([job]), batchId: 'nightly "run"', message: 'a ✓ message', labels: { team: 'x' } };
    const expected = JSON.stringify({ ...status, event: 'Update', jobStatuses: [job] });
    for (const batch of [status, { ...status, jobStatuses: [job, aJobView('other', 'Waiting')] }, { ...status, jobStatuses: undefined }]) {
      const event = updateEvent(batch, job);
      assert.equal(event.body, expected);
      assert.equal(event.bytes, Buffer.byteLength(expected));
      assert.equal(event.jobs, 1);
    }
  });

  it('when a record carries a restart generation, the same status in a later generation is another transition', () => {
    const job = aJobView('j', 'Active', ['Pending']);
    assert.notEqual(transitionKey({ ...job, generation: 1 }), transitionKey(job));
    assert.equal(transitionKey({ ...job, generation: 0 }), transitionKey(job));
  });

  it('when a job is as accepted it is initial; any attempt or other status is not', () => {
    assert.deepEqual(transitions.map(([, job]) => isInitial(job)), [true, false, false, false, false, false, false]);
  });

  it('when a batch has 10,000 jobs, its Create comes in parts of at most jobsPerEvent jobs, in order, each with its own stable id', () => {
    const jobs = Array.from({ length: 10_000 }, (_, i) => aJobView(`${BATCH}-${String(i).padStart(8, '0')}`, 'Waiting'));
    const parts = createEvents(aBatchView(jobs), 100);
    assert.equal(parts.length, 100);
    assert.equal(parts[0]!.id, eventId(BATCH, 'Create'));
    assert.equal(new Set(parts.map((part) => part.id)).size, 100);
    assert.deepEqual(parts.flatMap((part) => (JSON.parse(part.body) as BatchStatusView).jobStatuses!.map((job) => job.name)), jobs.map((job) => job.name));
    assert.ok(parts.every((part) => part.jobs === 100 && part.type === 'Create' && part.bytes === Buffer.byteLength(part.body) && part.bytes < 64 * 1024));
    const later = createEvents(aBatchView(jobs.map((job) => ({ ...job, status: 'Running' as const }))), 100);
    assert.deepEqual(later.map((part) => part.id), parts.map((part) => part.id));
  });
});

describe('webhook delivery outcomes', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  for (const status of [301, 302, 307, 308, 400, 401, 403, 404, 409, 410, 413, 422]) {
    it(`when the receiver answers ${status}, the refusal is permanent`, () => {
      assert.ok(refusal(status, null, now) instanceof PermanentRefusal);
    });
  }
  for (const status of [408, 429, 500, 502, 503, 504]) {
    it(`when the receiver answers ${status}, the failure is transient`, () => {
      assert.ok(refusal(status, null, now) instanceof TransientFailure);
    });
  }

  it('when a 429 or 503 names Retry-After (seconds or a date), the failure carries it; other statuses ignore it', () => {
    assert.equal((refusal(429, '7', now) as TransientFailure).retryAfterMs, 7000);
    assert.equal((refusal(503, 'Mon, 23 Nov 2026 12:00:30 GMT', now) as TransientFailure).retryAfterMs, 30_000);
    assert.equal((refusal(500, '7', now) as TransientFailure).retryAfterMs, undefined);
  });

  it('when Retry-After is absent, unreadable, past or huge, it is ignored, zero or capped at an hour', () => {
    assert.deepEqual([null, '', 'soon', 'Mon, 23 Nov 2026 11:00:00 GMT', '999999999'].map((value) => retryAfterMs(value, now)), [undefined, undefined, undefined, 0, 3_600_000]);
  });

  it('when deliveries keep failing, the delay doubles up to the maximum, and a longer Retry-After wins', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    assert.deepEqual([1, 2, 3, 4, 5, 60].map((failures) => retryDelayMs(failures, policy)), [100, 200, 400, 800, 1000, 1000]);
    assert.equal(retryDelayMs(1, policy, 5000), 5000);
    assert.equal(retryDelayMs(4, policy, 10), 800);
  });
});

describe('webhook pending queue', () => {
  const event = (batch: string, id: string, job?: string, bytes = 10): EventHeader => ({ id, type: job ? 'Update' : 'Create', batch, jobs: 1, bytes, ...(job ? { job } : {}) });
  const big = { maxEvents: 1000, maxBytes: 1_000_000 };

  it('when batches have events, each batch gives one at a time, in order, and batches take turns', () => {
    const queue = new PendingQueue(big);
    queue.add([event('a', 'a1'), event('a', 'a2'), event('a', 'a3'), event('b', 'b1'), event('c', 'c1'), event('c', 'c2')]);
    assert.deepEqual([queue.next(0)?.id, queue.next(0)?.id, queue.next(0)?.id, queue.next(0)?.id], ['a1', 'b1', 'c1', undefined]);
    queue.settle('c1');
    queue.settle('a1');
    assert.deepEqual([queue.next(0)?.id, queue.next(0)?.id, queue.next(0)?.id], ['c2', 'a2', undefined]);
    queue.settle('b1');
    assert.equal(queue.size, 3);
  });

  it('when a delivery fails, its batch waits for the delay and then sends the same event again, while other batches go on', () => {
    const queue = new PendingQueue(big);
    queue.add([event('a', 'a1'), event('a', 'a2'), event('b', 'b1')]);
    const delays: number[] = [];
    const delay = (failures: number) => (delays.push(failures), 100 * failures);
    assert.equal(queue.next(0)?.id, 'a1');
    queue.retry('a1', 0, delay);
    assert.equal(queue.nextDue(), 100);
    assert.equal(queue.next(50)?.id, 'b1');
    assert.equal(queue.next(50), undefined);
    assert.equal(queue.next(100)?.id, 'a1');
    queue.retry('a1', 100, delay);
    assert.equal(queue.next(299), undefined);
    assert.equal(queue.next(300)?.id, 'a1');
    queue.settle('a1');
    assert.equal(queue.next(300)?.id, 'a2');
    queue.retry('a2', 300, delay);
    assert.deepEqual(delays, [1, 2, 1]);
  });

  it('when the bound is passed, transitions superseded by a newer one of their job go first, then the oldest events', () => {
    const queue = new PendingQueue({ maxEvents: 3, maxBytes: 1_000_000 });
    assert.deepEqual(queue.add([event('a', 'create-a'), event('a', 'j1-1', 'j1'), event('a', 'j1-2', 'j1')]), []);
    assert.deepEqual(queue.add([event('a', 'j1-3', 'j1')]), [{ id: 'j1-1', reason: 'superseded' }]);
    assert.deepEqual(queue.add([event('b', 'j2-1', 'j2')]), [{ id: 'j1-2', reason: 'superseded' }]);
    assert.deepEqual(queue.add([event('b', 'j3-1', 'j3')]), [{ id: 'create-a', reason: 'overflow' }]);
    assert.equal(queue.size, 3);
    assert.deepEqual([queue.next(0)?.id, queue.next(0)?.id], ['j1-3', 'j2-1']);
  });

  it('when the bytes bound is passed, events go the same way, and an event in flight is never dropped', () => {
    const queue = new PendingQueue({ maxEvents: 1000, maxBytes: 100 });
    queue.add([event('a', 'a1', undefined, 60)]);
    assert.equal(queue.next(0)?.id, 'a1');
    assert.deepEqual(queue.add([event('a', 'a2', undefined, 30), event('b', 'b1', undefined, 30)]), [{ id: 'a2', reason: 'overflow' }]);
    assert.equal(queue.bytes, 90);
    queue.settle('a1');
    assert.deepEqual([queue.next(0)?.id, queue.size], ['b1', 1]);
  });

  it('when an event is added twice, it is kept once', () => {
    const queue = new PendingQueue(big);
    queue.add([event('a', 'a1'), event('a', 'a1')]);
    assert.equal(queue.size, 1);
  });
});
