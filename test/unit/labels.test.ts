import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ApiError } from '../../src/core/errors.js';
import { keyProblem, labelProblems, MAX_LABELS, mergeLabels, parseSelector, type Requirement, selects, valueProblem } from '../../src/core/labels.js';
import { mergeJobSpec } from '../../src/core/merge.js';
import { checkBatchDescription, checkJobDescription } from '../../src/core/validate.js';
import { OrderedSet } from '../../src/scheduler/ordered-set.js';

describe('labels', () => {
  const keys: Array<[string, boolean]> = [
    ['team', true],
    ['a', true],
    ['app.example.com/stage', true],
    ['x/y', true],
    ['A_b-c.d', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['', false],
    ['-team', false],
    ['team-', false],
    ['Example.com/x', false],
    ['example.com/', false],
    ['/x', false],
    ['a/b/c', false],
    ['team name', false],
    ['job-scheduler.io/batch-name', false],
    ['sub.job-scheduler.io/x', false],
    ['__proto__', false],
  ];
  for (const [key, valid] of keys) {
    it(`when the key is ${JSON.stringify(key)}, it is ${valid ? 'accepted' : 'refused'}`, () => {
      assert.equal(keyProblem(key) === undefined, valid);
    });
  }

  const values: Array<[string, boolean]> = [['', true], ['v1', true], ['a.b_c-d', true], ['x'.repeat(63), true], ['x'.repeat(64), false], ['-v', false], ['a b', false], ['ä', false]];
  for (const [value, valid] of values) {
    it(`when the value is ${JSON.stringify(value)}, it is ${valid ? 'accepted' : 'refused'}`, () => {
      assert.equal(valueProblem(value) === undefined, valid);
    });
  }

  it('when an object has too many labels or bad ones, names each with its path', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`k${i}`, 'v']));
    assert.deepEqual(labelProblems(many, 'labels').map((p) => p.message), [`has ${MAX_LABELS + 1} labels; at most ${MAX_LABELS} are allowed`]);
    assert.deepEqual(labelProblems({ ok: 'v', 'bad key': 'v', good: '-bad' }, 'jobScheduleDescriptions[2].labels').map((p) => p.path),
      ['jobScheduleDescriptions[2].labels.bad key', 'jobScheduleDescriptions[2].labels.good']);
  });

  it("when a batch and a job both have labels, the job's own win and the rest are the batch's", () => {
    assert.deepEqual(mergeLabels({ team: 'a', stage: 'x' }, { stage: 'y' }), { team: 'a', stage: 'y' });
    assert.equal(mergeLabels(undefined, {}), undefined);
    const spec = mergeJobSpec({}, undefined, { labels: { team: 'a', stage: 'x' } }, { labels: { stage: 'y' } });
    assert.deepEqual(spec.labels, { team: 'a', stage: 'y' });
    assert.equal(mergeJobSpec({}, undefined, { labels: {} }).labels, undefined);
  });

  it('when a description has bad labels, it is refused with 422 naming them; the count counts the batch with the job', () => {
    assert.throws(() => checkJobDescription({ labels: { 'job-scheduler.io/x': 'v' } }), (e: ApiError) => e.code === 422 && /^labels\.job-scheduler\.io\/x uses the prefix/.test(e.message));
    const batchLabels = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`b${i}`, 'v']));
    const jobLabels = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`j${i}`, 'v']));
    assert.throws(() => checkBatchDescription({ labels: batchLabels, jobScheduleDescriptions: [{}, { labels: jobLabels }] }),
      (e: ApiError) => e.code === 422 && e.message === "jobScheduleDescriptions[1].labels gives the job 40 labels with the batch's; at most 32 are allowed");
    assert.doesNotThrow(() => checkBatchDescription({ labels: batchLabels, jobScheduleDescriptions: [{ labels: { b1: 'w' } }] }));
  });
});

describe('label selectors', () => {
  const parsed: Array<[string, Requirement[]]> = [
    ['', []],
    ['  ', []],
    ['team=vision', [{ key: 'team', op: 'in', values: ['vision'] }]],
    ['team==vision', [{ key: 'team', op: 'in', values: ['vision'] }]],
    ['team != vision', [{ key: 'team', op: 'notin', values: ['vision'] }]],
    ['team=', [{ key: 'team', op: 'in', values: [''] }]],
    ['stage in (train, eval)', [{ key: 'stage', op: 'in', values: ['train', 'eval'] }]],
    ['stage notin (a)', [{ key: 'stage', op: 'notin', values: ['a'] }]],
    ['gpu', [{ key: 'gpu', op: 'exists' }]],
    ['!gpu', [{ key: 'gpu', op: 'absent' }]],
    ['app.example.com/x=1,!y , z in (a,b),w', [
      { key: 'app.example.com/x', op: 'in', values: ['1'] },
      { key: 'y', op: 'absent' },
      { key: 'z', op: 'in', values: ['a', 'b'] },
      { key: 'w', op: 'exists' },
    ]],
  ];
  for (const [text, requirements] of parsed) {
    it(`when the selector is ${JSON.stringify(text)}, it parses`, () => {
      assert.deepEqual(parseSelector(text), requirements);
    });
  }

  const refused: Array<[string, RegExp]> = [
    ['=x', /without a key/],
    ['a=b=c', /unexpected "="/],
    ['a in b', /needs a list in parentheses/],
    ['a in (b', /unclosed list/],
    ['a in ()', /at least one value/],
    ['a > 3', /has ">" after the key "a"/],
    ['a,', /without a key/],
    ['bad key=x', /has "key" after the key "bad"/],
    ['a=-x', /has the value "-x"/],
    [Array.from({ length: 33 }, (_, i) => `k${i}`).join(','), /more than 32 requirements/],
  ];
  for (const [text, message] of refused) {
    it(`when the selector is ${JSON.stringify(text).slice(0, 40)}, answers 400 naming labelSelector`, () => {
      assert.throws(() => parseSelector(text), (e: ApiError) => e.code === 400 && e.message.startsWith('labelSelector ') && message.test(e.message) && e.fields?.[0]?.path === 'labelSelector');
    });
  }

  const matching: Array<[string, Record<string, string> | undefined, boolean]> = [
    ['team=a', { team: 'a' }, true],
    ['team=a', { team: 'b' }, false],
    ['team=a', undefined, false],
    ['team!=a', undefined, true],
    ['team!=a', { team: 'a' }, false],
    ['team in (a,b)', { team: 'b' }, true],
    ['team notin (a,b)', { team: 'c' }, true],
    ['team notin (a,b)', {}, true],
    ['team', { team: '' }, true],
    ['!team', { team: '' }, false],
    ['!team', { other: 'x' }, true],
    ['team=a,stage=x', { team: 'a', stage: 'y' }, false],
    ['toString', {}, false],
    ['', undefined, true],
  ];
  for (const [text, labels, expected] of matching) {
    it(`when labels are ${JSON.stringify(labels)}, "${text}" ${expected ? 'selects' : 'does not select'} them`, () => {
      assert.equal(selects(labels, parseSelector(text)), expected);
    });
  }
});

describe('OrderedSet', () => {
  it('when numbers are added and removed in any order, it reads as a sorted set from any point', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 3000 }),
      fc.integer({ min: -1, max: 3000 }),
      (operations, from) => {
        const set = new OrderedSet();
        const model = new Set<number>();
        for (const [add, value] of operations) {
          if (add) {
            set.add(value);
            model.add(value);
          } else assert.equal(set.delete(value), model.delete(value));
        }
        const expected = [...model].sort((a, b) => a - b);
        assert.equal(set.size, expected.length);
        assert.deepEqual([...set.after(from)], expected.filter((value) => value > from));
        assert.equal(set.firstAfter(from), expected.find((value) => value > from));
        for (const value of expected.slice(0, 20)) assert.ok(set.has(value));
      },
    ), { numRuns: 100 });
  });
});
