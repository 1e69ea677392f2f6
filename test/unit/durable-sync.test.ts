import assert from 'node:assert/strict';
import type { JobRecord } from '../../src/core/model.js';
import { silentLogger } from '../../src/logger.js';
import { CommittedChanges } from '../../src/runtimes/local/committed-changes.js';
import { DurableSync } from '../../src/runtimes/local/durable-sync.js';
import { aJobRecord } from './records.js';

const aRecord = (name: string, status: JobRecord['status']) => aJobRecord({ name, status });

describe('DurableSync', () => {
  function aSync(writable: () => boolean) {
    const order: string[] = [];
    const changes = new CommittedChanges((job) => order.push(`told ${job.name}:${job.status}`));
    let flushes = 0;
    const durable: DurableSync = new DurableSync({
      flush: () => {
        flushes++;
        if (!writable()) return false;
        durable.committed();
        return true;
      },
      changes, logger: silentLogger(),
    });
    return { order, changes, durable, flushes: () => flushes };
  }

  it('when the changes of one turn commit, one flush serves every waiter, which goes on before the committed records are told, in order', async () => {
    const { order, changes, durable, flushes } = aSync(() => true);
    changes.saved(aRecord('a', 'Succeeded'));
    changes.saved(aRecord('b', 'Active'));
    const waiting = [durable.sync(), durable.sync()].map((synced, i) => synced.then((done) => order.push(`waiter ${i} ${done}`)));
    assert.deepEqual(order, [], 'nothing is told before the commit');
    await Promise.all(waiting);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(flushes(), 1);
    assert.deepEqual(order, ['waiter 0 true', 'waiter 1 true', 'told a:Succeeded', 'told b:Active']);
  });

  it('when the store commits on its own first, the waiters are resolved by that commit and told records are not told twice', async () => {
    const { order, changes, durable } = aSync(() => true);
    changes.saved(aRecord('a', 'Active'));
    const synced = durable.sync();
    durable.committed();
    assert.equal(await synced, true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['told a:Active']);
  });

  it('when the store cannot write, every waiter is answered false and nothing is told', async () => {
    const { order, changes, durable } = aSync(() => false);
    const record = aRecord('a', 'Active');
    changes.saved(record);
    assert.equal(await durable.sync(), false);
    changes.undone(record);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, []);
  });
});
