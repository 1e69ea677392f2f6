import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { root } from '../component/harness.js';
import { FreshCopy } from './fresh-copy.js';
import { chartDir, Helm, radixValues } from './helm.js';
import { componentOf, container, type Manifest, only, serviceConfig, validateAll } from './manifests.js';
import { codeBlocks, flag, helmCommands, section } from './markdown.js';
import { readValuesDocs, TABLE_END, TABLE_START, valuesTable } from './values-doc.js';

/** What a Radix user knows about a job component: the fields of its `jobs:` entry that the chart needs. */
const RADIX_FIELDS = ['name', 'image', 'schedulerPort', 'payload', 'resources'];

const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

const DOCS = [
  { title: 'the chart README', text: () => read('helm/job-scheduler/README.md'), showsValuesFile: true },
  { title: 'docs/deploy-kubernetes.md', text: () => read('docs/deploy-kubernetes.md'), showsValuesFile: true },
  { title: 'the README\'s deploy section', text: () => section(read('README.md'), 'Deploy to Kubernetes'), showsValuesFile: false },
];

/** The objects a documented helm command creates: `install` as a client-side dry run, `upgrade` as a template. */
async function objectsOf(helm: Helm, cwd: string, args: string[]): Promise<Manifest[]> {
  if (args[0] === 'install') {
    const { stdout } = await helm.runIn(cwd, ...args, '--dry-run=client');
    const manifest = stdout.split('\nMANIFEST:\n')[1]?.split('\nNOTES:\n')[0];
    assert.ok(manifest, `helm install --dry-run printed no manifest: ${stdout.slice(0, 200)}`);
    return parseAllDocuments(manifest).map((doc) => doc.toJS()).filter(Boolean);
  }
  assert.equal(args[0], 'upgrade', `a documented helm command this test knows: helm ${args.join(' ')}`);
  const { stdout } = await helm.runIn(cwd, 'template', ...args.slice(1));
  return parseAllDocuments(stdout).map((doc) => doc.toJS()).filter(Boolean);
}

describe('the deploy documentation', function () {
  this.timeout(120_000);
  let helm: Helm;
  let clone: FreshCopy;
  before(() => {
    helm = Helm.unpack();
    clone = FreshCopy.make();
  });
  after(() => {
    helm.remove();
    clone.remove();
  });

  describe('the chart README\'s values table', () => {
    it('when values.yaml is read, every value has a "# --" description', () => {
      assert.deepEqual(readValuesDocs(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')).undocumented, []);
    });

    it('when compared with values.yaml, it is the table generated from it (run test/shipping/chart-readme.ts)', () => {
      const readme = readFileSync(path.join(chartDir, 'README.md'), 'utf8');
      const shown = readme.slice(readme.indexOf(TABLE_START) + TABLE_START.length, readme.indexOf(TABLE_END)).trim();
      assert.equal(shown, valuesTable(readValuesDocs(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')).values));
    });

    it('when generated, it takes each description, type and default from the comments and the values', () => {
      const values = [
        '# A header, not a description.', '', '# -- Replicas.', 'replicaCount: 1', 'image:', '  # -- Repository,', '  # on two lines.',
        '  repository: x', '  tag: ""', '# -- (int) Port | number.', '# @default -- the schedulerPort', 'port:', '# -- Resources.',
        'resources:', '  requests:', '    cpu: 50m',
      ].join('\n');
      const docs = readValuesDocs(values);
      assert.deepEqual(docs.undocumented, ['image.tag']);
      assert.equal(valuesTable(docs.values), [
        '| Key | Type | Default | Description |',
        '|-----|------|---------|-------------|',
        '| `replicaCount` | int | `1` | Replicas. |',
        '| `image.repository` | string | `"x"` | Repository, on two lines. |',
        '| `port` | int | the schedulerPort | Port \\| number. |',
        '| `resources` | object | `{"requests":{"cpu":"50m"}}` | Resources. |',
      ].join('\n'));
    });
  });

  it('when examples/helm/compute-values.yaml is read, it names only fields of a Radix jobs: entry', () => {
    const values = parseYaml(readFileSync(radixValues, 'utf8')) as { component: object };
    assert.deepEqual(Object.keys(values), ['component']);
    for (const key of Object.keys(values.component)) assert.ok(RADIX_FIELDS.includes(key), `component.${key}`);
  });

  for (const doc of DOCS) {
    describe(doc.title, () => {
      if (doc.showsValuesFile) {
        it('when it shows compute-values.yaml, it is examples/helm/compute-values.yaml', () => {
          const shown = codeBlocks(doc.text(), 'yaml').filter((block) => block.startsWith('# compute-values.yaml\n'));
          assert.ok(shown.length > 0, 'shows the values file');
          for (const block of shown) assert.equal(block, `# compute-values.yaml\n${readFileSync(radixValues, 'utf8')}`);
        });
      }

      it('when its helm commands run on a fresh clone, the service gets its image, the component as given and its port', async () => {
        const commands = helmCommands(doc.text());
        assert.ok(commands.some((args) => args[0] === 'install'), 'has a helm install command');
        const builtImage = /docker build -t (\S+)/.exec(doc.text())?.[1];
        assert.ok(builtImage, 'says how to build the image');
        for (const args of commands) {
          const objects = await objectsOf(helm, clone.dir, args);
          validateAll(objects);
          assert.equal(container(objects).image, builtImage, `helm ${args.join(' ')} runs the image built above`);
          const valuesFile = flag(args, '-f') ?? flag(args, '--values');
          assert.ok(valuesFile, `helm ${args.join(' ')} gives the values file`);
          const given = (parseYaml(readFileSync(path.join(clone.dir, valuesFile), 'utf8')) as { component: { schedulerPort?: number } }).component;
          assert.deepEqual(componentOf(objects), given);
          assert.equal(serviceConfig(objects).port, given.schedulerPort ?? 8080);
        }
      });

      it('when it gives an address of the service, it is the Service\'s name and port', async () => {
        const install = helmCommands(doc.text()).find((args) => args[0] === 'install')!;
        const objects = await objectsOf(helm, clone.dir, install);
        const service = only(objects, 'Service');
        const [name, port] = [service.metadata.name as string, String(service.spec.ports[0].port)];
        const namespace = flag(install, '--namespace', '-n');
        const hosts = [name, `${name}.${namespace}.svc`, componentOf(objects).name];
        for (const [url, host, urlPort] of doc.text().matchAll(/http:\/\/([a-z0-9.-]+):(\d+)/g)) {
          if (host === 'localhost') continue;
          assert.ok(hosts.includes(host!), `${url}: the host is one of ${hosts.join(', ')}`);
          assert.equal(urlPort, port, url);
        }
        const forwarded = [...doc.text().matchAll(/port-forward svc\/([a-z0-9-]+) (\d+):(\d+)/g)];
        for (const [text, forwardedName, , servicePort] of forwarded) assert.deepEqual([forwardedName, servicePort], [name, port], text);
        for (const [text, localPort] of doc.text().matchAll(/localhost:(\d+)/g)) assert.ok(forwarded.some((f) => f[2] === localPort), `${text} is a forwarded port`);
        for (const [text, deployment] of doc.text().matchAll(/deployment\/([a-z0-9-]+)/g)) assert.equal(deployment, only(objects, 'Deployment').metadata.name, text);
      });
    });
  }
});
