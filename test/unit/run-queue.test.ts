import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JobRecord, JobStatusValue } from '../../src/core/model.js';
import { FairQueue } from '../../src/scheduler/fair-queue.js';
import { RunQueue } from '../../src/scheduler/run-queue.js';

/** The rule written plainly (a sorted scan of every lane per take), to compare the queue with. */
class ReferenceQueue {
  private readonly lanes: Array<{ lane: string; priority: number; items: string[]; turn: number }> = [];
  private turns = 0;

  push(item: string, lane: string, priority: number): void {
    let found = this.lanes.find((l) => l.lane === lane && l.priority === priority && l.items.length > 0);
    if (!found) {
      found = { lane, priority, items: [], turn: this.turns++ };
      this.lanes.push(found);
    }
    found.items.push(item);
  }

  shift(): string | undefined {
    const open = this.lanes.filter((l) => l.items.length > 0);
    if (open.length === 0) return undefined;
    const top = Math.max(...open.map((l) => l.priority));
    const next = open.filter((l) => l.priority === top).sort((a, b) => a.turn - b.turn)[0]!;
    next.turn = this.turns++;
    return next.items.shift();
  }
}

const ops = fc.array(
  fc.oneof(
    fc.record({ push: fc.constant(true as const), lane: fc.integer({ min: 0, max: 5 }), priority: fc.constantFrom(-1000, -1, 0, 0, 3, 1000) }),
    fc.record({ push: fc.constant(false as const) }),
  ),
  { maxLength: 300 },
);

function drain(queue: FairQueue): string[] {
  const out: string[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
  return out;
}

describe('FairQueue', () => {
  it('when pushes and takes interleave, it takes exactly what the written rule takes', () => {
    fc.assert(fc.property(ops, (sequence) => {
      const queue = new FairQueue();
      const reference = new ReferenceQueue();
      let n = 0;
      let waiting = 0;
      for (const op of sequence) {
        if (op.push) {
          const item = `j${n++}`;
          queue.push(item, `b${op.lane}`, op.priority);
          reference.push(item, `b${op.lane}`, op.priority);
          waiting++;
        } else {
          const taken = reference.shift();
          assert.equal(queue.shift(), taken);
          if (taken !== undefined) waiting--;
        }
        assert.equal(queue.size, waiting);
      }
      assert.deepEqual(drain(queue), drainReference(reference));
    }));
  });

  it('when everything is pushed first, priorities never rise and a lane\'s k-th item comes within k turns of every lane', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: -2, max: 2 })), { maxLength: 400 }), (pushes) => {
      const queue = new FairQueue();
      const items = pushes.map(([lane, priority], i) => ({ name: `j${i}`, lane: `b${lane}`, priority }));
      for (const item of items) queue.push(item.name, item.lane, item.priority);
      const out = drain(queue);
      assert.equal(out.length, items.length);
      const byName = new Map(items.map((item) => [item.name, item]));
      const priorities = out.map((name) => byName.get(name)!.priority);
      for (let i = 1; i < priorities.length; i++) assert.ok(priorities[i]! <= priorities[i - 1]!, 'a lower priority came before a higher one');
      for (const item of items) {
        const higher = items.filter((other) => other.priority > item.priority).length;
        const sameLevel = items.filter((other) => other.priority === item.priority);
        const lanes = new Set(sameLevel.map((other) => other.lane)).size;
        const k = sameLevel.filter((other) => other.lane === item.lane).findIndex((other) => other.name === item.name) + 1;
        assert.ok(out.indexOf(item.name) < higher + k * lanes, `${item.name} waited more than ${k} turns of ${lanes} lanes`);
      }
    }));
  });

  it('when a one-item lane arrives behind a 1,000-item lane, it is taken within the next two takes', () => {
    const queue = new FairQueue();
    for (let i = 0; i < 1000; i++) queue.push(`big-${i}`, 'big', 0);
    assert.equal(queue.shift(), 'big-0');
    queue.push('small', 'small', 0);
    assert.deepEqual([queue.shift(), queue.shift()], ['big-1', 'small']);
    assert.equal(queue.size, 998);
  });

  it('when a lane empties and gets items again, it joins the end of the turns', () => {
    const queue = new FairQueue();
    queue.push('a1', 'a', 0);
    queue.push('b1', 'b', 0);
    queue.push('b2', 'b', 0);
    assert.equal(queue.shift(), 'a1');
    queue.push('a2', 'a', 0);
    queue.push('c1', 'c', 0);
    assert.deepEqual(drain(queue), ['b1', 'a2', 'c1', 'b2']);
  });
});

function drainReference(reference: ReferenceQueue): string[] {
  const out: string[] = [];
  for (let item = reference.shift(); item !== undefined; item = reference.shift()) out.push(item);
  return out;
}

function aRecord(name: string, batchName: string, options: { priority?: number; status?: JobStatusValue; intent?: 'stop' } = {}): JobRecord {
  return {
    name, batchName, index: 0, status: options.status ?? 'Waiting', created: 't', started: null, ended: null, updated: 't', message: null, failed: 0, attempts: [],
    spec: { timeLimitSeconds: 1, backoffLimit: 0, resources: { limits: {}, requests: {} }, variables: {}, command: [], args: [], ...(options.priority ? { priority: options.priority } : {}) },
    ...(options.intent ? { intent: options.intent } : {}),
  };
}

describe('RunQueue', () => {
  function aQueue(maxRunning: number, singles: string[] = [], lookAhead?: () => number) {
    const records = new Map<string, JobRecord>();
    const launched: string[] = [];
    const deleting = new Set<string>();
    const queue = new RunQueue({
      maxRunning,
      current: (name) => records.get(name),
      deleting: (batchName) => deleting.has(batchName),
      single: (batchName) => singles.includes(batchName),
      launch: (job) => {
        launched.push(job.name);
        records.set(job.name, { ...job, status: 'Active' });
      },
      lookAhead,
    });
    const add = (record: JobRecord) => {
      records.set(record.name, record);
      queue.push(record.name);
    };
    const end = (name: string) => {
      const ended = { ...records.get(name)!, status: 'Succeeded' as const };
      records.set(name, ended);
      queue.jobChanged(ended);
    };
    return { queue, records, launched, deleting, add, end };
  }

  const pumped = () => new Promise((resolve) => setImmediate(resolve));

  it('when slots free, the higher priority starts first, then batches take turns and single jobs share one turn', async () => {
    const q = aQueue(1, ['s1', 's2']);
    for (let i = 0; i < 4; i++) q.add(aRecord(`big-${i}`, 'big'));
    q.add(aRecord('s1-a', 's1'));
    q.add(aRecord('s2-a', 's2'));
    q.add(aRecord('small-0', 'small'));
    q.add(aRecord('urgent-0', 'urgent', { priority: 5 }));
    q.queue.open();
    for (let i = 0; i < 7; i++) {
      q.end(q.launched.at(-1)!);
      await pumped();
    }
    assert.deepEqual(q.launched, ['urgent-0', 'big-0', 's1-a', 'small-0', 'big-1', 's2-a', 'big-2', 'big-3']);
  });

  it('when a job was stopped or its batch is being deleted, it is skipped; a job pushed twice starts once', async () => {
    const q = aQueue(10);
    q.add(aRecord('a-0', 'a', { intent: 'stop' }));
    q.add(aRecord('a-1', 'a', { status: 'Stopped' }));
    q.add(aRecord('gone-0', 'gone'));
    q.deleting.add('gone');
    q.add(aRecord('a-2', 'a'));
    q.queue.push('a-2');
    q.queue.push('unknown');
    q.queue.open();
    assert.deepEqual(q.launched, ['a-2']);
  });

  it('when as many jobs are in flight as allowed, no other starts until one leaves', async () => {
    const q = aQueue(2);
    for (let i = 0; i < 4; i++) q.add(aRecord(`b-${i}`, 'b'));
    q.queue.open();
    assert.deepEqual(q.launched, ['b-0', 'b-1']);
    q.queue.jobChanged({ ...q.records.get('b-0')!, status: 'Running' });
    await pumped();
    assert.deepEqual(q.launched, ['b-0', 'b-1']);
    q.queue.forget(['b-1']);
    await pumped();
    assert.deepEqual(q.launched, ['b-0', 'b-1', 'b-2']);
  });

  it('when a run ends (released before its end is told), the next job starts in the same turn, and the end told later starts no other', async () => {
    const q = aQueue(2);
    for (let i = 0; i < 4; i++) q.add(aRecord(`b-${i}`, 'b'));
    q.queue.open();
    q.queue.release('b-0');
    assert.deepEqual(q.launched, ['b-0', 'b-1', 'b-2'], 'started at once, not in a later turn');
    q.end('b-0');
    await pumped();
    assert.deepEqual(q.launched, ['b-0', 'b-1', 'b-2'], 'the slot was given once');
    q.queue.release('b-3');
    q.queue.release('b-0');
    assert.deepEqual(q.launched, ['b-0', 'b-1', 'b-2'], 'a job not in flight frees nothing');
  });

  it('when a run ends and the runtime takes starts ahead, that many more are handed to it, and only then', async () => {
    let ahead = 2;
    const q = aQueue(2, [], () => ahead);
    for (let i = 0; i < 8; i++) q.add(aRecord(`b-${i}`, 'b'));
    q.queue.open();
    assert.deepEqual(q.launched, ['b-0', 'b-1'], 'a start that is not a run\'s end hands nothing ahead');
    q.queue.release('b-0');
    assert.deepEqual(q.launched, ['b-0', 'b-1', 'b-2', 'b-3', 'b-4'], 'the freed slot, and two ahead');
    q.end('b-0');
    q.end('b-2');
    await pumped();
    assert.equal(q.launched.length, 5, 'an end told without a release fills up to maxRunning only: three in flight, none');
    ahead = 0;
    q.queue.release('b-1');
    assert.equal(q.launched.length, 5, 'with no look-ahead now, two in flight leave no slot of two free');
    q.queue.release('b-3');
    assert.deepEqual(q.launched.slice(5), ['b-5']);
  });

  it('when a job is submitted while starts are handed ahead, it waits behind them, in its priority order among the waiting', async () => {
    const q = aQueue(1, [], () => 1);
    for (let i = 0; i < 3; i++) q.add(aRecord(`b-${i}`, 'b'));
    q.queue.open();
    q.queue.release('b-0');
    assert.deepEqual(q.launched, ['b-0', 'b-1', 'b-2']);
    q.add(aRecord('urgent', 'u', { priority: 5 }));
    q.add(aRecord('b-3', 'b'));
    await pumped();
    assert.deepEqual(q.launched, ['b-0', 'b-1', 'b-2'], 'nothing more is in flight: b-1 runs and b-2 was handed ahead');
    q.queue.release('b-1');
    assert.deepEqual(q.launched.slice(3), ['urgent'], 'the next start goes to the higher priority');
  });
});
