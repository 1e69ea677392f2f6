import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { aJob, jobOutput, root, startTestService, type TestService, waitForJobEnd } from './harness.js';
import { rawRequest } from './raw-http.js';

function fieldsOf(body: { details?: { fields: Array<{ path: string }> } }): string[] {
  return (body.details?.fields ?? []).map((field) => field.path);
}

describe('trust model: what a client may override (local runtime)', function () {
  let t: TestService;
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'job-scheduler-trust-'));
  });
  afterEach(async () => {
    await t?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('when a client posts a command of its own, answers 422 naming command and how the owner allows it, and runs nothing', async () => {
    t = await startTestService();
    const owned = path.join(scratch, 'owned.txt');
    const refused = await t.request.post('/api/v1/jobs').send({ command: ['/bin/sh', '-c', `id > ${owned}`] }).expect(422);
    assert.equal(refused.body.reason, 'Invalid');
    assert.deepEqual(fieldsOf(refused.body), ['command']);
    assert.match(refused.body.message, /command cannot be set by a client: the component does not allow overriding command; .*add command to an allowOverrides list/);
    assert.deepEqual((await t.request.get('/api/v1/jobs').expect(200)).body, []);
    assert.equal(existsSync(owned), false);
  });

  it('when a batch default or a job of a batch sets command, args or image, answers 422 naming each and records nothing', async () => {
    t = await startTestService();
    const owned = path.join(scratch, 'owned.txt');
    const byDefault = await t.request.post('/api/v1/batches')
      .send({ defaultRadixJobComponentConfig: { command: ['/bin/sh', '-c', `id > ${owned}`] }, jobScheduleDescriptions: [{}] }).expect(422);
    assert.deepEqual(fieldsOf(byDefault.body), ['defaultRadixJobComponentConfig.command']);
    const byJob = await t.request.post('/api/v1/batches')
      .send({ jobScheduleDescriptions: [{}, { args: ['-e', 'x'] }, { image: 'evil:latest' }] }).expect(422);
    assert.deepEqual(fieldsOf(byJob.body), ['jobScheduleDescriptions[1].args', 'jobScheduleDescriptions[2].image']);
    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
    assert.equal(existsSync(owned), false);
  });

  it('when a client sets LD_PRELOAD, NODE_OPTIONS or PATH, answers 422 naming the variable; other variables are taken', async () => {
    t = await startTestService();
    for (const name of ['LD_PRELOAD', 'NODE_OPTIONS', 'PATH']) {
      const refused = await t.request.post('/api/v1/jobs').send({ variables: { SAFE: '1', [name]: '/tmp/x' } }).expect(422);
      assert.deepEqual(fieldsOf(refused.body), [`variables.${name}`]);
      assert.match(refused.body.message, /changes how the job's program is loaded.*add loaderVariables/);
    }
    const batch = await t.request.post('/api/v1/batches')
      .send({ defaultRadixJobComponentConfig: { variables: { LD_AUDIT: 'x' } }, jobScheduleDescriptions: [{ variables: { BASH_ENV: 'x' } }] }).expect(422);
    assert.deepEqual(fieldsOf(batch.body), ['defaultRadixJobComponentConfig.variables.LD_AUDIT', 'jobScheduleDescriptions[0].variables.BASH_ENV']);
    assert.deepEqual((await t.request.get('/api/v1/jobs').expect(200)).body, []);
    await t.request.post('/api/v1/jobs').send({ variables: { SAFE: '1' } }).expect(200);
  });

  it('when the component allows command, a client command runs; fields it does not list are refused', async () => {
    t = await startTestService({ component: { allowOverrides: ['command'] } });
    const made = path.join(scratch, 'made.txt');
    const created = await t.request.post('/api/v1/jobs').send({ command: ['/bin/sh', '-c', `echo ran > ${made}`] }).expect(200);
    assert.equal((await waitForJobEnd(t.request, created.body.name)).status, 'Succeeded');
    assert.equal(existsSync(made), true);
    const refused = await t.request.post('/api/v1/jobs').send({ payload: 'x' }).expect(422);
    assert.match(refused.body.message, /add payload to its allowOverrides list/);
  });

  it('when the component allows loaderVariables, a PATH set by a client reaches the job', async () => {
    t = await startTestService({ component: { allowOverrides: ['payload', 'variables', 'loaderVariables'] } });
    const created = await t.request.post('/api/v1/jobs').send(aJob({}, { variables: { PATH: '/opt/tools:/usr/bin' } })).expect(200);
    assert.equal((await waitForJobEnd(t.request, created.body.name)).status, 'Succeeded');
    const [, seen] = jobOutput(t.dataDir, created.body.name);
    assert.equal((seen?.env as Record<string, string>).PATH, '/opt/tools:/usr/bin');
  });
});

describe('input that should be refused', function () {
  let t: TestService;
  afterEach(async () => t?.close());

  it('when a POST carries a body without a Content-Type, or not JSON, answers 415 saying to send application/json, and starts nothing', async () => {
    t = await startTestService();
    const port = Number(new URL(t.request.get('/').url).port);
    const none = await rawRequest(port, { head: 'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 15', body: '{"payload":"x"}' });
    assert.equal(none.status, 415);
    assert.equal(none.json?.reason, 'UnsupportedMediaType');
    assert.match(String(none.json?.message), /send it with Content-Type: application\/json \(got no Content-Type\)/);
    const plain = await t.request.post('/api/v1/jobs').set('content-type', 'text/plain').send('{"payload":"x"}').expect(415);
    assert.match(plain.body.message, /Content-Type: application\/json \(got text\/plain\)/);
    const form = await t.request.post('/api/v1/batches').type('form').send({ payload: 'x' }).expect(415);
    assert.match(form.body.message, /application\/x-www-form-urlencoded/);
    assert.deepEqual((await t.request.get('/api/v1/jobs').expect(200)).body, []);
  });

  it('when the body is not valid UTF-8, answers 400 saying so instead of replacing bytes', async () => {
    t = await startTestService();
    const body = Buffer.concat([Buffer.from('{"payload":"'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('"}')]);
    const port = Number(new URL(t.request.get('/').url).port);
    const refused = await rawRequest(port, { head: `POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}`, body });
    assert.equal(refused.status, 400);
    assert.match(String(refused.json?.message), /not valid UTF-8/);
    assert.deepEqual((await t.request.get('/api/v1/jobs').expect(200)).body, []);
  });

  it('when a NUL is in jobId, batchId, imageTagName, node or variables, answers 422 naming the field; in a payload it is delivered', async () => {
    t = await startTestService();
    const job = await t.request.post('/api/v1/jobs').send({ jobId: 'a\u0000b' }).expect(422);
    assert.deepEqual(fieldsOf(job.body), ['jobId']);
    assert.match(job.body.message, /jobId cannot contain a NUL/);
    const batch = await t.request.post('/api/v1/batches').send({
      batchId: 'b\u0000',
      defaultRadixJobComponentConfig: { imageTagName: 'v\u00001' },
      jobScheduleDescriptions: [{ node: { gpu: 'x\u0000' } }, { variables: { V: '\u0000' } }],
    }).expect(422);
    assert.deepEqual(fieldsOf(batch.body).sort(), ['batchId', 'defaultRadixJobComponentConfig.imageTagName', 'jobScheduleDescriptions[0].node.gpu', 'jobScheduleDescriptions[1].variables.V'].sort());
    const control = await t.request.post('/api/v1/jobs').send({ jobId: 'line\nbreak' }).expect(422);
    assert.match(control.body.message, /jobId must be printable/);
    const payload = 'before\u0000after';
    const created = await t.request.post('/api/v1/jobs').send({ payload }).expect(200);
    await waitForJobEnd(t.request, created.body.name);
    assert.equal(jobOutput(t.dataDir, created.body.name)[0]?.length, Buffer.byteLength(payload));
  });

  it('when __proto__, constructor or prototype is a key anywhere in the body, answers 422 naming it instead of dropping it', async () => {
    t = await startTestService();
    const send = (text: string) => t.request.post(text.includes('jobScheduleDescriptions') ? '/api/v1/batches' : '/api/v1/jobs').set('content-type', 'application/json').send(text);
    const topLevel = await send('{"__proto__": {"payload": "x"}}').expect(422);
    assert.deepEqual(fieldsOf(topLevel.body), ['__proto__']);
    const inVariables = await send('{"variables": {"A": "1", "__proto__": "x"}}').expect(422);
    assert.deepEqual(fieldsOf(inVariables.body), ['variables.__proto__']);
    const escaped = await send('{"variables": {"\\u005f_proto__": {"polluted": "yes"}}}').expect(422);
    assert.deepEqual(fieldsOf(escaped.body), ['variables.__proto__']);
    const constructor = await send('{"variables": {"constructor": "x"}}').expect(422);
    assert.deepEqual(fieldsOf(constructor.body), ['variables.constructor']);
    const inBatch = await send('{"defaultRadixJobComponentConfig": {"variables": {"prototype": "x"}}, "jobScheduleDescriptions": [{"__proto__": {}}]}').expect(422);
    assert.deepEqual(fieldsOf(inBatch.body), ['defaultRadixJobComponentConfig.variables.prototype', 'jobScheduleDescriptions[0].__proto__']);
    assert.deepEqual((await t.request.get('/api/v1/jobs').expect(200)).body, []);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

interface MainRun {
  exitCode: number | null;
  stderr: string;
  lines: Array<Record<string, unknown>>;
  stdout: string;
}

/** Runs the real entry point until it exits or says it listens (then stops it with SIGTERM). */
async function runMain(env: Record<string, string>): Promise<MainRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-token-'));
  try {
    writeFileSync(path.join(dir, 'component.yaml'), JSON.stringify({ name: 'compute', command: ['/bin/true'] }));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH, JOB_SCHEDULER_CONFIG: path.join(dir, 'component.yaml'), JOB_SCHEDULER_DATA_DIR: path.join(dir, 'data'), JOB_SCHEDULER_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    const lines: Array<Record<string, unknown>> = [];
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      stdout += `${line}\n`;
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.message === 'listening') child.kill('SIGTERM');
    });
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { exitCode, stderr, lines, stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the API token at start-up (the real entry point)', function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-token-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const blank: Array<{ when: string; env: (dir: string) => Record<string, string>; names: RegExp }> = [
    { when: 'JOB_SCHEDULER_API_TOKEN is spaces', env: () => ({ JOB_SCHEDULER_API_TOKEN: '   ' }), names: /JOB_SCHEDULER_API_TOKEN is set but blank/ },
    { when: 'the token file holds only a newline', env: (d) => file(d, '\n'), names: /JOB_SCHEDULER_API_TOKEN_FILE .* is set but blank/ },
    { when: 'the token file is a folder', env: (d) => ({ JOB_SCHEDULER_API_TOKEN_FILE: folder(d) }), names: /cannot read the token file \(EISDIR\)/ },
  ];
  // The other blank and unreadable cases are in test/unit/config.test.ts (the same rule, without a process).
  for (const { when, env, names } of blank) {
    it(`when ${when}, refuses to start with a message naming it, and never listens`, async () => {
      const run = await runMain(env(dir));
      assert.notEqual(run.exitCode, 0);
      assert.match(run.stderr, names);
      assert.equal(run.lines.some((line) => line.message === 'listening'), false, 'it listened');
    });
  }

  it('when a token is set, the listening line says auth is bearer and no line holds the token; without one it says off', async () => {
    const token = 's3cret-token-value';
    const withToken = await runMain(file(dir, `${token}\n`));
    assert.equal(withToken.lines.find((line) => line.message === 'listening')?.auth, 'bearer');
    assert.equal(withToken.stdout.includes(token) || withToken.stderr.includes(token), false);
    const without = await runMain({});
    assert.equal(without.lines.find((line) => line.message === 'listening')?.auth, 'off');
  });
});

function file(dir: string, text: string): Record<string, string> {
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, text);
  return { JOB_SCHEDULER_API_TOKEN_FILE: tokenFile };
}

function folder(dir: string): string {
  const sub = path.join(dir, 'folder');
  mkdirSync(sub);
  return sub;
}
