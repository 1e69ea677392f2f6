import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StoredJob } from '../../src/core/stored-job.js';
import { BLOCK_EVENTS, EventWindow, type LiveEvent } from '../../src/events/event-window.js';
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

describe('Memory held per finished job (issue 14)', () => {
  it('a full event window holds its sealed blocks in about what they deflate to, not in zlib output buffers of 16 KiB each', () => {
    const events = 100 * BLOCK_EVENTS;
    const before = arrayBufferBytes();
    const window = new EventWindow(events);
    for (let n = 0; n < events; n++) window.push(anEvent(n));
    const perEvent = (arrayBufferBytes() - before) / events;
    assert.equal(window.at(0)?.id, hexId(0));
    // Each event's 16-byte id, plus its share of its block's deflated text (a few bytes: the events repeat); a
    // block that kept zlib's whole output buffer would add 16 KiB / 128 events = 128 bytes per event.
    assert.ok(perEvent < 48, `${perEvent.toFixed(1)} bytes of buffers per event`);
  });

  it('the JSON of finished batches kept for the last batches read holds each in about what it deflates to', () => {
    const source = { readJob: () => undefined, isPending: () => false };
    const time = '2026-11-24T08:00:00.000Z';
    const entry = (b: number) => ({
      batch: { name: `b${b}`, type: 'batch', created: time }, counts: {}, started: null, updated: time,
      jobs: [StoredJob.of(source, { name: `b${b}-0`, batchName: `b${b}`, index: 0, status: 'Succeeded', attemptCount: 1, created: time, started: time, ended: time, updated: time })!],
    }) as unknown as BatchEntry;
    const entries = Array.from({ length: 16 }, (_, b) => entry(b));
    const before = arrayBufferBytes();
    const cache = new FinishedBatchJson(() => true);
    for (const [b, kept] of entries.entries()) cache.jobsJson(kept, () => JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ name: `b${b}-${i}`, status: 'Succeeded', updated: time }))));
    const perBatch = (arrayBufferBytes() - before) / entries.length;
    assert.match(cache.jobsJson(entries[0]!, () => 'built again')!, /^\[\{"name":"b0-0"/);
    assert.ok(perBatch < 2048, `${perBatch.toFixed(0)} bytes of buffers per batch`);
  });

  it('a compact job holds its four times in the object itself, not in an array of heap numbers', () => {
    const source = { readJob: () => undefined, isPending: () => false };
    const fields = { name: 'j', batchName: 'b', index: 0, status: 'Succeeded' as const, attemptCount: 1, created: '2026-11-24T08:00:00.000Z', started: '2026-11-24T08:00:01.250Z', ended: '2026-11-24T08:00:02.500Z', updated: '2026-11-24T08:00:02.501Z' };
    const jobs: Array<StoredJob | undefined> = new Array<StoredJob | undefined>(20_000).fill(undefined);
    const before = heapBytes();
    for (let i = 0; i < jobs.length; i++) jobs[i] = StoredJob.of(source, fields);
    const perJob = (heapBytes() - before) / jobs.length;
    assert.deepEqual([jobs[0]!.created, jobs[0]!.started, jobs[0]!.ended, jobs[0]!.updated], [fields.created, fields.started, fields.ended, fields.updated]);
    // Its 15 fields and header are 144 bytes; an array of the four times would add 80 (the array and its doubles).
    assert.ok(perJob < 176, `${perJob.toFixed(0)} bytes of heap per compact job`);
  });
});
