import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import supertest from 'supertest';
import { root } from './harness.js';

/** The service as a separate process (`node src/main.ts`), so the test can SIGKILL it. */
export async function startProcessService(dir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number; request: supertest.Agent }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      JOB_SCHEDULER_CONFIG: path.join(dir, 'component.yaml'),
      JOB_SCHEDULER_DATA_DIR: path.join(dir, 'data'),
      JOB_SCHEDULER_PORT: '0',
      JOB_SCHEDULER_MAX_RUNNING: '6',
      JOB_SCHEDULER_RETRY_DELAY_SECONDS: '0',
      JOB_SCHEDULER_KILL_GRACE_SECONDS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { message?: string; port?: number };
      if (entry.message === 'listening' && entry.port) resolve(entry.port);
    });
  });
  return { child, port, request: supertest.agent(`http://127.0.0.1:${port}`) };
}

