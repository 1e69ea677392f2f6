import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { JobRecord, NewBatch } from '../../src/core/model.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { SCHEMA } from '../../src/store/store-file.js';

const created = '2026-01-01T00:00:00.000Z';
const spec = { timeLimitSeconds: 60, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: {}, command: ['true'], args: [] };
/** A batch the store writes in several transactions (more than 250 jobs), each job with a payload of its own. */
function aLargeBatch(jobs: number): NewBatch {
  const name = 'batch-compute-20260101000000-pages001';
  return {
    batch: { name, type: 'batch', created },
    jobs: Array.from({ length: jobs }, (_, index) => {
      const record: JobRecord = { name: `${name}-${String(index).padStart(8, '0')}`, batchName: name, index, status: 'Waiting', created, started: null, ended: null, updated: created, message: null, failed: 0, attempts: [], spec };
      return { record, payload: String(index).padEnd(1024, 'x') };
    }),
  };
}

function pageSizeOf(file: string): number {
  const reader = new Database(file, { readonly: true });
  try {
    return reader.pragma('page_size', { simple: true }) as number;
  } finally {
    reader.close();
  }
}

describe('SqliteStore page size', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-pages-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when the store is created, its pages are 16 KiB (a row holding a 1 KiB payload fills a quarter of a 4 KiB page)', () => {
    const file = path.join(dir, 'scheduler.db');
    new SqliteStore({ file }).close();
    assert.equal(pageSizeOf(file), 16384);
  });

  it('when a store made with 4 KiB pages is opened, it keeps them, takes a large batch, and a reopen has every job and payload', async () => {
    const file = path.join(dir, 'scheduler.db');
    const old = new Database(file);
    old.exec(SCHEMA);
    old.close();
    const batch = aLargeBatch(600);
    const store = new SqliteStore({ file });
    try {
      await store.insertBatch(batch);
    } finally {
      store.close();
    }
    assert.equal(pageSizeOf(file), 4096);
    const reopened = new SqliteStore({ file });
    try {
      const { jobs } = reopened.load();
      assert.equal(jobs.length, 600);
      assert.equal(reopened.readPayload(batch.jobs[599]!.record.name), batch.jobs[599]!.payload);
    } finally {
      reopened.close();
    }
  });
});
