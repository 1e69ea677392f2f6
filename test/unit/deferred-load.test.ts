import assert from 'node:assert/strict';
import type { BatchRecord, FinishedJobs, JobRecord } from '../../src/core/model.js';
import { DeferredLoad, PART } from '../../src/scheduler/deferred-load.js';
import type { BatchEntry } from '../../src/scheduler/state-index.js';
import { emptyCounts } from '../../src/core/status.js';

const created = '2026-01-01T00:00:00.000Z';

function aJobOf(batchName: string, index: number): JobRecord {
  return {
    name: `${batchName}-${index}`, batchName, index, status: 'Succeeded', created, started: created, ended: created, updated: created, message: null, failed: 0, attempts: [],
    spec: { timeLimitSeconds: 60, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: {}, command: ['true'], args: [] },
  };
}

/** Finished jobs in (batch name, position) order, as the store reads them; `reads` counts the parts read. */
function finishedJobs(sizes: Record<string, number>, deferred: string[]) {
  const all = Object.keys(sizes).sort().flatMap((name) => Array.from({ length: sizes[name]! }, (_, i) => aJobOf(name, i)));
  const after = (job: JobRecord, cursor: { batchName: string; index: number }) =>
    job.batchName > cursor.batchName || (job.batchName === cursor.batchName && job.index > cursor.index);
  const source = {
    reads: 0,
    releases: 0,
    batchNames: new Set(deferred),
    jobCount: all.filter((job) => deferred.includes(job.batchName)).length,
    next(cursor: { batchName: string; index: number } | undefined, limit: number) {
      source.reads++;
      return all.filter((job) => !cursor || after(job, cursor)).slice(0, limit);
    },
    ofBatch: (batchName: string, afterIndex: number) => all.filter((job) => job.batchName === batchName && job.index > afterIndex),
    batchOf: (jobName: string) => all.find((job) => job.name === jobName)?.batchName,
    release: () => {
      source.releases++;
    },
  } satisfies FinishedJobs & { reads: number; releases: number };
  return source;
}

function anEntry(name: string): BatchEntry {
  const batch: BatchRecord = { name, type: 'batch', created };
  return { batch, jobs: [], counts: emptyCounts(), started: null, updated: created };
}

function aLoad(sizes: Record<string, number>, deferred: string[]) {
  const finished = finishedJobs(sizes, deferred);
  const loaded: string[] = [];
  const load = new DeferredLoad(finished, {
    appendJobs: (entry, jobs) => entry.jobs.push(...jobs),
    loaded: (entry) => loaded.push(entry.batch.name),
  });
  const entries = new Map(deferred.map((name) => [name, anEntry(name)]));
  for (const entry of entries.values()) load.add(entry);
  return { load, entries, loaded, finished };
}

const failOnError = (error: unknown) => assert.fail(String(error));
const oneTurn = () => new Promise((resolve) => setImmediate(resolve));
const positions = (entry: BatchEntry) => entry.jobs.map((job) => job.index);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('DeferredLoad', () => {
  it('when run in the background, reads a part per turn, gives each batch its jobs once in order, and tells each once', async () => {
    // "b" is loaded at the start (it has a live job): its finished jobs, read with the others', are skipped.
    const { load, entries, loaded, finished } = aLoad({ a: 2.5 * PART, b: 10, c: 1.7 * PART, d: 0 }, ['a', 'c', 'd']);
    assert.equal(load.unloadedJobs, 4.2 * PART);
    let doneCalls = 0;
    load.start({ onError: failOnError, onDone: () => doneCalls++ });
    await oneTurn();
    assert.equal(finished.reads, 1);
    assert.deepEqual(positions(entries.get('a')!), range(PART));
    assert.deepEqual(loaded, []);
    assert.equal(load.unloadedJobs, 3.2 * PART);
    while (!load.done) await oneTurn();
    assert.deepEqual(positions(entries.get('a')!), range(2.5 * PART));
    assert.deepEqual(positions(entries.get('c')!), range(1.7 * PART));
    assert.deepEqual(entries.get('d')!.jobs, []);
    assert.deepEqual([...loaded].sort(), ['a', 'c', 'd']);
    assert.equal(load.unloadedJobs, 0);
    await oneTurn();
    await oneTurn();
    assert.equal(doneCalls, 1);
  });

  it('when a batch is read between two background parts, it is completed at once, and the background neither repeats nor loses a job', async () => {
    const { load, entries, loaded, finished } = aLoad({ a: 1.5 * PART, c: 3 * PART }, ['a', 'c']);
    load.start({ onError: failOnError, onDone: () => {} });
    await oneTurn();
    load.ensure(entries.get('a')!);
    assert.deepEqual(positions(entries.get('a')!), range(1.5 * PART));
    assert.deepEqual(loaded, ['a']);
    await oneTurn();
    // The next part had the last half part of "a" (already there) and half a part of "c".
    assert.deepEqual(positions(entries.get('c')!), range(0.5 * PART));
    load.ensure(entries.get('c')!);
    assert.deepEqual(positions(entries.get('c')!), range(3 * PART));
    assert.deepEqual(loaded, ['a', 'c']);
    assert.ok(load.done);
    assert.equal(load.unloadedJobs, 0);
    assert.equal(finished.releases, 1, 'what reading held goes once all is read');
  });

  it('when a job is looked up by name, its batch is read, and only its batch', () => {
    const { load, entries, loaded, finished } = aLoad({ a: 3, c: 4 }, ['a', 'c']);
    load.ensureJob('c-2');
    assert.deepEqual(positions(entries.get('c')!), range(4));
    assert.deepEqual(entries.get('a')!.jobs, []);
    assert.deepEqual(loaded, ['c']);
    load.ensureJob('no-such-job');
    assert.deepEqual(loaded, ['c']);
    assert.equal(load.unloadedJobs, 3);
    assert.equal(finished.releases, 0, 'nothing goes while a batch is left to read');
  });

  it('when everything is asked for, reads all that is left, each batch told once, and nothing after', async () => {
    const { load, entries, loaded } = aLoad({ a: 4.5 * PART, c: 1 }, ['a', 'c']);
    load.ensureAll();
    assert.deepEqual(positions(entries.get('a')!), range(4.5 * PART));
    assert.deepEqual(positions(entries.get('c')!), [0]);
    assert.deepEqual(loaded, ['a', 'c']);
    load.start({ onError: failOnError, onDone: () => {} });
    load.ensure(entries.get('a')!);
    await oneTurn();
    assert.deepEqual(loaded, ['a', 'c']);
  });

  it('when reading a part fails in the background, the error is reported once and reads still load what they need', async () => {
    const { load, entries, finished } = aLoad({ a: 5 }, ['a']);
    const errors: unknown[] = [];
    finished.next = () => {
      throw new Error('disk I/O error');
    };
    load.start({ onError: (error) => errors.push(error), onDone: () => {} });
    await oneTurn();
    await oneTurn();
    assert.equal(errors.length, 1);
    load.ensure(entries.get('a')!);
    assert.deepEqual(positions(entries.get('a')!), range(5));
  });
});
