import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSelector, selects } from '../../src/core/labels.js';
import { mergeJobSpec } from '../../src/core/merge.js';
import { type JobRecord, type JobStatusValue, JOB_STATUSES } from '../../src/core/model.js';
import { deriveBatchStatus } from '../../src/core/status.js';
import { Lister } from '../../src/scheduler/lister.js';
import type { ListParams } from '../../src/scheduler/list-query.js';
import { ReadModel } from '../../src/scheduler/read-model.js';

const TEAMS = ['a', 'b', 'c'];
const created = '2026-11-23T00:00:00.000Z';

/** A read model fed as the scheduler feeds it, with a brute-force answer to compare every list with. */
class World {
  readonly reads = new ReadModel([]);
  readonly lister = new Lister(this.reads, this.reads.listing);
  private batches = 0;

  add(type: 'job' | 'batch', jobs: Array<{ team: string; jobId: string }>, batchLabels?: Record<string, string>): void {
    const name = `batch-c-20261123000000-${String(this.batches++).padStart(8, '0')}`;
    const records = jobs.map(({ team, jobId }, index): JobRecord => ({
      name: `${name}-${String(index).padStart(8, '0')}`, batchName: name, index, jobId,
      spec: mergeJobSpec({}, undefined, { labels: batchLabels }, { labels: { team } }),
      status: 'Waiting', created, started: null, ended: null, updated: created, message: null, failed: 0, attempts: [],
    }));
    this.reads.index.addBatch({ name, type, created, ...(batchLabels ? { labels: batchLabels } : {}) }, records);
  }

  setStatus(pick: number, status: JobStatusValue): void {
    const all = this.allJobs();
    if (all.length === 0) return;
    const job = all[pick % all.length]!;
    this.reads.index.update({ ...job, status });
  }

  remove(pick: number): void {
    const names = [...this.reads.index.allBatches()].map((entry) => entry.batch.name);
    if (names.length > 0) this.reads.index.removeBatch(names[pick % names.length]!);
  }

  allJobs(type?: 'job' | 'batch'): JobRecord[] {
    return [...this.reads.index.allBatches()].filter((entry) => !type || entry.batch.type === type).flatMap((entry) => entry.jobs);
  }

  /** Single jobs that match, in acceptance order, found by reading everything. */
  expectedJobs(params: ListParams): string[] {
    const statuses = params.status?.split(',');
    const selector = parseSelector(params.labelSelector ?? '');
    return this.allJobs('job')
      .filter((job) => (!statuses || statuses.includes(job.status)) && (params.jobId === undefined || job.jobId === params.jobId) && selects(job.spec.labels, selector))
      .map((job) => job.name);
  }
}

const operation = fc.oneof(
  fc.record({ kind: fc.constant('single' as const), team: fc.constantFrom(...TEAMS), jobId: fc.constantFrom('x', 'y', 'z') }),
  fc.record({ kind: fc.constant('batch' as const), size: fc.integer({ min: 1, max: 30 }), team: fc.constantFrom(...TEAMS) }),
  fc.record({ kind: fc.constant('status' as const), pick: fc.nat(), status: fc.constantFrom(...JOB_STATUSES) }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
);
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

function apply(world: World, op: Operation): void {
  if (op.kind === 'single') world.add('job', [{ team: op.team, jobId: op.jobId }]);
  else if (op.kind === 'batch') world.add('batch', Array.from({ length: op.size }, (_, i) => ({ team: TEAMS[i % 3]!, jobId: `j${i % 4}` })), { owner: op.team });
  else if (op.kind === 'status') world.setStatus(op.pick, op.status);
  else world.remove(op.pick);
}

const query = fc.record({
  status: fc.option(fc.subarray([...JOB_STATUSES], { minLength: 1 }).map((s) => s.join(',')), { nil: undefined }),
  jobId: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
  labelSelector: fc.option(fc.constantFrom('team=a', 'team!=a', 'team in (a,b)', 'team notin (c)', 'team', '!team', 'owner'), { nil: undefined }),
});

describe('the listing indexes', () => {
  it('when single jobs are listed with any filter, in one page or many, the answer is what reading everything finds', () => {
    fc.assert(fc.property(fc.array(operation, { maxLength: 60 }), query, fc.integer({ min: 1, max: 7 }), (operations, params, limit) => {
      const world = new World();
      for (const op of operations) apply(world, op);
      const expected = world.expectedJobs(params);
      assert.deepEqual(world.lister.listJobs(params).items.map((job) => job.name), expected);
      // The indexes hold what is current and nothing stale: a filter reads only what can match.
      for (const type of ['job', 'batch'] as const) {
        for (const status of JOB_STATUSES) assert.equal(world.reads.listing.indexedJobs(type, status), world.allJobs(type).filter((job) => job.status === status).length);
      }
      const batchStatuses = [...world.reads.index.allBatches()].filter((entry) => entry.batch.type === 'batch').map((entry) => deriveBatchStatus(entry.counts, entry.jobs.length));
      for (const status of JOB_STATUSES) assert.equal(world.reads.listing.indexedBatches(status), batchStatuses.filter((s) => s === status).length);
      const paged: string[] = [];
      let token: string | undefined;
      do {
        const page = world.lister.listJobs({ ...params, limit, continue: token });
        paged.push(...page.items.map((job) => job.name));
        token = page.next;
      } while (token);
      assert.deepEqual(paged, expected);
    }), { numRuns: 200 });
  });

  it('when jobs change between pages, no job is answered twice, and each that matched all along and stayed is answered', () => {
    fc.assert(fc.property(fc.array(operation, { maxLength: 40 }), fc.array(operation, { maxLength: 30 }), query, fc.integer({ min: 1, max: 5 }), (before, during, params, limit) => {
      const world = new World();
      for (const op of before) apply(world, op);
      let steady = new Set(world.expectedJobs(params));
      const seen: string[] = [];
      let token: string | undefined;
      let step = 0;
      do {
        const page = world.lister.listJobs({ ...params, limit, continue: token });
        const now = new Set(world.expectedJobs(params));
        for (const job of page.items) assert.ok(now.has(job.name), 'an answered job matches when its page is read');
        seen.push(...page.items.map((job) => job.name));
        token = page.next;
        if (step < during.length) apply(world, during[step++]!);
        const after = new Set(world.expectedJobs(params));
        steady = new Set([...steady].filter((name) => after.has(name)));
      } while (token);
      assert.equal(new Set(seen).size, seen.length, 'no job twice');
      for (const name of steady) assert.ok(seen.includes(name), `${name} matched all along and was not answered`);
    }), { numRuns: 200 });
  });

  it("when a batch's jobs and the batches are listed with filters and pages, the answers are what reading everything finds", () => {
    fc.assert(fc.property(fc.array(operation, { maxLength: 50 }), query, fc.integer({ min: 1, max: 6 }), (operations, params, limit) => {
      const world = new World();
      for (const op of operations) apply(world, op);
      const statuses = params.status?.split(',');
      const selector = parseSelector(params.labelSelector ?? '');
      for (const entry of world.reads.index.allBatches()) {
        if (entry.batch.type !== 'batch') continue;
        const expected = entry.jobs
          .filter((job) => (!statuses || statuses.includes(job.status)) && (params.jobId === undefined || job.jobId === params.jobId) && selects(job.spec.labels, selector))
          .map((job) => job.name);
        const paged: string[] = [];
        let token: string | undefined;
        do {
          const page = world.lister.batchJson(entry.batch.name, { ...params, limit, continue: token });
          paged.push(...(JSON.parse(page.items) as { jobStatuses: Array<{ name: string }> }).jobStatuses.map((job) => job.name));
          token = page.next;
        } while (token);
        assert.deepEqual(paged, expected);
      }
      const batchParams: ListParams = { status: params.status, labelSelector: params.labelSelector?.replace('team', 'owner'), jobId: params.jobId === undefined ? undefined : 'j1' };
      const owner = parseSelector(batchParams.labelSelector ?? '');
      const expectedBatches = [...world.reads.index.allBatches()]
        .filter((entry) => entry.batch.type === 'batch' && selects(entry.batch.labels, owner) && (batchParams.jobId === undefined || entry.jobs.some((job) => job.jobId === 'j1')))
        .filter((entry) => !statuses || statuses.includes(deriveBatchStatus(entry.counts, entry.jobs.length)))
        .map((entry) => entry.batch.name);
      const pagedBatches: string[] = [];
      let token: string | undefined;
      do {
        const page = world.lister.listBatches({ ...batchParams, limit, continue: token });
        pagedBatches.push(...page.items.map((batch) => batch.name));
        token = page.next;
      } while (token);
      assert.deepEqual(pagedBatches, expectedBatches);
    }), { numRuns: 150 });
  });
});
