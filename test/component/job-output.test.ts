import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { aJob, fixtureJob, root, startTestService, type TestService, waitFor, waitForJobEnd } from './harness.js';
import { ProcessServiceFixture } from './process-service.js';

const chattyJob = path.join(root, 'test/fixtures/chatty-job.mjs');
const MIB = 1024 * 1024;
const MARK = /^\[job-scheduler: (\d+) earlier bytes dropped\]\n/;

/** A job description whose payload drives test/fixtures/chatty-job.mjs. */
function aChattyJob(behaviour: Record<string, unknown>, settings: Record<string, unknown> = {}) {
  return { payload: JSON.stringify(behaviour), ...settings };
}

async function startChatty(options: { env?: Record<string, string>; component?: Record<string, unknown> } = {}): Promise<TestService> {
  return startTestService({ component: { command: [process.execPath, chattyJob], ...options.component }, env: options.env });
}

/** Reads a followed log as a raw stream: the chunks as they come, and a promise of the whole once the response ends. */
function follow(t: { request: TestService['request'] }, jobName: string): { chunks: string[]; ended: Promise<string>; status: Promise<number> } {
  const { port } = new URL(t.request.get('/').url);
  const chunks: string[] = [];
  let reportStatus: (code: number) => void = () => {};
  const status = new Promise<number>((resolve) => (reportStatus = resolve));
  const ended = new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: Number(port), path: `/api/v1/jobs/${jobName}/logs?follow=true` }, (res) => {
      reportStatus(res.statusCode ?? 0);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => chunks.push(chunk));
      res.on('end', () => resolve(chunks.join('')));
      res.on('error', reject);
    }).on('error', reject);
  });
  return { chunks, ended, status };
}

describe('a job\'s log, payload and settings through the API (local runtime)', function () {
  let t: TestService | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('when a job has run, answers each attempt\'s output, the latest by default, and its last lines with tail', async () => {
    t = await startChatty();
    const created = await t.request.post('/api/v1/jobs').send(aChattyJob({ lines: ['one', 'err:two', 'three'], exitCodes: [3, 0] }, { backoffLimit: 1 })).expect(200);
    const name = created.body.name as string;
    const ended = await waitForJobEnd(t.request, name);
    assert.equal(ended.status, 'Succeeded');
    const latest = await t.request.get(`/api/v1/jobs/${name}/logs`).expect(200).expect('content-type', /^text\/plain/);
    assert.equal(latest.text, 'attempt 1\none\nerr:two\nthree\n');
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs?attempt=0`).expect(200)).text, 'attempt 0\none\nerr:two\nthree\n');
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs?tail=2`).expect(200)).text, 'err:two\nthree\n');
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs?tail=0`).expect(200)).text, '');
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs?tail=100`).expect(200)).text, latest.text);
  });

  it('when the job, the attempt or the log does not exist, answers 404 saying which; a bad parameter is a 400', async () => {
    t = await startChatty({ env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const unknown = await t.request.get('/api/v1/jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb/logs').expect(404);
    assert.deepEqual(unknown.body, { status: 'Failure', message: 'job batch-compute-20260101000000-aaaaaaaa-bbbbbbbb not found', code: 404, reason: 'NotFound' });
    await t.request.get('/api/v1/jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb/settings').expect(404);
    await t.request.get('/api/v1/jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb/payload').expect(404);
    const holding = (await t.request.post('/api/v1/jobs').send(aChattyJob({ hold: true })).expect(200)).body.name as string;
    const waiting = (await t.request.post('/api/v1/jobs').send(aChattyJob({})).expect(200)).body.name as string;
    const notYet = await t.request.get(`/api/v1/jobs/${waiting}/logs`).expect(404);
    assert.equal(notYet.body.message, `job ${waiting} has no log yet: it has not started (status Waiting); try again once it runs`);
    await waitFor(() => t!.request.get(`/api/v1/jobs/${holding}/logs`), (r) => r.status === 200 && r.text.includes('attempt 0'));
    const noAttempt = await t.request.get(`/api/v1/jobs/${holding}/logs?attempt=1`).expect(404);
    assert.equal(noAttempt.body.message, `job ${holding} has no attempt 1: it has 1 (attempt 0)`);
    await t.request.get(`/api/v1/jobs/${holding}/logs?attempt=-1`).expect(400);
    await t.request.get(`/api/v1/jobs/${holding}/logs?tail=many`).expect(400);
    await t.request.get(`/api/v1/jobs/${holding}/logs?follow=maybe`).expect(400);
    await t.request.get(`/api/v1/jobs/${holding}/logs?lines=3`).expect(400);
  });

  it('when a running job is stopped, its output is kept after the stop and after it ended, until the job is deleted', async () => {
    t = await startChatty();
    const name = (await t.request.post('/api/v1/jobs').send(aChattyJob({ lines: ['working on it'], hold: true })).expect(200)).body.name as string;
    await waitFor(() => t!.request.get(`/api/v1/jobs/${name}/logs`), (r) => r.status === 200 && r.text.includes('working on it'));
    await t.request.post(`/api/v1/jobs/${name}/stop`).expect(200);
    assert.equal((await waitForJobEnd(t.request, name)).status, 'Stopped');
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs`).expect(200)).text, 'attempt 0\nworking on it\n');
    await t.request.delete(`/api/v1/jobs/${name}`).expect(200);
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs`).expect(404)).body.message, `job ${name} not found`);
    assert.equal(existsSync(path.join(t.dataDir, 'jobs', name)), false, 'the job\'s files are gone with it');
  });

  it('when a job writes more than the default cap (10 MiB), the newest 10 MiB are kept behind a truncation mark, while it runs and after', async () => {
    t = await startChatty();
    const name = (await t.request.post('/api/v1/jobs').send(aChattyJob({ bytes: 24 * MIB, lines: [], hold: true, after: ['the end'] })).expect(200)).body.name as string;
    const dir = path.join(t.dataDir, 'jobs', name);
    const file = path.join(dir, 'attempt-0.log');
    await waitFor(async () => (existsSync(file) ? statSync(file).size : 0), (size) => size >= 24 * MIB);
    // While it runs, the older part of the file is freed on disk (the newest 10 MiB and a bounded slack stay).
    await waitFor(async () => statSync(file).blocks * 512, (used) => used <= 10 * MIB + 2.5 * MIB + 64 * 1024);
    const running = await t.request.get(`/api/v1/jobs/${name}/logs`).buffer(true).expect(200);
    const mark = MARK.exec(running.text);
    assert.ok(mark, `starts with the truncation mark: ${running.text.slice(0, 80)}`);
    const size = statSync(file).size;
    assert.equal(Number(mark[1]), size - 10 * MIB);
    assert.equal(Buffer.byteLength(running.text) - mark[0].length, 10 * MIB);
    assert.match(running.text, /line \d{10} x+\n$/, 'ends with the newest line written');
    writeFileSync(path.join(dir, 'release'), '');
    assert.equal((await waitForJobEnd(t.request, name)).status, 'Succeeded');
    const ended = await t.request.get(`/api/v1/jobs/${name}/logs`).buffer(true).expect(200);
    const endedMark = MARK.exec(ended.text);
    assert.ok(endedMark);
    assert.equal(Buffer.byteLength(ended.text) - endedMark[0].length, 10 * MIB);
    assert.ok(ended.text.endsWith('\nthe end\n'));
    // The file itself is now the mark and the newest 10 MiB.
    assert.ok(statSync(file).size <= 10 * MIB + 64, `compacted: ${statSync(file).size}`);
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs?tail=1`).expect(200)).text, 'the end\n');
  });

  it('when a smaller cap is configured, a log over it keeps its newest bytes, and tail reaches back to the mark only when it asks for more', async () => {
    t = await startChatty({ env: { JOB_SCHEDULER_MAX_LOG_BYTES: '4096' } });
    const name = (await t.request.post('/api/v1/jobs').send(aChattyJob({ bytes: 64 * 200, after: ['last'] })).expect(200)).body.name as string;
    await waitForJobEnd(t.request, name);
    const whole = (await t.request.get(`/api/v1/jobs/${name}/logs`).expect(200)).text;
    const mark = MARK.exec(whole);
    assert.ok(mark);
    const kept = whole.slice(mark[0].length);
    assert.equal(Buffer.byteLength(kept), 4096);
    assert.equal(Number(mark[1]), Buffer.byteLength('attempt 0\n') + 64 * 200 + Buffer.byteLength('last\n') - 4096);
    assert.ok(kept.endsWith('x\nlast\n'));
    assert.equal((await t.request.get(`/api/v1/jobs/${name}/logs?tail=1`).expect(200)).text, 'last\n');
    const many = (await t.request.get(`/api/v1/jobs/${name}/logs?tail=1000`).expect(200)).text;
    assert.equal(many, whole, 'more lines than are kept: everything kept, behind the mark');
  });

  it('when following a running attempt, the output comes as it is written and the response ends when the attempt ends', async () => {
    t = await startChatty();
    const name = (await t.request.post('/api/v1/jobs').send(aChattyJob({ lines: ['first'], hold: true, after: ['second'] })).expect(200)).body.name as string;
    await waitFor(() => t!.request.get(`/api/v1/jobs/${name}/logs`), (r) => r.status === 200 && r.text.includes('first'));
    const followed = follow(t, name);
    assert.equal(await followed.status, 200);
    await waitFor(async () => followed.chunks.join(''), (text) => text.includes('first'));
    const state = (await t.request.get(`/api/v1/jobs/${name}`).expect(200)).body;
    assert.equal(state.status, 'Running', 'the stream is open while the attempt runs');
    writeFileSync(path.join(t.dataDir, 'jobs', name, 'release'), '');
    assert.equal(await followed.ended, 'attempt 0\nfirst\nsecond\n');
    assert.equal((await waitForJobEnd(t.request, name)).status, 'Succeeded');
    // An attempt that has ended: the response is its log, and it ends at once.
    assert.equal(await follow(t, name).ended, 'attempt 0\nfirst\nsecond\n');
  });

  it('answers a job\'s payload byte for byte and its effective settings (component, batch defaults and job merged; the component file\'s own variable values hidden)', async () => {
    t = await startChatty({ component: { variables: { LEVEL: 'component', KEEP: 'yes' }, backoffLimit: 1 } });
    const payload = JSON.stringify({ lines: ['ünïcode ✓'] });
    const batch = (await t.request.post('/api/v1/batches').send({
      batchId: 'b-1',
      defaultRadixJobComponentConfig: { variables: { LEVEL: 'batch' }, timeLimitSeconds: 600 },
      jobScheduleDescriptions: [{ jobId: 'j-1', payload, variables: { OWN: 'job' }, resources: { limits: { memory: '512Mi' } } }, {}],
    }).expect(200)).body;
    const [first, second] = batch.jobStatuses.map((job: { name: string }) => job.name) as [string, string];
    const answered = await t.request.get(`/api/v1/jobs/${first}/payload`).expect(200).expect('content-type', /^text\/plain/);
    assert.equal(answered.text, payload);
    assert.equal((await t.request.get(`/api/v1/jobs/${second}/payload`).expect(200)).text, '');
    const settings = (await t.request.get(`/api/v1/jobs/${first}/settings`).expect(200)).body;
    assert.deepEqual(settings, {
      name: first,
      batchName: batch.name,
      jobId: 'j-1',
      settings: {
        timeLimitSeconds: 600,
        backoffLimit: 1,
        resources: { limits: { memory: '512Mi' }, requests: {} },
        // The owner may keep a secret in the component file's variables: a client sees the name, not the value.
        variables: { LEVEL: 'batch', KEEP: '(set by the component file; not shown)', OWN: 'job' },
        command: [process.execPath, chattyJob],
        args: [],
      },
    });
    assert.equal(JSON.stringify(settings).includes('ünïcode'), false, 'the payload is not part of the settings');
  });

  it('when the service is told to stop (SIGTERM) while a log is followed, the stream ends and the service exits 0 without waiting for its deadline', async () => {
    const fixture = new ProcessServiceFixture('follow-shutdown', { name: 'compute', command: [process.execPath, fixtureJob] });
    try {
      const service = await fixture.start({ JOB_SCHEDULER_SHUTDOWN_SECONDS: '20' });
      const name = (await service.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 60 })).expect(200)).body.name as string;
      await waitFor(() => service.request.get(`/api/v1/jobs/${name}/logs`), (r) => r.status === 200 && r.text.includes('sha256'));
      const followed = follow(service, name);
      await waitFor(async () => followed.chunks.join(''), (text) => text.includes('sha256'));
      const exited = new Promise<number | null>((resolve) => service.child.once('exit', (code) => resolve(code)));
      service.child.kill('SIGTERM');
      assert.match(await followed.ended, /"sha256"/);
      assert.equal(await exited, 0, 'exit 1 would mean the shutdown deadline passed');
    } finally {
      fixture.cleanUp();
    }
  });
});
