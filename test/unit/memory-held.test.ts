import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StoredJob } from '../../src/core/stored-job.js';
import type { JobStatusView } from '../../src/core/view.js';
import { BLOCK_EVENTS, EventWindow, type LiveEvent } from '../../src/events/event-window.js';
import { silentLogger } from '../../src/logger.js';
import { noObserver } from '../../src/metrics.js';
import { Notifier } from '../../src/notifications/notifier.js';
import { MemoryOutbox } from '../../src/notifications/outbox.js';
import { FinishedBatchJson } from '../../src/scheduler/finished-batch-json.js';
import type { BatchEntry } from '../../src/scheduler/state-index.js';

// A full GC on demand, without starting mocha with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes held in ArrayBuffers (Buffers) after a full GC. */
function arrayBufferBytes(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}

/** Bytes of V8's heap in use after a full GC. */
function heapBytes(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const hexId = (n: number) => n.toString(16).padStart(32, '0');
const anEvent = (n: number): LiveEvent => {
  const data = JSON.stringify({ batchName: 'batch-compute-20261124-abcdef', name: `batch-compute-20261124-abcdef-${n}`, status: 'Succeeded', updated: '2026-11-24T08:00:00.000Z' });
  return { id: hexId(n), type: 'Update', batch: 'batch-compute-20261124-abcdef', job: `batch-compute-20261124-abcdef-${n}`, frame: `id: ${hexId(n)}\nevent: Update\ndata: ${data}\n\n` };
};

describe('Memory held per finished job (issue 14)', function () {
  // Tens of thousands of jobs, so that what is measured per job is not lost in what else the heap holds.
  this.timeout(30_000);

  it('a full event window holds its sealed blocks in about what they deflate to, not in zlib output buffers of 16 KiB each', () => {
    const events = 400 * BLOCK_EVENTS;
    const held = () => arrayBufferBytes() + process.memoryUsage().heapUsed;
    // Warmed up first (a window of its own, filled over and over): what V8 makes for code it runs the first times is not the window's memory.
    const warm = new EventWindow(10 * BLOCK_EVENTS);
    for (let n = 0; n < events; n++) warm.push(anEvent(n));
    const window = new EventWindow(events);
    for (let n = 0; n < BLOCK_EVENTS; n++) window.push(anEvent(n));
    const before = held();
    for (let n = BLOCK_EVENTS; n < events + BLOCK_EVENTS; n++) window.push(anEvent(n));
    const perEvent = (held() - before) / events;
    assert.equal(window.at(BLOCK_EVENTS)?.id, hexId(BLOCK_EVENTS));
    // Each event's 16-byte id, plus its share of its block's deflated text (21-41 bytes in all, measured); a
    // block that kept zlib's whole output buffer would add 16 KiB / 128 events = 128 bytes per event.
    assert.ok(perEvent < 80, `${perEvent.toFixed(1)} bytes of heap and buffers per event`);
  });

  it('the JSON of finished batches kept for the last batches read holds each in about what it deflates to', () => {
    const source = { readJob: () => undefined, isPending: () => false };
    const time = '2026-11-24T08:00:00.000Z';
    const entry = (b: number) => ({
      batch: { name: `b${b}`, type: 'batch', created: time }, counts: {}, started: null, updated: time,
      jobs: [StoredJob.of(source, { name: `b${b}-0`, batchName: `b${b}`, index: 0, status: 'Succeeded', attemptCount: 1, created: time, started: time, ended: time, updated: time })!],
    }) as unknown as BatchEntry;
    const entries = Array.from({ length: 16 }, (_, b) => entry(b));
    const texts = entries.map((_, b) => JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ name: `b${b}-${i}`, status: 'Succeeded', updated: time }))));
    // Buffers only: 16 batches' texts are too little to measure in the heap; a kept zlib output buffer is 16 KiB.
    const cache = new FinishedBatchJson(() => true);
    const before = arrayBufferBytes();
    for (const [b, kept] of entries.entries()) cache.jobsJson(kept, () => texts[b]!);
    const perBatch = (arrayBufferBytes() - before) / entries.length;
    assert.match(cache.jobsJson(entries[0]!, () => 'built again')!, /^\[\{"name":"b0-0"/);
    assert.ok(perBatch < 2048, `${perBatch.toFixed(0)} bytes of buffers per batch`);
  });

  it('a compact job holds its four times in the object itself, and its status and counts in one small integer', () => {
    const source = { readJob: () => undefined, isPending: () => false };
    const fields = { name: 'j', batchName: 'b', index: 0, status: 'Succeeded' as const, attemptCount: 1, created: '2026-11-24T08:00:00.000Z', started: '2026-11-24T08:00:01.250Z', ended: '2026-11-24T08:00:02.500Z', updated: '2026-11-24T08:00:02.501Z' };
    const jobs: Array<StoredJob | undefined> = new Array<StoredJob | undefined>(100_000).fill(undefined);
    // Warmed up first: what V8 makes for code it runs the first times is not the jobs' memory.
    for (let i = 0; i < 1000; i++) StoredJob.of(source, fields);
    const before = heapBytes();
    for (let i = 0; i < jobs.length; i++) jobs[i] = StoredJob.of(source, fields);
    const perJob = (heapBytes() - before) / jobs.length;
    assert.deepEqual([jobs[0]!.created, jobs[0]!.started, jobs[0]!.ended, jobs[0]!.updated], [fields.created, fields.started, fields.ended, fields.updated]);
    // Its 11 fields and header are 112 bytes (144 with its status, counts and source each a field of its own); an
    // array of the four times would add 80 (the array and its doubles).
    assert.ok(perJob < 128, `${perJob.toFixed(0)} bytes of heap per compact job`);
  });

  it('the webhook notifier remembers the transition told for each job with a key shared by the jobs told the same', async () => {
    // An outbox that keeps nothing: what is measured is what the notifier itself holds per job.
    class DiscardingOutbox extends MemoryOutbox {
      override append(): void {}
    }
    const notifier = new Notifier({
      url: 'http://127.0.0.1:9/', outbox: new DiscardingOutbox(0), logger: silentLogger(), observer: noObserver,
      baseDelayMs: 10, maxDelayMs: 10, timeoutMs: 1000, concurrency: 1, bound: { maxEvents: 10, maxBytes: 100_000 }, jobsPerEvent: 10,
    });
    const time = '2026-11-24T08:00:00.000Z';
    const batch = { name: 'b', batchName: 'b', batchType: 'batch', created: time, started: time, ended: null, updated: time, status: 'Running' } as const;
    // Enough jobs that what else the heap holds by then (a busy machine's late sweeping) is a few bytes a job.
    const jobs: JobStatusView[] = Array.from({ length: 41_000 }, (_, i) => ({
      name: `b-${i}`, created: time, started: time, ended: time, updated: time, status: 'Succeeded', failed: 0,
      podStatuses: [{ name: `b-${i}-0`, created: time, startTime: time, endTime: time, exitCode: 0, reason: null, replicaStatus: { status: 'Succeeded' }, restartCount: 0, podIndex: 0 }],
    }));
    try {
      // Warmed up first: what V8 makes for code it runs the first times is not the jobs' memory.
      for (const job of jobs.slice(0, 1000)) notifier.jobChanged(batch, job);
      await new Promise((resolve) => setImmediate(resolve));
      const before = heapBytes();
      for (const job of jobs.slice(1000)) notifier.jobChanged(batch, job);
      await new Promise((resolve) => setImmediate(resolve));
      const perJob = (heapBytes() - before) / (jobs.length - 1000);
      // A Map entry is about 40 bytes a job; a key of its own would add 40 more ("Succeeded#1#Succeeded").
      assert.ok(perJob < 64, `${perJob.toFixed(0)} bytes of heap per job told`);
    } finally {
      await notifier.close();
    }
  });
});
