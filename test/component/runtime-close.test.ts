import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from './harness.js';

/** A process that closed its runtime must be able to end by itself: nothing the runtime armed may outlive `close`. */
describe('the local runtime once closed', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-close-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when it closes while a job\'s start is being written, the start is on disk and the process ends on its own (no deadline timer is left armed)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/fixtures/close-while-starting.ts'), dir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const printed = new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('\n') && resolve()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await printed;
    assert.equal(out.trim(), 'Active', 'the start was written before the runtime closed');
    // The fixture has printed and has nothing left to do: a process left alive is a timer the runtime armed after closing.
    const ended = await Promise.race([exited, new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 20_000))]);
    if (ended === 'alive') child.kill('SIGKILL');
    assert.equal(ended, 0);
  });
});
