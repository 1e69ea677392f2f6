import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { chartDir, Helm, printPayloadValues, radixValues } from './helm.js';
import { componentOf, container, envOf, type Manifest, only, portNumber, serviceConfig, validateAll } from './manifests.js';

const componentIn = (valuesFile: string) => (parseYaml(readFileSync(valuesFile, 'utf8')) as { component: Record<string, unknown> }).component;

describe('the Helm chart\'s component', function () {
  this.timeout(60_000);
  let helm: Helm;
  before(() => {
    helm = Helm.unpack();
  });
  after(() => helm.remove());

  for (const [title, file] of [['only the Radix-known fields', radixValues], ['the print-payload example', printPayloadValues]] as const) {
    it(`when the values give ${title}, the component file holds exactly the fields given, and the service accepts it`, async () => {
      const objects = await helm.template('-f', file);
      validateAll(objects);
      assert.deepEqual(componentOf(objects), componentIn(file), 'no field the values did not give');
      assert.equal(serviceConfig(objects).component.name, componentIn(file).name);
    });
  }

  it('when the chart\'s own values are read, they hold no job settings to be merged into a user\'s component', () => {
    const values = parseYaml(readFileSync(`${chartDir}/values.yaml`, 'utf8')) as { component?: object };
    assert.deepEqual(values.component ?? {}, {});
  });

  for (const [missing, args] of [
    ['name', ['--set', 'component.image=registry.example.com/etl:1.0']],
    ['image', ['--set', 'component.name=etl']],
  ] as const) {
    it(`when the values give no component ${missing}, rendering fails and says what to give`, async () => {
      await assert.rejects(helm.template(...args), (error: Error & { stderr?: string }) => {
        assert.match(error.stderr ?? '', new RegExp(`component\\.${missing} is required: `));
        return true;
      });
    });
  }

  describe('when the component sets schedulerPort 9000', () => {
    let objects: Manifest[];
    before(async () => {
      objects = await helm.template('-f', radixValues, '--set', 'component.schedulerPort=9000');
    });

    it('the container port, both probes, JOB_SCHEDULER_PORT, the Service and the NetworkPolicy use 9000', () => {
      validateAll(objects);
      const c = container(objects);
      assert.deepEqual(c.ports.map((p: Manifest) => p.containerPort), [9000]);
      assert.equal(portNumber(objects, c.livenessProbe.httpGet.port), 9000);
      assert.equal(portNumber(objects, c.readinessProbe.httpGet.port), 9000);
      assert.equal(envOf(objects).get('JOB_SCHEDULER_PORT').value, '9000');
      const [servicePort] = only(objects, 'Service').spec.ports;
      assert.equal(servicePort.port, 9000, 'sibling services call http://<service>:9000, as on Radix');
      assert.equal(portNumber(objects, servicePort.targetPort), 9000);
      assert.equal(portNumber(objects, only(objects, 'NetworkPolicy').spec.ingress[0].ports[0].port), 9000);
    });

    it('the service, started with the image\'s and the pod\'s environment, listens on the component file\'s schedulerPort', () => {
      const config = serviceConfig(objects);
      assert.equal(componentOf(objects).schedulerPort, 9000);
      assert.equal(config.port, 9000);
    });

    it('service.port moves the Service\'s port only', async () => {
      const moved = await helm.template('-f', radixValues, '--set', 'component.schedulerPort=9000', '--set', 'service.port=80');
      const [servicePort] = only(moved, 'Service').spec.ports;
      assert.equal(servicePort.port, 80);
      assert.equal(portNumber(moved, servicePort.targetPort), 9000);
      assert.equal(serviceConfig(moved).port, 9000);
    });

    it('the notes printed by helm install give the Service\'s address with that port', async () => {
      const { stdout } = await helm.run('install', 'etl', chartDir, '-n', 'apps', '-f', radixValues, '--set', 'component.schedulerPort=9000', '--dry-run=client');
      const notes = stdout.split('\nNOTES:\n')[1] ?? '';
      assert.match(notes, /^ {2}http:\/\/etl-job-scheduler:9000\/api\/v1\/jobs$/m);
      assert.match(notes, /port-forward svc\/etl-job-scheduler 9000:9000\n\s+curl -s localhost:9000\//);
    });

    it('a different containerPort is refused, naming both', async () => {
      await assert.rejects(helm.template('-f', radixValues, '--set', 'component.schedulerPort=9000', '--set', 'containerPort=9090'), (error: Error & { stderr?: string }) => {
        assert.match(error.stderr ?? '', /containerPort \(9090\) differs from component\.schedulerPort \(9000\)/);
        return true;
      });
    });
  });
});
