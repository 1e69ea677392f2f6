import assert from 'node:assert/strict';
import { ApiError } from '../../src/core/errors.js';
import type { JobRecord } from '../../src/core/model.js';
import { fullRecord, StoredJob, type StoredFields } from '../../src/core/stored-job.js';

const whole = { name: 'j' } as JobRecord;
const source = { readJob: () => whole, isPending: () => false };
const fields = (overrides: Partial<StoredFields & Pick<JobRecord, 'intent' | 'ending'>> = {}) => ({
  name: 'j', batchName: 'b', index: 0, status: 'Succeeded' as const, attemptCount: 1,
  created: '2026-01-01T00:00:00.000Z', started: '2026-01-01T00:00:01.250Z', ended: '2024-02-29T23:59:59.999Z', updated: '2026-01-01T00:00:02.000Z', ...overrides,
});

describe('StoredJob', () => {
  it('when its times are as toISOString writes them, answers them back the same, and null as null', () => {
    const job = StoredJob.of(source, fields({ started: null }))!;
    assert.deepEqual([job.created, job.started, job.ended, job.updated], ['2026-01-01T00:00:00.000Z', null, '2024-02-29T23:59:59.999Z', '2026-01-01T00:00:02.000Z']);
  });

  for (const [what, time] of [
    ['without milliseconds', '2026-01-01T00:00:05Z'], ['a day the month does not have', '2026-02-29T00:00:00.000Z'], ['an hour past 23', '2026-01-01T24:00:00.000Z'],
    ['an offset instead of Z', '2026-01-01T00:00:00.000+01:00'], ['a letter for a digit', '2026-01-0xT00:00:00.000Z'], ['before 1970', '1969-12-31T23:59:59.999Z'],
  ] as const) {
    it(`when a time is ${what}, it is not made compact (the time would not read back the same)`, () => {
      assert.equal(StoredJob.of(source, fields({ ended: time })), undefined);
    });
  }

  it('when a job has not finished, or has a deletion asked or an ending under way, it is not made compact', () => {
    assert.equal(StoredJob.of(source, fields({ status: 'Running' })), undefined);
    assert.equal(StoredJob.of(source, fields({ intent: 'delete' })), undefined);
    assert.equal(StoredJob.of(source, fields({ ending: 'shutdown' })), undefined);
  });

  it('when the rest of a compact job is asked for, it is read from the source; a whole record is answered as it is', () => {
    const job = StoredJob.of(source, fields())!;
    assert.equal(fullRecord(job), whole);
    const record = { ...whole, name: 'k' };
    assert.equal(fullRecord(record), record);
  });
});

describe('StoredJob state', () => {
  it('when made compact, answers its status, last replica status, attempt count and generation as given', () => {
    for (const [status, lastReplicaStatus, attemptCount, generation] of [
      ['Succeeded', 'Succeeded', 1, undefined], ['Failed', 'Failed', 4095, 8191], ['Stopped', undefined, 0, 1], ['Stopped', 'Pending', 2, undefined], ['Failed', 'Running', 7, 42],
    ] as const) {
      const job = StoredJob.of(source, fields({ status, lastReplicaStatus, attemptCount, generation }))!;
      assert.deepEqual([job.status, job.lastReplicaStatus, job.attemptCount, job.generation], [status, lastReplicaStatus, attemptCount, generation]);
    }
  });

  it('when its counts or last replica status are beyond what the packed state holds, it is kept whole', () => {
    assert.equal(StoredJob.of(source, fields({ attemptCount: 4096 })), undefined);
    assert.equal(StoredJob.of(source, fields({ generation: 8192 })), undefined);
    assert.equal(StoredJob.of(source, fields({ lastReplicaStatus: 'Unknown' })), undefined);
  });

  it('when jobs come from two stores, each reads the rest of itself from its own', () => {
    const other = { ...whole, name: 'other' };
    const first = StoredJob.of(source, fields())!;
    const second = StoredJob.of({ readJob: () => other, isPending: () => false }, fields())!;
    assert.equal(fullRecord(first), whole);
    assert.equal(fullRecord(second), other);
    assert.ok(second instanceof StoredJob);
  });
});

describe('StoredJob whose rows are gone', () => {
  it('when the store no longer has the job (its batch is being deleted), reading it answers 404', () => {
    const job = StoredJob.of({ readJob: () => undefined, isPending: () => false }, fields())!;
    assert.throws(() => fullRecord(job), (error: unknown) => error instanceof ApiError && error.code === 404);
  });
});
