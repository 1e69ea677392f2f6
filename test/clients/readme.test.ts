import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from '../component/harness.js';
import { codeBlocks, section } from '../shipping/markdown.js';
import { assertBuilt, cliPath } from './cli-runner.js';
import { type ClientTestService, sharedService, TOKEN } from './service.js';

/** Names and times differ from run to run: masked, keeping their length so that columns still line up. */
function masked(text: string): string {
  return text
    .replace(/batch-compute-\d{14}(-[a-z0-9]{8}){1,2}/g, (name) => `batch-compute-${name.slice(14).replace(/[a-z0-9]/g, 'x')}`)
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, 'YYYY-MM-DDTHH:MM:SS.mmmZ');
}

/** Runs `command` with `args`, stdout and stderr together, as a reader of the README would see them. */
function run(command: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the README examples of the client and the CLI, run against the real service', function () {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  let service: ClientTestService;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    assertBuilt();
    service = await sharedService();
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-readme-'));
    env = { PATH: `${dir}:${process.env.PATH}`, JOB_SCHEDULER_URL: service.url, JOB_SCHEDULER_TOKEN: TOKEN };
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('when the "From code" program runs, it prints what the README shows', async () => {
    const text = section(readme, 'From code');
    const [program] = codeBlocks(text, 'ts');
    const [shown] = codeBlocks(text, '');
    // Run from the repository, where `@job-scheduler/client` resolves to the built workspace package.
    const result = await run(process.execPath, ['--input-type=module', '-e', program!], { cwd: root, env });
    assert.deepEqual(result, { code: 0, output: shown });
  });

  it('when the "From a terminal" commands run, they print what the README shows', async () => {
    const text = section(readme, 'From a terminal');
    const [commands] = codeBlocks(text, 'sh');
    const [shown] = codeBlocks(text, '');
    // The README's alias, as a file on the PATH (sh does not read aliases from the environment).
    const shim = path.join(dir, 'job-scheduler');
    writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
    chmodSync(shim, 0o755);
    const result = await run('sh', ['-c', `exec 2>&1\n${commands!}`], { cwd: dir, env });
    assert.equal(result.code, 0);
    assert.equal(masked(result.output), masked(shown!));
  });
});
