import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config.js';
import { guideEntry } from '../fixtures/radix-guide/entries.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const apiDocument = parseYaml(readFileSync(path.join(root, 'api/openapi.yaml'), 'utf8')) as object;
const schema = JSON.parse(readFileSync(path.join(root, 'api/component.schema.json'), 'utf8')) as { properties: Record<string, unknown> };

function load(componentYaml: string, env: Record<string, string> = {}) {
  return loadConfig({ env, componentYaml, componentPath: 'component.yaml', apiDocument, cpus: 2 });
}

function problemsOf(componentYaml: string, env: Record<string, string> = {}): string[] {
  try {
    load(componentYaml, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

const kubernetes = { JOB_SCHEDULER_RUNTIME: 'kubernetes' };

describe('the component file is a Radix jobs: entry', () => {
  it('when the guide\'s compute entry is pasted (with the command Radix would build from src), it loads and src and ports are named as ignored', () => {
    const config = load(guideEntry('compute') + 'command: [node, job.js]\n');
    assert.equal(config.component.name, 'compute');
    assert.equal(config.port, 8000);
    assert.deepEqual(config.component.payload, { path: '/compute/args' });
    assert.deepEqual(config.ignoredFields, ['src', 'ports']);
    assert.equal('ports' in config.component, false);
  });

  it('when the guide\'s etl entry is pasted (with the image Radix would build from src), it loads, gpuCount: 2 included', () => {
    const config = load(guideEntry('etl') + 'image: registry.example/etl:1\n', kubernetes);
    assert.equal(config.port, 9000);
    assert.equal(config.component.timeLimitSeconds, 100);
    assert.equal(config.component.backoffLimit, 5);
    assert.deepEqual(config.component.resources, { requests: { memory: '256Mi', cpu: '400m' }, limits: { memory: '384Mi', cpu: '500m' } });
    assert.deepEqual(config.component.node, { gpu: 'nvidia-k80', gpuCount: '2' });
    assert.deepEqual(config.ignoredFields, ['src']);
  });

  it('when a guide entry is pasted alone, the only problem is what Radix builds from src: the image', () => {
    for (const name of ['compute', 'etl']) {
      assert.deepEqual(problemsOf(guideEntry(name), kubernetes), ['component.yaml: image is required on the kubernetes runtime']);
    }
  });

  it('when every other Radix-only field is given, each is accepted and named, environmentConfig included', () => {
    const yaml = [
      'name: etl', 'command: [node, job.js]', 'dockerfileName: Dockerfile.etl', 'secrets: [DB_PASSWORD]', 'secretRefs: {azureKeyVaults: []}',
      'identity: {azure: {clientId: abc}}', 'readOnlyFileSystem: true', 'monitoring: false', 'monitoringConfig: {portName: metrics}',
      'volumeMounts: [{name: data, path: /data}]', 'enabled: true', 'environmentConfig:', '  - environment: prod', '    timeLimitSeconds: 50', '',
    ].join('\n');
    const config = load(yaml);
    assert.deepEqual(config.ignoredFields, ['dockerfileName', 'secrets', 'secretRefs', 'identity', 'readOnlyFileSystem', 'monitoring', 'monitoringConfig', 'volumeMounts', 'enabled', 'environmentConfig']);
    assert.equal(config.component.timeLimitSeconds, undefined);
  });

  it('when a Radix-only field has the wrong shape, or a field is unknown, or gpuCount is out of range, each is refused', () => {
    const text = problemsOf('name: etl\ncommand: [node]\nports: http\nreadOnlyFileSystem: yes please\ncolour: blue\nnode: {gpuCount: 100000}\n').join('\n');
    for (const expected of [/ports must be array/, /readOnlyFileSystem must be boolean/, /colour is not a known field/, /node\.gpuCount/]) assert.match(text, expected);
  });

  it('when the README lists the component fields, its table names exactly the schema\'s fields', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The component file'), readme.indexOf('### Environment'));
    const documented = new Set<string>();
    for (const row of section.split('\n').filter((line) => line.startsWith('| `'))) {
      for (const [, name] of row.split('|')[1]!.matchAll(/`([^`]+)`/g)) documented.add(name!.split('.')[0]!);
    }
    assert.deepEqual([...documented].sort(), Object.keys(schema.properties).sort());
  });
});
