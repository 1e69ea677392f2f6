import assert from 'node:assert/strict';
import { batchName, compactTimestamp, componentNameProblem, isDns1123Label, jobName, MAX_COMPONENT_NAME_LENGTH } from '../../src/core/naming.js';
import { createSuffixSource } from '../../src/scheduler/ids.js';

describe('naming', () => {
  it('when a batch is named, then it follows batch-<component>-<yyyymmddhhmmss>-<suffix>', () => {
    const name = batchName('compute', new Date('2023-02-20T10:14:17.123Z'), 'idwsxncs');
    assert.equal(name, 'batch-compute-20230220101417-idwsxncs');
    assert.equal(jobName(name, 'rkwaibwe'), 'batch-compute-20230220101417-idwsxncs-rkwaibwe');
  });

  it('when the component name is as long as allowed, then job names are valid 63-character labels', () => {
    const component = 'a'.repeat(MAX_COMPONENT_NAME_LENGTH);
    assert.equal(componentNameProblem(component), undefined);
    const name = jobName(batchName(component, new Date(), 'abcdefgh'), '12345678');
    assert.equal(name.length, 63);
    assert.ok(isDns1123Label(name));
    assert.match(componentNameProblem(component + 'a') ?? '', /at most/);
  });

  const labels: Array<[string, boolean]> = [
    ['compute', true], ['a', true], ['a-b-1', true], ['-a', false], ['a-', false], ['A', false],
    ['a_b', false], ['../x', false], ['a/b', false], ['', false], ['a'.repeat(64), false],
  ];
  for (const [name, valid] of labels) {
    it(`when the name is ${JSON.stringify(name.length > 20 ? name.slice(0, 10) + '…' : name)}, then it is ${valid ? '' : 'not '}a DNS-1123 label`, () => {
      assert.equal(isDns1123Label(name), valid);
    });
  }

  it('when timestamps are compacted, then they are UTC', () => {
    assert.equal(compactTimestamp(new Date('2022-03-02T17:06:47+01:00')), '20220302160647');
  });

  it('when times of the same second and of the next follow each other, then each is compacted to its own second', () => {
    const stamps = ['2022-03-02T16:06:47.001Z', '2022-03-02T16:06:47.999Z', '2022-03-02T16:06:48.000Z', '2022-03-02T16:06:47.500Z', '2023-03-02T16:06:47.500Z'];
    assert.deepEqual(stamps.map((at) => compactTimestamp(new Date(at))), ['20220302160647', '20220302160647', '20220302160648', '20220302160647', '20230302160647']);
  });

  it('when many suffixes are drawn, then each is 8 characters of [a-z0-9] and they vary', () => {
    const next = createSuffixSource();
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const suffix = next();
      assert.match(suffix, /^[a-z0-9]{8}$/);
      seen.add(suffix);
    }
    assert.equal(seen.size, 5000);
  });

  it('when suffixes are drawn one after another, then each is greater than the one before (but once, where the count wraps)', () => {
    // Names made in the same second then increase, and the store's name indexes take each batch at their end.
    const next = createSuffixSource();
    let previous = next();
    let descents = 0;
    for (let i = 0; i < 5000; i++) {
      const suffix = next();
      if (suffix <= previous) descents++;
      previous = suffix;
    }
    assert.ok(descents <= 1, `${descents} suffixes were not greater than the one before`);
  });
});
