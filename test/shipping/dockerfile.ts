import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from '../component/harness.js';

/** One Dockerfile instruction: its keyword in upper case and the rest of the line. */
export interface Instruction {
  keyword: string;
  args: string;
}

/** One `FROM` and what follows it up to the next. */
export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile stages (continuation lines joined, comments and parser directives dropped). */
export function stages(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const result: Stage[] = [];
  for (const line of lines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const words = rest.filter((word) => !word.startsWith('--'));
      result.push({ image: words[0]!, name: words[1]?.toUpperCase() === 'AS' ? words[2] : undefined, instructions: [] });
    }
    assert.ok(result.length > 0, `${instruction.keyword} before the first FROM`);
    result.at(-1)!.instructions.push(instruction);
  }
  return result;
}

/** The stages of the repository's Dockerfile. */
export function repositoryDockerfile(): Stage[] {
  return stages(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
}

/** The environment the image gives the service: every `ENV key=value` of the final stage (unquoted values only). */
export function imageEnv(stage: Stage = repositoryDockerfile().at(-1)!): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const word of args.split(/\s+/)) {
      const at = word.indexOf('=');
      assert.ok(at > 0 && !/["']/.test(word), `ENV ${args}: only key=value words without quotes are understood here`);
      env[word.slice(0, at)] = word.slice(at + 1);
    }
  }
  return env;
}
