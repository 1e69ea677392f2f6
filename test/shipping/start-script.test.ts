import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startCommand } from '../../bench/servers/start-command.js';
import { root } from '../component/harness.js';
import { imageEnv } from './dockerfile.js';

/** malloc gives back what it freed (issue 14): the setting `npm start`, the image and the bench start the service with. */
const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072';

/** The start script with its build step dropped and the service replaced by a program that prints one variable. */
function startScriptVariable(env: NodeJS.ProcessEnv, name = 'JOB_SCHEDULER_CONFIG'): string {
  const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const start = scripts.start ?? '';
  // It builds the service (and its ops page) first; the client and CLI packages are not needed to run it.
  const build = 'npm run build:service && ';
  assert.ok(start.startsWith(build) && start.endsWith(' node dist/main.js'), `a start script this test knows: ${start}`);
  const command = start.slice(build.length).replace(/node dist\/main\.js$/, `node -p process.env.${name}`);
  return execFileSync('sh', ['-c', command], { cwd: root, env, encoding: 'utf8' }).trim();
}

describe('npm start', () => {
  it('when JOB_SCHEDULER_CONFIG is set, serves that component file', () => {
    assert.equal(startScriptVariable({ PATH: process.env.PATH, JOB_SCHEDULER_CONFIG: 'my-component.yaml' }), 'my-component.yaml');
  });

  it('when JOB_SCHEDULER_CONFIG is not set, serves the example', () => {
    assert.equal(startScriptVariable({ PATH: process.env.PATH }), 'examples/compute/component.yaml');
  });

  it('when GLIBC_TUNABLES is not set, starts the service with malloc tuned to give back what it freed, as the image does', () => {
    assert.equal(startScriptVariable({ PATH: process.env.PATH }, 'GLIBC_TUNABLES'), MALLOC_TUNABLES);
    assert.equal(imageEnv().GLIBC_TUNABLES, MALLOC_TUNABLES, "the Dockerfile's ENV");
  });

  it('when GLIBC_TUNABLES is set, keeps the user\'s', () => {
    assert.equal(startScriptVariable({ PATH: process.env.PATH, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'GLIBC_TUNABLES'), 'glibc.malloc.arena_max=2');
  });

  it('when the bench starts the service, it runs the start script: its settings, node\'s options passed as they are', () => {
    // `node -p` prints instead of serving; dist/main.js is then only an argument.
    const options = ['-p', 'JSON.stringify([process.env.GLIBC_TUNABLES, process.env.JOB_SCHEDULER_CONFIG, process.argv.slice(1)])', '--', "it's $HOME"];
    const { file, args } = startCommand(root, options);
    const printed = JSON.parse(execFileSync(file, args, { cwd: root, env: { PATH: process.env.PATH, JOB_SCHEDULER_CONFIG: 'bench.yaml' }, encoding: 'utf8' })) as unknown;
    assert.deepEqual(printed, [MALLOC_TUNABLES, 'bench.yaml', ["it's $HOME", 'dist/main.js']]);
  });
});
