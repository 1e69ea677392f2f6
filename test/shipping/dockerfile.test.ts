import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from '../component/harness.js';

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions (continuation lines joined, comments dropped), split into stages. */
function stages(text: string): Instruction[][] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const result: Instruction[][] = [];
  for (const line of lines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') result.push([]);
    result.at(-1)?.push(instruction);
  }
  return result;
}

describe('the Dockerfile', () => {
  const all = stages(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const final = all.at(-1)!;
  const of = (keyword: string) => final.filter((instruction) => instruction.keyword === keyword);

  it('when read, builds in one stage and runs from another, on a current Node LTS image', () => {
    assert.ok(all.length >= 2);
    for (const stage of all) assert.match(stage[0]!.args, /^node:(22|24)[-.]/);
    assert.ok(all[0]!.some((i) => i.keyword === 'RUN' && i.args.includes('npm ci')));
    assert.ok(all[0]!.some((i) => i.keyword === 'RUN' && i.args.includes('npm prune --omit=dev')));
  });

  it('when run, the final stage is a numeric non-root user with node as the entrypoint', () => {
    const user = of('USER').at(-1)?.args ?? '';
    assert.match(user, /^[1-9]\d*(:\d+)?$/);
    assert.deepEqual(JSON.parse(of('ENTRYPOINT').at(-1)!.args), ['node', 'dist/main.js']);
  });

  it('when shipped, the final stage holds the build output and the API document, not sources or tests', () => {
    const copied = of('COPY').map((i) => i.args);
    assert.ok(copied.some((args) => args.includes('/app/dist')));
    assert.ok(copied.some((args) => args.includes('/app/api')), 'main.js reads api/openapi.yaml at run time');
    assert.ok(!copied.some((args) => /\bsrc\b|\btest\b|tsconfig/.test(args)));
  });
});
