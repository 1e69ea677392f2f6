import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from '../component/harness.js';

/** The start script with its build step dropped and the service replaced by a program that prints its config. */
function startScriptConfig(env: NodeJS.ProcessEnv): string {
  const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const start = scripts.start ?? '';
  // It builds the service (and its ops page) first; the client and CLI packages are not needed to run it.
  const build = 'npm run build:service && ';
  assert.ok(start.startsWith(build) && start.endsWith(' node dist/main.js'), `a start script this test knows: ${start}`);
  const command = start.slice(build.length).replace(/node dist\/main\.js$/, 'node -p process.env.JOB_SCHEDULER_CONFIG');
  return execFileSync('sh', ['-c', command], { cwd: root, env, encoding: 'utf8' }).trim();
}

describe('npm start', () => {
  it('when JOB_SCHEDULER_CONFIG is set, serves that component file', () => {
    assert.equal(startScriptConfig({ PATH: process.env.PATH, JOB_SCHEDULER_CONFIG: 'my-component.yaml' }), 'my-component.yaml');
  });

  it('when JOB_SCHEDULER_CONFIG is not set, serves the example', () => {
    assert.equal(startScriptConfig({ PATH: process.env.PATH }), 'examples/compute/component.yaml');
  });
});
