import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { JobRecord, NewBatch } from '../../src/core/model.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const created = '2026-01-01T00:00:00.000Z';
const spec = { timeLimitSeconds: 60, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: {}, command: ['true'], args: [] };
function aLargeBatch(n: number, jobs: number, payloadBytes: number): NewBatch {
  const name = `batch-compute-20260101000000-large${String(n).padStart(3, '0')}`;
  return {
    batch: { name, type: 'batch', created },
    jobs: Array.from({ length: jobs }, (_, index) => {
      const record: JobRecord = { name: `${name}-${String(index).padStart(8, '0')}`, batchName: name, index, status: 'Waiting', created, started: null, ended: null, updated: created, message: null, failed: 0, attempts: [], spec };
      return { record, payload: String(index).padEnd(payloadBytes, 'x') };
    }),
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`never: ${what}`);
}

describe('SqliteStore checkpoints while large batches go in', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-checkpoints-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when large batches were accepted, their pages reach the database file itself (not only the WAL), and a reopen has every job', async () => {
    const file = path.join(dir, 'scheduler.db');
    const store = new SqliteStore({ file });
    const batches = [1, 2, 3].map((n) => aLargeBatch(n, 2500, 2048));
    try {
      for (const batch of batches) await store.insertBatch(batch);
      // 15 MiB of payloads: the service's commits do not checkpoint meanwhile, so only the worker can have copied them.
      await until(() => statSync(file).size > 3 * 2500 * 2048, 'the database file holds the batches');
    } finally {
      store.close();
      store.close();
    }
    const reader = new Database(file, { readonly: true });
    try {
      assert.equal(reader.prepare('SELECT count(*) FROM jobs').pluck().get(), 7500);
      assert.equal(reader.prepare('SELECT count(*) FROM batches WHERE accepting = 0').pluck().get(), 3);
    } finally {
      reader.close();
    }
  });
});
