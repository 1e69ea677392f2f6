import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root } from '../component/harness.js';

/** Where `npm run build` writes the ops page (the service serves it from there). */
export const builtPage = path.join(root, 'dist/ops');

/** Builds the page with the project's own script, so the tests serve what `npm run build` makes of the sources. */
export function buildOpsPage(): void {
  const result = spawnSync('npm', ['run', '--silent', 'build:ops'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build:ops failed (${result.status}): ${result.stdout}${result.stderr}`);
}
