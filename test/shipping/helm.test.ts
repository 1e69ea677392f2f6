import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { apiDocument } from '../component/harness.js';
import { chartDir, Helm } from './helm.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

describe('the Helm chart', function () {
  this.timeout(60_000);
  let helm: Helm;
  before(() => {
    helm = Helm.unpack();
  });
  after(() => helm.remove());

  it('when linted strictly, passes', async () => {
    const { stdout } = await helm.run('lint', '--strict', chartDir);
    assert.match(stdout, /0 chart\(s\) failed/);
  });

  for (const [title, args] of [
    ['default values', []],
    ['auth on, network policy off, extra env', ['--set', 'auth.existingSecret=api-token', '--set', 'networkPolicy.enabled=false', '--set', 'extraEnv[0].name=X', '--set', 'extraEnv[0].value=y']],
  ] as const) {
    it(`when rendered with ${title}, every object validates against the Kubernetes schema`, async () => {
      const objects = await helm.template(...args);
      assert.ok(objects.length >= 6);
      for (const object of objects) {
        const Model = MODELS[`${object.apiVersion}/${object.kind}`];
        assert.ok(Model, `unexpected kind ${object.apiVersion} ${object.kind}`);
        new Model(object).validate();
      }
      assert.equal(objects.some((o) => o.kind === 'NetworkPolicy'), !(args as readonly string[]).includes('networkPolicy.enabled=false'));
      const env = objects.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].env as Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string } } }>;
      assert.equal(env.find((e) => e.name === 'JOB_SCHEDULER_API_TOKEN')?.valueFrom?.secretKeyRef?.name, args.length > 0 ? 'api-token' : undefined);
    });
  }

  it('when rendered, it grants no cluster-wide rights and runs hardened, probed on the named port', async () => {
    const objects = await helm.template();
    assert.ok(!objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'));
    const pod = objects.find((o) => o.kind === 'Deployment').spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    const container = pod.containers[0];
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.deepEqual([container.livenessProbe.httpGet.path, container.livenessProbe.httpGet.port], ['/healthz', 'http']);
    assert.deepEqual([container.readinessProbe.httpGet.path, container.readinessProbe.httpGet.port], ['/readyz', 'http']);
    assert.equal(objects.find((o) => o.kind === 'Service').spec.ports[0].name, 'http');
  });

  it('when rendered, the ConfigMap holds the values component, which the service would accept', async () => {
    const objects = await helm.template();
    const values = parseYaml(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as { component: object };
    const componentYaml = objects.find((o) => o.kind === 'ConfigMap').data['component.yaml'] as string;
    assert.deepEqual(parseYaml(componentYaml), values.component);
    const config = loadConfig({ env: { JOB_SCHEDULER_RUNTIME: 'kubernetes' }, componentYaml, componentPath: 'component.yaml', apiDocument, cpus: 1 });
    assert.equal(config.component.name, 'compute');
  });

  it('when a value breaks the schema, rendering fails', async () => {
    await assert.rejects(helm.template('--set', 'replicaCount=abc'));
    await assert.rejects(helm.template('--set', 'colour=blue'));
    await assert.rejects(helm.template('--set', 'component.name=Not_Valid'));
  });
});
