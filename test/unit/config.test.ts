import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const apiDocument = parseYaml(readFileSync(path.join(root, 'api/openapi.yaml'), 'utf8')) as object;

function load(componentYaml: string, env: Record<string, string> = {}) {
  return loadConfig({ env, componentYaml, componentPath: 'component.yaml', apiDocument, cpus: 3 });
}

function problemsOf(componentYaml: string, env: Record<string, string> = {}): string[] {
  try {
    load(componentYaml, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('when the example component is read, uses its port and the defaults', () => {
    const config = load(readFileSync(path.join(root, 'examples/compute/component.yaml'), 'utf8'));
    assert.equal(config.component.name, 'compute');
    assert.equal(config.port, 8000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.runtime, 'local');
    assert.equal(config.maxRunning, 3);
  });

  it('when environment variables are set, they win over the file and the defaults', () => {
    const config = load('name: compute\ncommand: [node, job.js]\nschedulerPort: 8000\n', {
      JOB_SCHEDULER_PORT: '9100',
      JOB_SCHEDULER_MAX_RUNNING: '7',
      JOB_SCHEDULER_DATA_DIR: '/tmp/x',
      JOB_SCHEDULER_LOG_LEVEL: 'debug',
    });
    assert.equal(config.port, 9100);
    assert.equal(config.maxRunning, 7);
    assert.equal(config.local.dataDir, '/tmp/x');
    assert.equal(config.logLevel, 'debug');
  });

  it('when several fields are bad, one error names every one of them', () => {
    const problems = problemsOf(
      'name: Compute_1\ncommand: [node]\ntimeLimitSeconds: 0\nbackoffLimit: lots\nvariables: {JOB_NAME: x, "1BAD": y}\ncolour: blue\n',
      { JOB_SCHEDULER_PORT: 'eighty', JOB_SCHEDULER_RUNTIME: 'cloud' },
    );
    const text = problems.join('\n');
    for (const field of ['timeLimitSeconds', 'backoffLimit', 'colour', 'JOB_SCHEDULER_PORT', 'JOB_SCHEDULER_RUNTIME']) {
      assert.match(text, new RegExp(field), `expected a problem naming ${field} in:\n${text}`);
    }
  });

  it('when the schema holds but names or variables are bad, each is named', () => {
    const text = problemsOf('name: Compute_1\ncommand: [node]\nvariables: {JOB_NAME: x, "1BAD": y}\n').join('\n');
    assert.match(text, /name /);
    assert.match(text, /variables\.JOB_NAME/);
    assert.match(text, /variables\.1BAD/);
  });

  it('when the file is not YAML, or the local runtime has no command, says so', () => {
    assert.match(problemsOf('name: [unclosed').join('\n'), /not valid YAML/);
    assert.match(problemsOf('name: compute\n').join('\n'), /command is required/);
  });
});
