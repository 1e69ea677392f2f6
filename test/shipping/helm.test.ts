import assert from 'node:assert/strict';
import path from 'node:path';
import { chartRoleRules, permissions, type PolicyRule } from './chart-role.js';
import { chartDir, Helm, printPayloadValues } from './helm.js';
import { container, envOf, type Manifest, only, podSpec, serviceConfig, validateAll } from './manifests.js';

/** What the Kubernetes runtime uses, and nothing more (test/kubernetes/rbac.test.ts checks the runtime side). */
const EXPECTED_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'watch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'list', 'patch', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
];

describe('the Helm chart', function () {
  this.timeout(60_000);
  let helm: Helm;
  /** The chart with the print-payload example's values (the chart's defaults give no component) and `args`. */
  const render = (...args: string[]) => helm.template('-f', printPayloadValues, ...args);
  before(() => {
    helm = Helm.unpack();
  });
  after(() => helm.remove());

  for (const [title, args] of [
    ['with its default values', []],
    ['with the example values', ['-f', printPayloadValues]],
  ] as const) {
    it(`when linted strictly ${title}, passes`, async () => {
      const { stdout } = await helm.run('lint', '--strict', chartDir, ...args);
      assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }

  it('when rendered with default values and a component, every object validates against the Kubernetes schema', async () => {
    const objects = await render();
    validateAll(objects);
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'NetworkPolicy', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    assert.ok(objects.every((o) => o.metadata.namespace === 'apps'), 'every object in the release namespace');
    const env = envOf(objects);
    assert.equal(env.has('JOB_SCHEDULER_API_TOKEN'), false, 'auth is off by default');
  });

  it('when rendered with auth on, the network policy off and extra env, every object validates and carries them', async () => {
    const objects = await render(
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
    const objects = await render();
    assert.ok(!objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'));
    const rules = await chartRoleRules({ helm, args: ['-f', printPayloadValues] });
    assert.deepEqual(permissions(rules), permissions(EXPECTED_RULES));
    assert.equal(rules.length, EXPECTED_RULES.length, 'one rule per resource');
    const binding = only(objects, 'RoleBinding');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: only(objects, 'Role').metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: only(objects, 'ServiceAccount').metadata.name, namespace: 'apps' }]);
    assert.equal(podSpec(objects).serviceAccountName, only(objects, 'ServiceAccount').metadata.name);
    assert.equal(podSpec(objects).automountServiceAccountToken, true, 'the runtime talks to the API server');
  });

  it('when rendered, the pod runs hardened, as non-root with a read-only root and no capabilities', async () => {
    const objects = await render();
    const pod = podSpec(objects);
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(container(objects).securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const tmp = container(objects).volumeMounts.find((m: Manifest) => m.mountPath === '/tmp');
    assert.ok(pod.volumes.find((v: Manifest) => v.name === tmp.name).emptyDir.sizeLimit, 'a small writable /tmp');
    assert.equal(pod.terminationGracePeriodSeconds, 30);
    assert.equal(only(objects, 'Deployment').spec.replicas, 1);
  });

  it('when no port is given, the service listens on 8080 and the probes hit /healthz and /readyz on that named port, which the Service targets', async () => {
    const objects = await render();
    const c = container(objects);
    assert.equal(serviceConfig(objects).port, 8080);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    const service = only(objects, 'Service');
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(service.spec.ports, [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('when the container port is changed, the service listens on it and the Service still reaches it by name', async () => {
    const objects = await render('--set', 'containerPort=9090', '--set', 'service.port=80');
    assert.equal(serviceConfig(objects).port, 9090);
    assert.equal(container(objects).ports[0].containerPort, 9090);
    assert.deepEqual(only(objects, 'Service').spec.ports[0], { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' });
  });

  it('when rendered, the service is configured for the Kubernetes runtime through its environment', async () => {
    const objects = await render();
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

  it('when the component changes, the pod template changes too, so the pod is rolled', async () => {
    const checksum = (objects: Manifest[]) => only(objects, 'Deployment').spec.template.metadata.annotations['checksum/config'] as string;
    const before = checksum(await render());
    const after = checksum(await render('--set', 'component.timeLimitSeconds=600'));
    assert.match(before, /^[0-9a-f]{64}$/);
    assert.notEqual(after, before);
    assert.equal(checksum(await render('--set', 'logLevel=debug')), before, 'only the config moves the checksum');
  });

  it('when the network policy is on, only pods of the namespace and the configured peers reach the service port', async () => {
    const policy = only(await render(), 'NetworkPolicy');
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    assert.deepEqual(policy.spec.ingress, [{ from: [{ podSelector: {} }], ports: [{ port: 'http', protocol: 'TCP' }] }]);
    const peer = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const widened = only(await render('--set-json', `networkPolicy.ingressFrom=${JSON.stringify([peer])}`), 'NetworkPolicy');
    assert.deepEqual(widened.spec.ingress[0].from, [{ podSelector: {} }, peer]);
    assert.deepEqual(widened.spec.podSelector.matchLabels, only(await render(), 'Deployment').spec.selector.matchLabels);
  });

  for (const [title, args, reason] of [
    ['a replica count that is not a number', ['--set', 'replicaCount=abc'], /replicaCount/],
    ['more than one replica', ['--set', 'replicaCount=2'], /replicaCount/],
    ['an unknown top-level key', ['--set', 'colour=blue'], /colour/],
    ['a component name that is not a DNS label', ['--set', 'component.name=Not_Valid'], /component\/name/],
    ['a drain time as long as the grace period', ['--set', 'shutdownSeconds=30'], /shutdownSeconds must be smaller/],
  ] as const) {
    it(`when given ${title}, rendering fails and says why`, async () => {
      await assert.rejects(render(...args), (error: Error & { stderr?: string }) => {
        assert.match(error.stderr ?? '', reason);
        return true;
      });
    });
  }
});
