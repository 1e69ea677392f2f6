import assert from 'node:assert/strict';
import type { JobRecord, NewBatch } from '../../src/core/model.js';
import { acceptedStateText, insertSlice, isLarge } from '../../src/store/chunks.js';
import { aJobRecord } from './records.js';

const created = '2026-01-01T00:00:00.000Z';
const aRecord = (extra: Partial<JobRecord> = {}) => aJobRecord({ batchName: 'batch-c-20260101000000-aaaaaaaa', spec: { ...aJobRecord().spec, command: [] }, ...extra });
const jobsOf = (count: number, payload = ''): NewBatch['jobs'] => Array.from({ length: count }, (_, index) => ({ record: aRecord({ index }), payload }));
const stateOf = (record: JobRecord) => {
  const { name: _n, batchName: _b, index: _i, spec: _s, ...state } = record;
  return state;
};

describe('acceptedStateText', () => {
  const cases: Array<[string, JobRecord]> = [
    ['a job just accepted, without id', aRecord()],
    ['a job just accepted, with an id that needs escaping', aRecord({ jobId: 'id "with" quotes \\ and \u00e9' })],
    ['a job with an intent (not as accepted)', aRecord({ intent: 'stop' })],
    ['a job that was updated', aRecord({ updated: '2026-01-01T00:00:01.000Z' })],
    ['a running job', aRecord({ status: 'Running', started: created })],
    ['a job accepted at another time', aRecord({ created: '2026-01-02T00:00:00.000Z', updated: '2026-01-02T00:00:00.000Z', jobId: 'x' })],
  ];
  for (const [when, record] of cases) {
    it(`for ${when}, holds exactly the record's state`, () => {
      assert.deepEqual(JSON.parse(acceptedStateText(record)), stateOf(record));
    });
  }
});

describe('insertSlice', () => {
  it('when rows are quick, a transaction takes at most 2,000 of them, and the next one goes on from there', () => {
    const jobs = jobsOf(4500);
    const inserted: number[] = [];
    const insert = (job: NewBatch['jobs'][number]) => inserted.push(job.record.index);
    const first = insertSlice(jobs, 0, insert, () => 0);
    const second = insertSlice(jobs, first, insert, () => 0);
    const third = insertSlice(jobs, second, insert, () => 0);
    assert.deepEqual([first, second, third], [2000, 4000, 4500]);
    assert.deepEqual(inserted, jobs.map((job) => job.record.index));
  });

  it('when the time runs out, the transaction ends at the next check of the clock, after at least one row', () => {
    let now = 0;
    const end = insertSlice(jobsOf(1000), 0, () => (now += 1), () => now);
    assert.equal(end, 32, 'the clock is read every 16 rows: at 16 ms there is time left, at 32 not');
    assert.equal(insertSlice(jobsOf(1000), 999, () => (now += 100), () => now), 1000);
  });
});

describe('isLarge', () => {
  it('a batch of more than 250 jobs, or of more than 1 MiB of payloads, is large; a usual one is not', () => {
    assert.equal(isLarge(jobsOf(250)), false);
    assert.equal(isLarge(jobsOf(251)), true);
    assert.equal(isLarge(jobsOf(2, 'x'.repeat(600 * 1024))), true);
  });
});
