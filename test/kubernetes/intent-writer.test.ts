import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { IntentWriter, type ShardRef } from '../../src/runtimes/kubernetes/intent-writer.js';
import { LaunchMarks } from '../../src/runtimes/kubernetes/launch-marks.js';
import { silentLogger } from '../../src/logger.js';
import { waitFor } from '../component/harness.js';

type Call = { verb: 'create' | 'patch'; shard: number; data: Record<string, string | null> };

/** A writer over a recorded fake of the two requests it makes, failing on demand. */
function aWriter(options: { delayMs?: number } = {}) {
  const calls: Call[] = [];
  const failures: number[] = [];
  const stored = new Map<number, Record<string, string>>();
  const fail = () => {
    const code = failures.shift();
    if (code !== undefined) throw new ApiException(code, 'injected', '', {});
  };
  const writer = new IntentWriter({
    async create({ shard }, data) {
      calls.push({ verb: 'create', shard, data });
      fail();
      if (stored.has(shard)) throw new ApiException(409, 'AlreadyExists', '', {});
      stored.set(shard, { ...data });
    },
    async patch({ shard }, data) {
      calls.push({ verb: 'patch', shard, data });
      fail();
      const object = stored.get(shard);
      if (!object) throw new ApiException(404, 'NotFound', '', {});
      for (const [key, value] of Object.entries(data)) {
        if (value === null) delete object[key];
        else object[key] = value;
      }
    },
    delayMs: options.delayMs ?? 60_000,
    retryDelayMs: () => 1,
    logger: silentLogger(),
  });
  return { writer, calls, failures, stored };
}

const shard0: ShardRef = { batchName: 'b', shard: 0 };
const shard1: ShardRef = { batchName: 'b', shard: 1 };

describe('recorded intent, written coalesced', () => {
  it('when many jobs launch in one turn, each state object is written once with all their keys: created first, patched after', async () => {
    const { writer, calls, stored } = aWriter();
    await Promise.all([...Array.from({ length: 300 }, (_, i) => writer.write(shard0, `launched.${i}`, '1')), writer.write(shard1, 'launched.400', '1')]);
    assert.deepEqual(calls.map((c) => [c.verb, c.shard, Object.keys(c.data).length]), [['create', 0, 300], ['create', 1, 1]]);
    await writer.write(shard0, 'stop.3', '2026-11-23T10:16:00.000Z');
    assert.deepEqual(calls.at(-1), { verb: 'patch', shard: 0, data: { 'stop.3': '2026-11-23T10:16:00.000Z' } });
    assert.equal(stored.get(0)!['launched.299'], '1');
  });

  it('when a write nobody waits on is queued, it goes out with the next waited-on write to the same object', async () => {
    const { writer, calls } = aWriter();
    writer.writeLater(shard0, 'outcome.1', '{"status":"Succeeded"}');
    assert.equal(calls.length, 0);
    await writer.write(shard0, 'launched.2', '1');
    assert.deepEqual(calls, [{ verb: 'create', shard: 0, data: { 'outcome.1': '{"status":"Succeeded"}', 'launched.2': '1' } }]);
  });

  it('when writes nobody waits on are queued, they go out together once the delay has passed', async () => {
    const { writer, calls } = aWriter({ delayMs: 5 });
    writer.writeLater(shard0, 'outcome.1', 'a');
    writer.writeLater(shard0, 'outcome.2', 'b');
    await waitFor(async () => calls.length, (n) => n > 0, 5000);
    assert.deepEqual(calls, [{ verb: 'create', shard: 0, data: { 'outcome.1': 'a', 'outcome.2': 'b' } }]);
  });

  it('when a value is already written, or is taken back before it goes out, nothing is written', async () => {
    const { writer, calls } = aWriter();
    await writer.write(shard0, 'launched.1', '1');
    await writer.write(shard0, 'launched.1', '1');
    writer.writeLater(shard0, 'launched.1', null);
    await writer.write(shard0, 'launched.1', '1');
    assert.equal(calls.length, 1);
  });

  it('when a write fails, its waiters hear of it, its changes stay queued and are written on the next try', async () => {
    const { writer, calls, failures, stored } = aWriter();
    failures.push(503);
    await assert.rejects(writer.write(shard0, 'stop.1', 't1'), (error: ApiException<unknown>) => error.code === 503);
    await waitFor(async () => stored.get(0)?.['stop.1'], (value) => value === 't1', 5000);
    assert.deepEqual(calls.map((c) => c.verb), ['create', 'create']);
  });

  it('when the state object exists already it is patched, and when it was deleted by someone it is created again', async () => {
    const { writer, calls, stored } = aWriter();
    stored.set(0, { 'launched.0': '1' });
    await writer.write(shard0, 'launched.1', '1');
    assert.deepEqual(calls.map((c) => c.verb), ['create', 'patch']);
    stored.delete(0);
    await assert.rejects(writer.write(shard0, 'stop.1', 't1'));
    await waitFor(async () => stored.get(0)?.['stop.1'], (value) => value === 't1', 5000);
    assert.deepEqual(calls.map((c) => c.verb), ['create', 'patch', 'patch', 'create']);
  });

  it('when a batch is deleted, what is queued for it is dropped and its waiters released', async () => {
    const { writer, calls } = aWriter();
    writer.writeLater(shard0, 'outcome.1', 'a');
    const waited = writer.write(shard1, 'stop.400', 't');
    writer.forget('b');
    await waited;
    await writer.close();
    assert.equal(calls.length, 0);
  });

  it('when closed, what is queued is written once, at once', async () => {
    const { writer, calls } = aWriter();
    writer.writeLater(shard0, 'outcome.1', 'a');
    await writer.close();
    assert.deepEqual(calls, [{ verb: 'create', shard: 0, data: { 'outcome.1': 'a' } }]);
  });
});

describe('launch marks, handed out ahead of the creates', () => {
  it('when many jobs launch, at most `ahead` hold a mark whose create has not gone out, and each refill marks at least half of that', async () => {
    const chunks: number[] = [];
    let pending: number[] = [];
    const marks = new LaunchMarks<number>({
      ahead: 8,
      mark: async (item) => {
        pending.push(item);
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (pending.length > 0) chunks.push(pending.length);
        pending = [];
      },
    });
    let held = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      await marks.acquire(i);
      most = Math.max(most, ++held);
      await new Promise<void>((resolve) => setImmediate(resolve));
      held--;
      marks.release();
    }));
    assert.ok(most <= 8, `${most} held at once`);
    assert.equal(chunks.reduce((a, b) => a + b, 0), 40);
    assert.ok(chunks.slice(0, -1).every((n) => n >= 4), `chunks ${chunks.join(',')}`);
  });
});
