import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { apiDocument, root } from '../component/harness.js';
import { chartRoleRules, permissions, type PolicyRule } from './chart-role.js';
import { chartDir, Helm } from './helm.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = any;

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

/** What the Kubernetes runtime uses, and nothing more (test/kubernetes/rbac.test.ts checks the runtime side). */
const EXPECTED_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'delete', 'list', 'patch', 'watch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'list', 'patch', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
];

const only = (objects: Manifest[], kind: string): Manifest => {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, found ${found.length}`);
  return found[0];
};
const podSpec = (objects: Manifest[]) => only(objects, 'Deployment').spec.template.spec;
const container = (objects: Manifest[]) => podSpec(objects).containers[0];
const envOf = (objects: Manifest[]) => new Map<string, Manifest>(container(objects).env.map((e: Manifest) => [e.name, e]));

function validateAll(objects: Manifest[]): void {
  for (const object of objects) {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    assert.ok(Model, `unexpected kind ${object.apiVersion} ${object.kind}`);
    new Model(object).validate();
  }
}

/** The YAML block of docs/deploy-kubernetes.md that starts with `# compute-values.yaml`. */
function docsValuesFile(): string {
  const docs = readFileSync(path.join(root, 'docs/deploy-kubernetes.md'), 'utf8');
  const block = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!).find((text) => text.startsWith('# compute-values.yaml'));
  assert.ok(block, 'docs/deploy-kubernetes.md has no compute-values.yaml block');
  return block;
}

describe('the Helm chart', function () {
  this.timeout(60_000);
  let helm: Helm;
  let scratch: string;
  before(() => {
    helm = Helm.unpack();
    scratch = mkdtempSync(path.join(tmpdir(), 'job-scheduler-values-'));
  });
  after(() => {
    helm.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('when linted, passes', async () => {
    const { stdout } = await helm.run('lint', chartDir);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('when linted strictly, passes', async () => {
    const { stdout } = await helm.run('lint', '--strict', chartDir);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('when rendered with default values, every object validates against the Kubernetes schema', async () => {
    const objects = await helm.template();
    validateAll(objects);
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'NetworkPolicy', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    assert.ok(objects.every((o) => o.metadata.namespace === 'apps'), 'every object in the release namespace');
    const env = envOf(objects);
    assert.equal(env.has('JOB_SCHEDULER_API_TOKEN'), false, 'auth is off by default');
  });

  it('when rendered with auth on, the network policy off and extra env, every object validates and carries them', async () => {
    const objects = await helm.template(
      '--set', 'auth.existingSecret=api-token', '--set', 'auth.secretKey=key',
      '--set', 'networkPolicy.enabled=false',
      '--set-json', 'extraEnv=[{"name":"JOB_SCHEDULER_MAX_RUNNING","value":"4"}]',
    );
    validateAll(objects);
    assert.equal(objects.some((o) => o.kind === 'NetworkPolicy'), false);
    const env = envOf(objects);
    assert.deepEqual(env.get('JOB_SCHEDULER_API_TOKEN').valueFrom, { secretKeyRef: { name: 'api-token', key: 'key' } });
    assert.equal(env.get('JOB_SCHEDULER_MAX_RUNNING').value, '4');
  });

  it('when rendered, it grants no cluster-wide rights: exactly the namespaced Role the runtime uses, bound to the pod\'s ServiceAccount', async () => {
    const objects = await helm.template();
    assert.ok(!objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'));
    const rules = await chartRoleRules({ helm });
    assert.deepEqual(permissions(rules), permissions(EXPECTED_RULES));
    assert.equal(rules.length, EXPECTED_RULES.length, 'one rule per resource');
    const binding = only(objects, 'RoleBinding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: only(objects, 'Role').metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: only(objects, 'ServiceAccount').metadata.name, namespace: 'apps' }]);
    assert.equal(podSpec(objects).serviceAccountName, only(objects, 'ServiceAccount').metadata.name);
    assert.equal(podSpec(objects).automountServiceAccountToken, true, 'the runtime talks to the API server');
  });

  it('when rendered, the pod runs hardened, as non-root with a read-only root and no capabilities', async () => {
    const objects = await helm.template();
    const pod = podSpec(objects);
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(container(objects).securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const tmp = container(objects).volumeMounts.find((m: Manifest) => m.mountPath === '/tmp');
    assert.ok(pod.volumes.find((v: Manifest) => v.name === tmp.name).emptyDir.sizeLimit, 'a small writable /tmp');
    assert.equal(pod.terminationGracePeriodSeconds, 30);
    assert.equal(only(objects, 'Deployment').spec.replicas, 1);
  });

  it('when rendered, the probes hit /healthz and /readyz on the named port, which the Service targets', async () => {
    const objects = await helm.template();
    const c = container(objects);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    const service = only(objects, 'Service');
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(service.spec.ports, [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('when the container port is changed, the service listens on it and the Service still reaches it by name', async () => {
    const objects = await helm.template('--set', 'containerPort=9090', '--set', 'service.port=80');
    const env = envOf(objects);
    assert.equal(env.get('JOB_SCHEDULER_PORT').value, '9090');
    assert.equal(container(objects).ports[0].containerPort, 9090);
    assert.deepEqual(only(objects, 'Service').spec.ports[0], { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' });
  });

  it('when rendered, the service is configured for the Kubernetes runtime through its environment', async () => {
    const objects = await helm.template();
    const env = envOf(objects);
    assert.equal(env.get('JOB_SCHEDULER_RUNTIME').value, 'kubernetes');
    assert.equal(env.get('JOB_SCHEDULER_HOST').value, '0.0.0.0');
    assert.equal(env.get('JOB_SCHEDULER_LOG_LEVEL').value, 'info');
    assert.deepEqual(env.get('JOB_SCHEDULER_NAMESPACE').valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
    const configPath = env.get('JOB_SCHEDULER_CONFIG').value as string;
    const mount = container(objects).volumeMounts.find((m: Manifest) => configPath.startsWith(`${m.mountPath}/`));
    assert.ok(mount?.readOnly, `${configPath} is on a read-only mount`);
    const volume = podSpec(objects).volumes.find((v: Manifest) => v.name === mount.name);
    assert.equal(volume.configMap.name, only(objects, 'ConfigMap').metadata.name);
    assert.ok(only(objects, 'ConfigMap').data[path.basename(configPath)]);
    assert.equal(container(objects).image, 'ghcr.io/example/job-scheduler:0.1.0', 'the tag defaults to the appVersion');
  });

  it('when rendered, the ConfigMap holds the values component, which the service would accept', async () => {
    const objects = await helm.template();
    const values = parseYaml(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as { component: object };
    const componentYaml = only(objects, 'ConfigMap').data['component.yaml'] as string;
    assert.deepEqual(parseYaml(componentYaml), values.component);
    const config = loadConfig({ env: { JOB_SCHEDULER_RUNTIME: 'kubernetes' }, componentYaml, componentPath: 'component.yaml', apiDocument, cpus: 1 });
    assert.equal(config.component.name, 'compute');
  });

  it('when the component changes, the pod template changes too, so the pod is rolled', async () => {
    const checksum = (objects: Manifest[]) => only(objects, 'Deployment').spec.template.metadata.annotations['checksum/config'] as string;
    const before = checksum(await helm.template());
    const after = checksum(await helm.template('--set', 'component.timeLimitSeconds=600'));
    assert.match(before, /^[0-9a-f]{64}$/);
    assert.notEqual(after, before);
    assert.equal(checksum(await helm.template('--set', 'logLevel=debug')), before, 'only the config moves the checksum');
  });

  it('when the network policy is on, only pods of the namespace and the configured peers reach the service port', async () => {
    const policy = only(await helm.template(), 'NetworkPolicy');
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    assert.deepEqual(policy.spec.ingress, [{ from: [{ podSelector: {} }], ports: [{ port: 'http', protocol: 'TCP' }] }]);
    const peer = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const widened = only(await helm.template('--set-json', `networkPolicy.ingressFrom=${JSON.stringify([peer])}`), 'NetworkPolicy');
    assert.deepEqual(widened.spec.ingress[0].from, [{ podSelector: {} }, peer]);
    assert.deepEqual(widened.spec.podSelector.matchLabels, only(await helm.template(), 'Deployment').spec.selector.matchLabels);
  });

  it('when rendered with the values file of docs/deploy-kubernetes.md, it validates and the service would accept its component', async () => {
    const file = path.join(scratch, 'compute-values.yaml');
    writeFileSync(file, docsValuesFile());
    const objects = await helm.template('-f', file);
    validateAll(objects);
    assert.equal(container(objects).image, 'registry.example.com/job-scheduler:0.1.0');
    const componentYaml = only(objects, 'ConfigMap').data['component.yaml'] as string;
    const config = loadConfig({ env: { JOB_SCHEDULER_RUNTIME: 'kubernetes' }, componentYaml, componentPath: 'component.yaml', apiDocument, cpus: 1 });
    assert.equal(config.component.name, 'compute');
  });

  for (const [title, args, reason] of [
    ['a replica count that is not a number', ['--set', 'replicaCount=abc'], /replicaCount/],
    ['more than one replica', ['--set', 'replicaCount=2'], /replicaCount/],
    ['an unknown top-level key', ['--set', 'colour=blue'], /colour/],
    ['a component name that is not a DNS label', ['--set', 'component.name=Not_Valid'], /component\/name/],
    ['a drain time as long as the grace period', ['--set', 'shutdownSeconds=30'], /shutdownSeconds must be smaller/],
  ] as const) {
    it(`when given ${title}, rendering fails and says why`, async () => {
      await assert.rejects(helm.template(...args), (error: Error & { stderr?: string }) => {
        assert.match(error.stderr ?? '', reason);
        return true;
      });
    });
  }
});
