import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from '../component/harness.js';

/**
 * A copy of what a fresh clone of this working tree would hold: the files git tracks or would track (as they
 * are on disk now), without what .gitignore leaves out (node_modules, dist, .data).
 */
export class FreshCopy {
  private constructor(readonly dir: string) {}

  static make(): FreshCopy {
    const dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-clone-'));
    const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
    for (const file of listed.split('\0').filter(Boolean)) {
      // A tracked file deleted in the working tree is not in a clone of what is being committed.
      if (existsSync(path.join(root, file))) cpSync(path.join(root, file), path.join(dir, file), { recursive: true });
    }
    return new FreshCopy(dir);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
