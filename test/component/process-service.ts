import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import supertest from 'supertest';
import { isRunning } from '../../src/runtimes/local/processes.js';
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


/**
 * A temporary folder holding a component file and the service's data, and every service process started on
 * it. `cleanUp` kills what is left (the services and any job process group they marked) and removes the folder.
 */
export class ProcessServiceFixture {
  readonly dir: string;
  private readonly children: ChildProcess[] = [];

  constructor(name: string, component: object) {
    this.dir = mkdtempSync(path.join(tmpdir(), `job-scheduler-${name}-`));
    writeFileSync(path.join(this.dir, 'component.yaml'), JSON.stringify(component));
  }

  async start(env: Record<string, string> = {}): ReturnType<typeof startProcessService> {
    const service = await startProcessService(this.dir, env);
    this.children.push(service.child);
    return service;
  }

  /**
   * The live job processes this fixture's services started: the fixture job writes its pid beside its payload,
   * and a pid counts only while its environment still names a payload folder of this fixture (pids are reused).
   * Nothing else on the machine is looked at.
   */
  ownJobProcesses(): number[] {
    const jobs = path.join(this.dir, 'data', 'jobs');
    if (!existsSync(jobs)) return [];
    const mine = `PAYLOAD_PATH=${jobs}${path.sep}`;
    const pids: number[] = [];
    for (const job of readdirSync(jobs)) {
      let text = '';
      try {
        text = readFileSync(path.join(jobs, job, 'pids'), 'utf8');
      } catch {
        continue;
      }
      for (const pid of text.split('\n').filter(Boolean).map(Number)) {
        try {
          if (isRunning(pid) && readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((entry) => entry.startsWith(mine))) pids.push(pid);
        } catch {
          // Gone meanwhile.
        }
      }
    }
    return pids;
  }

  cleanUp(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // Each job process leads its own group (the runtime starts it detached).
    for (const pid of this.ownJobProcesses()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
