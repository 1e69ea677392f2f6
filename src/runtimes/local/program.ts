import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Why the component's program cannot be run, or undefined when it can. It is looked up as spawn does:
 * a name with a `/` relative to `workDir` (the component file's folder), a bare name on `PATH`.
 * Checked at start so that a typo stops the service instead of failing every job.
 */
export function programProblem(program: string, workDir: string, searchPath: string | undefined): string | undefined {
  if (program.includes('/')) {
    const file = path.resolve(workDir, program);
    const problem = fileProblem(file);
    return problem && `the program ${program} ${problem} (looked for ${file}, relative to the component file's folder)`;
  }
  const folders = (searchPath ?? '').split(path.delimiter).map((folder) => folder || workDir);
  for (const folder of folders) if (fileProblem(path.join(folder, program)) === undefined) return undefined;
  return `the program ${program} is not on PATH (${searchPath ?? 'not set'}): give an absolute path, one relative to the component file's folder, or install it`;
}

function fileProblem(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return 'is not a file';
    accessSync(file, constants.X_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EACCES' ? 'is not executable' : 'does not exist';
  }
}
