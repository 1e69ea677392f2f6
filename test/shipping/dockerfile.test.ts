import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { apiDocument, root } from '../component/harness.js';
import { imageEnv, repositoryDockerfile, type Stage } from './dockerfile.js';

/** A COPY's flags (`--from=build` → from: build) and its sources (every word but the flags and the last). */
function copyParts(args: string): { flags: Record<string, string>; sources: string[] } {
  const words = args.split(/\s+/);
  const flags = Object.fromEntries(words.filter((w) => w.startsWith('--')).map((w) => w.slice(2).split('=') as [string, string]));
  const paths = words.filter((w) => !w.startsWith('--'));
  return { flags, sources: paths.slice(0, -1) };
}

describe('the Dockerfile', () => {
  const all = repositoryDockerfile();
  const build = all[0]!;
  const final = all.at(-1)!;
  const of = (stage: Stage, keyword: string) => stage.instructions.filter((instruction) => instruction.keyword === keyword);
  const runs = (stage: Stage) => of(stage, 'RUN').map((i) => i.args).join('\n');

  it('when read, builds in one stage and runs from another, both on a current Node LTS image', () => {
    assert.ok(all.length >= 2, 'multi-stage');
    for (const stage of all) assert.match(stage.image, /^node:(22|24)[-.]/);
    assert.match(final.image, /-slim$/, 'the runtime stage is the slim image');
  });

  it('when built, the build stage installs from the lock file, compiles, then drops dev dependencies', () => {
    const commands = runs(build);
    const order = ['npm ci', 'npm run build:service', 'npm prune --omit=dev'].map((command) => commands.indexOf(command));
    assert.ok(order.every((at) => at >= 0), `npm ci, npm run build:service and npm prune --omit=dev in: ${commands}`);
    assert.deepEqual([...order].sort((a, b) => a - b), order, 'in that order');
  });

  it('when run, the final stage is a numeric non-root user with tini as PID 1 starting node, in exec form', () => {
    const user = of(final, 'USER').at(-1)?.args ?? '';
    assert.match(user, /^[1-9]\d*(:\d+)?$/, `USER ${user}`);
    // Node as PID 1 never reaps what a job's processes leave behind (orphans are handed to PID 1): tini does.
    assert.deepEqual(JSON.parse(of(final, 'ENTRYPOINT').at(-1)!.args), ['/usr/bin/tini', '--', 'node', 'dist/main.js']);
    assert.match(runs(final), /apt-get install -y --no-install-recommends tini/, 'the final stage installs tini');
    assert.equal(of(final, 'CMD').length, 0, 'no CMD to be mistaken for arguments');
    assert.ok(of(final, 'ENV').some((i) => /JOB_SCHEDULER_HOST=0\.0\.0\.0/.test(i.args)), 'listens beyond loopback');
    assert.ok(of(final, 'ENV').some((i) => /NODE_ENV=production/.test(i.args)));
  });

  it('when run with a component whose schedulerPort is 9000, the service listens on 9000; EXPOSE documents the default 8080', () => {
    const componentYaml = 'name: etl\nschedulerPort: 9000\nimage: registry.example.com/etl:1.0\n';
    const env = { ...imageEnv(final), JOB_SCHEDULER_RUNTIME: 'kubernetes' };
    const config = loadConfig({ env, componentYaml, componentPath: 'component.yaml', apiDocument, cpus: 1 });
    assert.equal(config.port, 9000, `the image's environment decides the port: ${JSON.stringify(imageEnv(final))}`);
    assert.equal(config.host, '0.0.0.0');
    assert.deepEqual(of(final, 'EXPOSE').map((i) => i.args), ['8080'], 'the port of a component without schedulerPort');
  });

  it('when shipped, the final stage holds only the pruned build output, the API document and package.json', () => {
    const allowed = new Set(['/app/dist', '/app/api', '/app/node_modules', '/app/package.json']);
    const copies = of(final, 'COPY').concat(of(final, 'ADD')).map((i) => copyParts(i.args));
    assert.ok(copies.length > 0);
    for (const { flags, sources } of copies) {
      assert.equal(flags.from, build.name, 'copied from the build stage, not from the build context');
      for (const source of sources) assert.ok(allowed.has(source.replace(/\/$/, '')), `the final stage copies ${source}`);
    }
    const copied = new Set(copies.flatMap((c) => c.sources));
    for (const needed of ['/app/dist', '/app/api', '/app/node_modules']) assert.ok(copied.has(needed), `${needed} (main.js reads ../api/openapi.yaml at run time)`);
    assert.doesNotMatch(runs(final), /npm (ci|install|i)\b/, 'no dependency install in the final stage');
  });

  it('when the build context is sent, local dependencies, build output, data and git are left out', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split(/\r?\n/).map((line) => line.trim().replace(/\/$/, ''));
    for (const entry of ['node_modules', 'dist', '.git', '.data']) assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
  });
});
