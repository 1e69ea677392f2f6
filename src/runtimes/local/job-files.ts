import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDns1123Label } from '../../core/naming.js';

/**
 * Each job's private directory under the data directory: its payload file (mode 0600) and one
 * log file per attempt. Names are checked before they become paths.
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

  /** Creates the job's directory and writes its payload afresh; answers the directory. */
  preparePayload(jobName: string, payload: string): string {
    const dir = this.dirOf(jobName);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, 'payload'), payload, { mode: 0o600 });
    return dir;
  }

  /** Where the output of a job's attempt (counted from 0) is kept. */
  logPath(jobName: string, attempt: number): string {
    return path.join(this.dirOf(jobName), `attempt-${attempt}.log`);
  }

  openLog(jobName: string, attempt: number): number {
    return openSync(this.logPath(jobName, attempt), 'a', 0o600);
  }

  closeLog(fd: number): void {
    closeSync(fd);
  }

  remove(jobName: string): void {
    rmSync(this.dirOf(jobName), { recursive: true, force: true });
  }
}
