import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { guideEntry } from '../fixtures/radix-guide/entries.js';
import { root } from './harness.js';

describe('a pasted Radix jobs: entry, served', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-component-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when the guide\'s compute entry is the component file, the service starts and names src and ports as ignored in one info line', async () => {
    writeFileSync(path.join(dir, 'component.yaml'), guideEntry('compute') + `command: [node, ${JSON.stringify(path.join(root, 'test/fixtures/job.mjs'))}]\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
      cwd: root,
      // The default log level: the line must show where operators look.
      env: { PATH: process.env.PATH, JOB_SCHEDULER_CONFIG: path.join(dir, 'component.yaml'), JOB_SCHEDULER_DATA_DIR: path.join(dir, 'data'), JOB_SCHEDULER_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    const lines: Array<Record<string, unknown>> = [];
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as Record<string, unknown>;
          lines.push(entry);
          if (entry.message === 'listening') resolve();
        });
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const ignored = lines.filter((line) => line.ignored !== undefined);
    assert.equal(ignored.length, 1);
    assert.equal(ignored[0]!.level, 'info');
    assert.equal(ignored[0]!.ignored, 'src, ports');
  });
});
