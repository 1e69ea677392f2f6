import assert from 'node:assert/strict';
import { DEFAULT_BACKOFF_LIMIT, DEFAULT_TIME_LIMIT_SECONDS, mergeJobSpec } from '../../src/core/merge.js';
import type { JobSettings } from '../../src/core/model.js';

describe('mergeJobSpec', () => {
  const component: JobSettings = {
    timeLimitSeconds: 100,
    backoffLimit: 5,
    image: 'registry/compute:{imageTagName}',
    imageTagName: 'c',
    resources: { limits: { cpu: '500m', memory: '384Mi' }, requests: { cpu: '400m' } },
    variables: { A: 'component', B: 'component' },
    node: { gpu: 'nvidia-k80', gpuCount: '2' },
    runtime: { architecture: 'amd64' },
    command: ['node', 'job.js'],
    args: ['--component'],
    failurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } }] },
  };

  const table: Array<{ when: string; batch?: JobSettings; job?: JobSettings; expect: (spec: ReturnType<typeof mergeJobSpec>) => void }> = [
    {
      when: 'nothing overrides the component',
      expect: (spec) => {
        assert.equal(spec.timeLimitSeconds, 100);
        assert.equal(spec.backoffLimit, 5);
        assert.deepEqual(spec.resources, { limits: { cpu: '500m', memory: '384Mi' }, requests: { cpu: '400m' } });
        assert.deepEqual(spec.command, ['node', 'job.js']);
      },
    },
    {
      when: 'the batch and the job set scalars, the most specific wins',
      batch: { timeLimitSeconds: 200, backoffLimit: 1, imageTagName: 'b' },
      job: { timeLimitSeconds: 120 },
      expect: (spec) => {
        assert.equal(spec.timeLimitSeconds, 120);
        assert.equal(spec.backoffLimit, 1);
        assert.equal(spec.imageTagName, 'b');
      },
    },
    {
      when: 'resources are given at each level, limits and requests merge key by key',
      batch: { resources: { limits: { memory: '200Mi' }, requests: { memory: '100Mi' } } },
      job: { resources: { limits: { cpu: '300m' } } },
      expect: (spec) => {
        assert.deepEqual(spec.resources.limits, { cpu: '300m', memory: '200Mi' });
        assert.deepEqual(spec.resources.requests, { cpu: '400m', memory: '100Mi' });
      },
    },
    {
      when: 'variables are given at each level, they merge key by key',
      batch: { variables: { B: 'batch', C: 'batch' } },
      job: { variables: { C: 'job' } },
      expect: (spec) => assert.deepEqual(spec.variables, { A: 'component', B: 'batch', C: 'job' }),
    },
    {
      when: 'node, runtime, failurePolicy, command and args are given, they replace whole',
      batch: { node: { gpu: 'gpu3' }, args: [] },
      job: {
        runtime: { nodeType: 'memory-optimized' },
        command: ['python3', 'run.py'],
        failurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [1] } }] },
      },
      expect: (spec) => {
        assert.deepEqual(spec.node, { gpu: 'gpu3' });
        assert.deepEqual(spec.runtime, { nodeType: 'memory-optimized' });
        assert.deepEqual(spec.command, ['python3', 'run.py']);
        assert.deepEqual(spec.args, []);
        assert.deepEqual(spec.failurePolicy?.rules.map((r) => r.action), ['FailJob']);
      },
    },
  ];

  for (const row of table) {
    it(`when ${row.when}`, () => row.expect(mergeJobSpec(component, row.batch, row.job)));
  }

  it('when no layer sets them, uses the Radix defaults for time limit and backoff limit', () => {
    const spec = mergeJobSpec({}, undefined, {});
    assert.equal(spec.timeLimitSeconds, DEFAULT_TIME_LIMIT_SECONDS);
    assert.equal(spec.backoffLimit, DEFAULT_BACKOFF_LIMIT);
    assert.deepEqual(spec.variables, {});
  });

  it('when the result is changed, the layers are left as they were', () => {
    const spec = mergeJobSpec(component, undefined, undefined);
    spec.variables.A = 'changed';
    spec.resources.limits.cpu = '1';
    spec.command.push('x');
    assert.equal(component.variables?.A, 'component');
    assert.equal(component.resources?.limits?.cpu, '500m');
    assert.deepEqual(component.command, ['node', 'job.js']);
  });
});
