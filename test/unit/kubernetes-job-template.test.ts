import assert from 'node:assert/strict';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { mergeJobSpec } from '../../src/core/merge.js';
import type { JobRecord, JobSettings, JobSpec } from '../../src/core/model.js';
import { JobTemplates } from '../../src/runtimes/kubernetes/job-template.js';
import { type ClusterSettings, jobObject, type PayloadRef } from '../../src/runtimes/kubernetes/manifests.js';

const settings: ClusterSettings = { namespace: 'apps', component: 'compute', payloadPath: '/compute/args', nodeTypeKey: 'example.com/nodetype', gpuKey: 'example.com/gpu', gpuCountKey: 'example.com/gpu-count' };
const batchName = 'batch-compute-20261123101500-k3x9a0bq';
const owner: V1OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name: batchName, uid: '0b5e8c8e-7d1a-4c36-9a0e-0d6b8f1f2a10', blockOwnerDeletion: false };

function aSpec(overrides: JobSettings = {}): JobSpec {
  return mergeJobSpec({ image: 'registry.example.com/compute:{imageTagName}', imageTagName: '1.0.0', variables: { GREETING: 'hi' } }, undefined, overrides);
}

function aJob(spec: JobSpec, index: number, jobId?: string): JobRecord {
  const name = `${batchName}-j${String(index).padStart(7, '0')}`;
  return { name, batchName, index, jobId, spec, status: 'Waiting', created: '2026-11-23T10:15:00.000Z', started: null, ended: null, updated: '2026-11-23T10:15:00.000Z', message: null, failed: 0, attempts: [] };
}

const payloadOf = (job: JobRecord, secret = 0): PayloadRef => ({ secretName: `${batchName}-payloads-${secret}`, key: job.name });
const whole = (job: JobRecord, payload: PayloadRef) => JSON.stringify(jobObject({ settings, job, batchType: 'batch', owner, payload }));

describe('Job manifests from a template', () => {
  it('when jobs share a spec, each text is byte for byte the manifest built whole, whatever their ids hold', () => {
    const templates = new JobTemplates({ settings, batchType: 'batch', owner });
    const spec = aSpec({ timeLimitSeconds: 60, resources: { limits: { cpu: '1' } } });
    const ids = [undefined, 'job-1', 'quote " and \\ backslash', 'line\nbreak and \u0000 nul', '\u0000js:name\u0000', 'ünïcødé ✓'];
    ids.forEach((jobId, index) => {
      const job = aJob(spec, index, jobId);
      assert.equal(templates.text(job, payloadOf(job, index % 3)), whole(job, payloadOf(job, index % 3)), `job id ${JSON.stringify(jobId)}`);
    });
  });

  it('when jobs of a batch have different specs, each gets its own template', () => {
    const templates = new JobTemplates({ settings, batchType: 'batch', owner });
    const specs = [aSpec(), aSpec({ image: 'other:2' }), aSpec({ variables: { A: '1' }, node: { gpu: 'nvidia-v100' } })];
    for (let index = 0; index < 9; index++) {
      const job = aJob(specs[index % 3]!, index, `id-${index}`);
      assert.equal(templates.text(job, payloadOf(job)), whole(job, payloadOf(job)));
    }
  });

  it('when a spec itself holds a template mark, the manifest is still exact (built whole)', () => {
    const templates = new JobTemplates({ settings, batchType: 'batch', owner });
    const spec = aSpec({ variables: { TRICK: '\u0000js:name\u0000', OTHER: '\u0000js:secret\u0000' } });
    for (let index = 0; index < 3; index++) {
      const job = aJob(spec, index, 'id');
      const text = templates.text(job, payloadOf(job));
      assert.equal(text, whole(job, payloadOf(job)));
      assert.equal((JSON.parse(text) as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } } } }).spec.template.spec.containers[0]!.env.find((env) => env.name === 'TRICK')!.value, '\u0000js:name\u0000');
    }
  });
});
