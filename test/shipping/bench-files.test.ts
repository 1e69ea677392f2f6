import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from '../component/harness.js';

// The bench forks its servers and baselines by file name, which neither the type check nor the linter sees: a
// renamed or removed server broke `npm run bench` only when that row was reached, minutes into a run.
describe('the bench', () => {
  const bench = path.join(root, 'bench');

  it('when a module forks a bench process by file name, that file exists', () => {
    const named: string[] = [];
    for (const file of readdirSync(bench).filter((name) => name.endsWith('.ts'))) {
      const text = readFileSync(path.join(bench, file), 'utf8');
      for (const match of text.matchAll(/'((?:servers|baselines)\/[\w.-]+\.(?:ts|mjs))'/g)) named.push(`${file}: ${match[1]}`);
    }
    assert.ok(named.length >= 5, `found the bench's process files (${named.length})`);
    const missing = named.filter((entry) => !existsSync(path.join(bench, entry.split(': ')[1]!)));
    assert.deepEqual(missing, []);
  });
});
