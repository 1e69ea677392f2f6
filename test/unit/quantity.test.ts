import assert from 'node:assert/strict';
import { quantityValue } from '../../src/core/quantity.js';

describe('a Kubernetes quantity as a number', () => {
  const rows: Array<[string, number | undefined]> = [
    ['128Mi', 128 * 2 ** 20], ['1Gi', 2 ** 30], ['1.5Gi', 1.5 * 2 ** 30], ['500M', 5e8], ['2k', 2000], ['100', 100],
    ['1e9', 1e9], ['1E3', 1000], ['500m', 0.5], ['.5Ki', 512],
    ['', undefined], ['Mi', undefined], ['12MB', undefined], ['1.2.3', undefined], ['ten', undefined], ['1 Gi', undefined],
  ];
  for (const [text, value] of rows) {
    it(`${JSON.stringify(text)} is ${value ?? 'not a quantity'}`, () => assert.equal(quantityValue(text), value));
  }
});
