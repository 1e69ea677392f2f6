// The bench starts the service with package.json's `start` script itself (its build step left out, the bench
// builds once), so that the service measured has what users' starts give it: the settings the script sets
// (GLIBC_TUNABLES for malloc, issue 14) and no other. Node's own options (the memory rows' GC hook, a profile)
// are passed to `node`, and `exec` makes the service the process the bench signals and measures.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const BUILD = 'npm run build:service && ';
const NODE = 'node dist/main.js';

/** The start script as `sh -c` runs it; read once. */
let script: string | undefined;

/** The `start` script of the package at `root`, with its build step left out: `NAME=value … node dist/main.js`. */
export function startScript(root: string): string {
  if (script !== undefined) return script;
  const start = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';
  if (!start.startsWith(BUILD) || !start.endsWith(` ${NODE}`)) throw new Error(`a start script the bench does not know: ${start}`);
  script = start.slice(BUILD.length);
  return script;
}

/**
 * The program and arguments that start the service as `npm start` does once built: the script's settings,
 * then `exec node <execArgv> dist/main.js` (the options are passed as arguments of `sh`, never spliced in).
 */
export function startCommand(root: string, execArgv: readonly string[]): { file: string; args: string[] } {
  const settings = startScript(root).slice(0, -NODE.length);
  return { file: 'sh', args: ['-c', `${settings}exec node "$@" dist/main.js`, 'sh', ...execArgv] };
}
