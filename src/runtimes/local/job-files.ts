import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isDns1123Label } from '../../core/naming.js';

/**
 * Each job's private directory under the data directory: its payload file (mode 0600) and one
 * log file per attempt, which the spawner creates. Names are checked before they become paths.
 */
export class JobFiles {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.resolve(dataDir, 'jobs');
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  dirOf(jobName: string): string {
    if (!isDns1123Label(jobName)) throw new Error(`refusing a job name that is not a DNS-1123 label: ${JSON.stringify(jobName)}`);
    return path.join(this.root, jobName);
  }

  /** Where the output of a job's attempt (counted from 0) is kept. */
  logPath(jobName: string, attempt: number): string {
    return path.join(this.dirOf(jobName), `attempt-${attempt}.log`);
  }

  remove(jobName: string): void {
    rmSync(this.dirOf(jobName), { recursive: true, force: true });
  }
}
