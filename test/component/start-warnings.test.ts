import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fixtureJob, root } from './harness.js';

/** Runs `src/main.ts` as the operator would, until it listens or exits; returns its log lines and exit code. */
async function startUntilListening(dir: string, env: Record<string, string>): Promise<{ lines: Array<Record<string, unknown>>; exitCode: number | null; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH, JOB_SCHEDULER_CONFIG: path.join(dir, 'component.yaml'), JOB_SCHEDULER_DATA_DIR: path.join(dir, 'data'), JOB_SCHEDULER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.message === 'listening') resolve(null);
    });
  });
  if (exitCode !== null) lines.push({ message: stderr });
  return { lines, exitCode, child };
}

describe('starting the service', function () {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-start-'));
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a JOB_SCHEDULER_ variable is misspelt, warns once at start naming it and the setting it likely meant', async () => {
    writeFileSync(path.join(dir, 'component.yaml'), JSON.stringify({ name: 'compute', command: [process.execPath, fixtureJob] }));
    const started = await startUntilListening(dir, { JOB_SCHEDULER_MAX_RUNING: '2', JOB_SCHEDULER_SOMETHING_ELSE: 'x' });
    child = started.child;
    assert.equal(started.exitCode, null, JSON.stringify(started.lines));
    const warnings = started.lines.filter((line) => line.level === 'warn').map((line) => line.message);
    assert.deepEqual(warnings.sort(), [
      'JOB_SCHEDULER_MAX_RUNING is not a setting of this service and is ignored: did you mean JOB_SCHEDULER_MAX_RUNNING?',
      'JOB_SCHEDULER_SOMETHING_ELSE is not a setting of this service and is ignored',
    ]);
  });

  const component = (command: string[]) => writeFileSync(path.join(dir, 'component.yaml'), JSON.stringify({ name: 'compute', command }));

  it('when the command\'s program does not exist relative to the component file\'s folder, refuses to start saying so', async () => {
    component(['./jobs/run.sh']);
    const started = await startUntilListening(dir, {});
    child = started.child;
    assert.equal(started.exitCode, 1);
    assert.equal(started.lines.at(-1)!.message, `job-scheduler: ${path.join(dir, 'component.yaml')}: command: the program ./jobs/run.sh does not exist (looked for ${path.join(dir, 'jobs/run.sh')}, relative to the component file's folder); no job could start\n`);
  });

  it('when the command\'s program is not on PATH, refuses to start saying so', async () => {
    component(['no-such-program-7f3a', 'x']);
    const started = await startUntilListening(dir, {});
    child = started.child;
    assert.equal(started.exitCode, 1);
    assert.match(String(started.lines.at(-1)!.message), /command: the program no-such-program-7f3a is not on PATH \(.*\): give an absolute path/);
  });

  it('when the command\'s program is relative to the component file\'s folder and executable, starts', async () => {
    writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\nexit 0\n');
    chmodSync(path.join(dir, 'run.sh'), 0o755);
    component(['./run.sh']);
    const started = await startUntilListening(dir, {});
    child = started.child;
    assert.equal(started.exitCode, null, JSON.stringify(started.lines));
  });
});
