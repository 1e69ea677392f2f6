import type { JobRecord } from '../../src/core/model.js';

const created = '2026-01-01T00:00:00.000Z';

/** A job record that has never run (Waiting, no attempts), with a plain spec; `change` sets what a test is about. */
export function aJobRecord(change: Partial<JobRecord> = {}): JobRecord {
  const name = change.name ?? 'batch-c-20260101000000-aaaaaaaa-bbbbbbbb';
  return {
    name, batchName: name, index: 0, status: 'Waiting', created, started: null, ended: null, updated: created, message: null, failed: 0, attempts: [],
    spec: { timeLimitSeconds: 60, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: {}, command: ['true'], args: [] },
    ...change,
  };
}
