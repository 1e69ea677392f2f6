import assert from 'node:assert/strict';
import { Interner } from '../../src/core/interner.js';

describe('Interner', () => {
  it('answers the first of equal values for every later one, and a different value as itself', () => {
    const labels = new Interner<Record<string, string>>(10, (value) => JSON.stringify(value));
    const first = labels.shared({ team: 'a' });
    assert.equal(labels.shared({ team: 'a' }), first);
    const other = { team: 'b' };
    assert.equal(labels.shared(other), other);
  });

  it('past its bound it starts over: a value kept before is no longer the one answered', () => {
    const keys = new Interner<{ key: string }>(2, (value) => value.key);
    const a = keys.shared({ key: 'a' });
    keys.shared({ key: 'b' });
    keys.shared({ key: 'c' });
    const again = { key: 'a' };
    assert.equal(keys.shared(again), again);
    assert.notEqual(again, a);
  });
});
