import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Attempt, JobRecord, NewBatch } from '../../src/core/model.js';
import { fullRecord } from '../../src/core/stored-job.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const created = '2026-01-01T00:00:00.000Z';

function aRecord(batchName: string, index: number): JobRecord {
  return {
    name: `${batchName}-job${index}`, batchName, index, jobId: `id-${index}`, status: 'Waiting', created, started: null, ended: null, updated: created,
    message: null, failed: 0, attempts: [],
    spec: { timeLimitSeconds: 60, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: {}, command: ['true'], args: [], labels: { part: String(index % 3) } },
  };
}

function ended(job: JobRecord): JobRecord {
  const at = new Date(Date.parse(created) + 1000 + job.index).toISOString();
  const attempt: Attempt = { name: `${job.name}-0`, created: at, startTime: at, endTime: at, exitCode: 0, reason: null, replicaStatus: 'Succeeded' };
  return { ...job, status: 'Succeeded', started: at, ended: at, updated: at, attempts: [attempt] };
}

describe('finished jobs read a part at a time from a real SQLite store', function () {
  this.timeout(60_000);
  let dir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-finished-'));
    store = new SqliteStore({ file: path.join(dir, 'jobs.db') });
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when batches of every size finished (and one still runs), the parts give each finished batch\'s jobs once, in order, as a whole load does', async () => {
    // Sizes around the part (2,000): a batch across two parts, one ending a part exactly, small ones between.
    const sizes: Record<string, number> = { 'batch-c': 2500, 'batch-a': 3, 'batch-e': 1997, 'batch-b': 1, 'batch-d': 4 };
    const saved: JobRecord[] = [];
    for (const [name, size] of Object.entries(sizes)) {
      const records = Array.from({ length: size }, (_, i) => aRecord(name, i));
      const batch: NewBatch = { batch: { name, type: 'batch', created }, jobs: records.map((record) => ({ record, payload: 'p' })) };
      await store.insertBatch(batch);
      // "batch-d" keeps one job running: it is read whole at the start, not later.
      for (const record of records) saved.push(name === 'batch-d' && record.index === 2 ? { ...record, status: 'Running', started: created } : ended(record));
    }
    for (const job of saved) store.saveJob(job);
    assert.ok(store.flush());
    assert.deepEqual(store.load().jobs.map(fullRecord), saved, 'a whole load');

    const { jobs, finished } = store.load({ deferFinished: true });
    assert.ok(finished);
    assert.deepEqual([...finished.batchNames].sort(), ['batch-a', 'batch-b', 'batch-c', 'batch-e']);
    assert.equal(finished.jobCount, 2500 + 3 + 1997 + 1);
    assert.deepEqual(jobs.map(fullRecord), saved.filter((job) => job.batchName === 'batch-d'));
    const read: JobRecord[] = [];
    let parts = 0;
    for (let part = finished.next(undefined, 2000); part.length > 0; part = finished.next(part.at(-1), 2000)) {
      parts++;
      read.push(...part);
    }
    assert.ok(parts >= 3, `${parts} parts`);
    const byBatch = (name: string, list: JobRecord[]) => list.filter((job) => job.batchName === name).map(fullRecord);
    for (const name of finished.batchNames) assert.deepEqual(byBatch(name, read), byBatch(name, saved), name);
    assert.deepEqual(finished.ofBatch('batch-c', 1999).map((job) => job.index), Array.from({ length: 500 }, (_, i) => 2000 + i));
    assert.equal(finished.batchOf('batch-e-job7'), 'batch-e');
    assert.equal(finished.batchOf('no-such-job'), undefined);
  });
});
