import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const apiDocument = parseYaml(readFileSync(path.join(root, 'api/openapi.yaml'), 'utf8')) as object;

type TokenFile = { text: string } | { error: string };

function load(componentYaml: string, env: Record<string, string> = {}, apiTokenFile?: TokenFile) {
  return loadConfig({ env, componentYaml, componentPath: 'component.yaml', apiDocument, cpus: 3, apiTokenFile });
}

function problemsOf(componentYaml: string, env: Record<string, string> = {}, apiTokenFile?: TokenFile): string[] {
  try {
    load(componentYaml, env, apiTokenFile);
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

  it('when a field is misspelt, it is not a known field, with the close name of its level, as the API says it', () => {
    assert.deepEqual(problemsOf('name: compute\ncommand: [node]\npaylod: {path: /x}\n'), ['component.yaml: paylod is not a known field (did you mean payload?)']);
    assert.deepEqual(problemsOf('name: compute\ncommand: [node]\nresources: {limit: {}}\n'), ['component.yaml: resources.limit is not a known field (did you mean limits?)']);
    assert.deepEqual(problemsOf('name: compute\ncommand: [node]\nsomethingElse: 1\n'), ['component.yaml: somethingElse is not a known field']);
  });

  it('when the schema holds but names or variables are bad, each is named', () => {
    const text = problemsOf('name: Compute_1\ncommand: [node]\nvariables: {JOB_NAME: x, "1BAD": y}\n').join('\n');
    assert.match(text, /name /);
    assert.match(text, /variables\.JOB_NAME/);
    assert.match(text, /variables\.1BAD/);
  });

  it('when the file is not YAML, or the local runtime has no command, says so', () => {
    const yaml = problemsOf('name: compute\ncommand: ["node", "job.js"\ntimeLimitSeconds: 3\n').join('\n');
    assert.match(yaml, /not valid YAML: .* at line 3, column 1:\n\ncommand: \["node", "job\.js"\ntimeLimitSeconds: 3\n\^/, 'the code frame under the message is kept');
    assert.match(problemsOf('name: compute\n').join('\n'), /command is required/);
  });

  it('when allowOverrides is given, it is read; unknown names, and loaderVariables without variables, are named', () => {
    assert.deepEqual(load('name: compute\ncommand: [node]\nallowOverrides: [payload, command]\n').component.allowOverrides, ['payload', 'command']);
    assert.match(problemsOf('name: compute\ncommand: [node]\nallowOverrides: [payload, shell]\n').join('\n'), /allowOverrides/);
    assert.match(problemsOf('name: compute\ncommand: [node]\nallowOverrides: [loaderVariables]\n').join('\n'), /loaderVariables but not variables/);
  });

  it('when the component file itself sets loader variables, the owner may: they are taken', () => {
    const config = load('name: compute\ncommand: [node]\nvariables: {NODE_OPTIONS: --max-old-space-size=512, LD_LIBRARY_PATH: /opt/lib, PATH: /opt/bin}\n');
    assert.equal(config.component.variables?.NODE_OPTIONS, '--max-old-space-size=512');
  });

  it('when limits are set, they are read; a batch bound above the tracked bound, or a component over them, is named', () => {
    const config = load('name: compute\ncommand: [node]\n', { JOB_SCHEDULER_MAX_BATCH_JOBS: '50', JOB_SCHEDULER_MAX_TRACKED_JOBS: '500', JOB_SCHEDULER_REQUEST_TIMEOUT_SECONDS: '5' });
    assert.deepEqual([config.limits.maxBatchJobs, config.limits.maxTrackedJobs, config.requestTimeoutSeconds], [50, 500, 5]);
    assert.equal(load('name: compute\ncommand: [node]\n').limits.maxBatchJobs, 10_000);
    assert.match(problemsOf('name: compute\ncommand: [node]\n', { JOB_SCHEDULER_MAX_BATCH_JOBS: '600', JOB_SCHEDULER_MAX_TRACKED_JOBS: '500' }).join('\n'), /cannot be above/);
    assert.match(problemsOf('name: compute\ncommand: [node]\n', { JOB_SCHEDULER_MAX_VARIABLE_BYTES: '131073' }).join('\n'), /JOB_SCHEDULER_MAX_VARIABLE_BYTES must be/);
    assert.match(problemsOf('name: compute\ncommand: [node]\nvariables: {A: "123456789012345678901234567890"}\n', { JOB_SCHEDULER_MAX_VARIABLE_BYTES: '16' }).join('\n'), /variables\.A is 33 bytes/);
  });

  describe('the API token', () => {
    const yaml = 'name: compute\ncommand: [node]\n';
    it('when JOB_SCHEDULER_API_TOKEN is set, it is the token, trimmed', () => {
      assert.equal(load(yaml, { JOB_SCHEDULER_API_TOKEN: ' abc \n' }).apiToken, 'abc');
      assert.equal(load(yaml).apiToken, undefined);
    });
    it('when the token file holds a token and a newline, it is the token', () => {
      assert.equal(load(yaml, { JOB_SCHEDULER_API_TOKEN_FILE: '/run/token' }, { text: 'from-file\n' }).apiToken, 'from-file');
    });
    const refused: Array<[string, Record<string, string>, TokenFile | undefined, RegExp]> = [
      ['the variable is empty', { JOB_SCHEDULER_API_TOKEN: '' }, undefined, /JOB_SCHEDULER_API_TOKEN is set but blank/],
      ['the variable is spaces', { JOB_SCHEDULER_API_TOKEN: ' \t ' }, undefined, /JOB_SCHEDULER_API_TOKEN is set but blank/],
      ['the file is empty', { JOB_SCHEDULER_API_TOKEN_FILE: '/run/token' }, { text: '' }, /JOB_SCHEDULER_API_TOKEN_FILE \(\/run\/token\) is set but blank/],
      ['the file is a newline', { JOB_SCHEDULER_API_TOKEN_FILE: '/run/token' }, { text: '\r\n' }, /is set but blank/],
      ['the file cannot be read', { JOB_SCHEDULER_API_TOKEN_FILE: '/run/token' }, { error: 'ENOENT' }, /cannot read the token file \(ENOENT\)/],
      ['the file variable is empty', { JOB_SCHEDULER_API_TOKEN_FILE: '' }, undefined, /cannot read the token file/],
      ['both are set', { JOB_SCHEDULER_API_TOKEN: 'a', JOB_SCHEDULER_API_TOKEN_FILE: '/run/token' }, { text: 'b' }, /not both/],
      ['the token has a space inside', { JOB_SCHEDULER_API_TOKEN: 'two words' }, undefined, /spaces or control characters/],
    ];
    for (const [when, env, file, message] of refused) {
      it(`when ${when}, start-up is refused with a message that never quotes the token`, () => {
        const text = problemsOf(yaml, env, file).join('\n');
        assert.match(text, message);
        assert.equal(text.includes('two words'), false);
      });
    }
  });
});
