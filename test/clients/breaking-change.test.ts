import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import { root } from '../component/harness.js';
import { type BreakingChange, breakingChanges } from './fixtures/breaking-openapi.js';

const run = promisify(execFile);

/**
 * The client's and the CLI's sources in a temp folder, their types generated (as the build does, by
 * openapi-typescript) from `document`, then type-checked with the repository's compiler options.
 */
async function typecheckAgainst(document: object): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-api-change-'));
  try {
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    const filter = (source: string) => !source.includes(`${path.sep}generated`) && !source.endsWith(`${path.sep}node_modules`);
    cpSync(path.join(root, 'packages/client/src'), path.join(dir, 'client/src'), { recursive: true, filter });
    cpSync(path.join(root, 'packages/cli/src'), path.join(dir, 'cli/src'), { recursive: true, filter });
    // The CLI's own dependencies (commander 14) sit beside it, as npm installs them.
    const cliModules = path.join(root, 'packages/cli/node_modules');
    if (existsSync(cliModules)) symlinkSync(cliModules, path.join(dir, 'cli/node_modules'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    writeFileSync(path.join(dir, 'openapi.yaml'), stringify(document));
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      extends: path.join(root, 'tsconfig.json'),
      compilerOptions: { rootDir: '.', noEmit: true, paths: { '@job-scheduler/client': ['./client/src/index.ts'] } },
      include: ['client/src', 'cli/src'],
    }));
    await run(process.execPath, [path.join(root, 'node_modules/openapi-typescript/bin/cli.js'), 'openapi.yaml', '--output', 'client/src/generated/api.ts'], { cwd: dir });
    try {
      const { stdout } = await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir });
      return { ok: true, output: stdout };
    } catch (error) {
      return { ok: false, output: (error as { stdout: string }).stdout };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the typed client follows api/openapi.yaml', function () {
  const document = () => parseYaml(readFileSync(path.join(root, 'api/openapi.yaml'), 'utf8')) as Parameters<BreakingChange['apply']>[0];
  let unchanged: { ok: boolean; output: string };
  let broken: { ok: boolean; output: string };

  // Both checks at once (each is a whole tsc run); the breaking changes share one changed copy.
  before(async function () {
    // Two whole tsc runs on a machine others share: a bound, not a measure.
    this.timeout(180_000);
    const changed = document();
    for (const change of breakingChanges) change.apply(changed);
    [unchanged, broken] = await Promise.all([typecheckAgainst(document()), typecheckAgainst(changed)]);
  });

  it('when its types are generated from the document as it is, the client and the CLI type-check', () => {
    assert.deepEqual(unchanged, { ok: true, output: '' });
  });

  for (const change of breakingChanges) {
    it(`when the document breaks it (${change.name}), the type check fails naming the field`, () => {
      assert.equal(broken.ok, false, 'the type check fails');
      assert.match(broken.output, change.expected);
    });
  }
});
