import assert from 'node:assert/strict';
import { orderedSuffixes } from '../../src/scheduler/ordered-suffixes.js';

describe('orderedSuffixes', () => {
  it('for a batch of 100,000 jobs, gives each index 8 characters of [a-z0-9], strictly increasing in byte order (as SQLite compares)', () => {
    const suffixOf = orderedSuffixes(100_000);
    const suffixes = Array.from({ length: 100_000 }, (_, i) => suffixOf(i));
    for (const suffix of suffixes) assert.match(suffix, /^[a-z0-9]{8}$/);
    for (let i = 1; i < suffixes.length; i++) assert.ok(Buffer.compare(Buffer.from(suffixes[i - 1]!), Buffer.from(suffixes[i]!)) < 0, `${suffixes[i - 1]} < ${suffixes[i]}`);
  });

  it('for the same index of two batches, draws different suffixes; the first and the last of a batch span the whole space', () => {
    const [a, b] = [orderedSuffixes(1000), orderedSuffixes(1000)];
    const pairs = Array.from({ length: 50 }, (_, i) => [a(i), b(i)]);
    assert.ok(pairs.some(([x, y]) => x !== y));
    assert.ok(a(0) < '02', a(0));
    assert.ok(a(999) > 'zy', a(999));
  });
});
