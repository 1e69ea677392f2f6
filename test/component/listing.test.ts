import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { aJob, type JobState, root, startTestService, type TestService, waitFor } from './harness.js';

interface Listed { name: string; status: string; labels?: Record<string, string>; jobId?: string; batchId?: string; jobCounts?: Record<string, number> }

/** Reads every page of `path` (limit included), calling `between` after each page; answers every name in order. */
async function readPages(t: TestService, path: string, between: (page: number) => Promise<void> = async () => {}, pick = (body: unknown) => body as Listed[]) {
  const names: string[] = [];
  let token: string | undefined;
  for (let page = 0; ; page++) {
    const separator = path.includes('?') ? '&' : '?';
    const response = await t.request.get(token ? `${path}${separator}continue=${encodeURIComponent(token)}` : path).expect(200);
    names.push(...pick(response.body).map((item) => item.name));
    token = response.headers['x-continue'] as string | undefined;
    if (!token) return names;
    await between(page);
  }
}

const blocker = () => aJob({ sleepSeconds: 60 }, { labels: { team: 'blocker' } });

describe('labels, filters and pages (local runtime)', function () {
  let t: TestService;

  beforeEach(async () => {
    // One job at a time: a long first job keeps the others Waiting until the test moves them.
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
  });

  afterEach(async () => {
    await t.close();
  });

  const postJob = async (body: object) => (await t.request.post('/api/v1/jobs').send(body).expect(200)).body as JobState & Listed;

  it('when jobs and batches are sent with labels, they are answered back, and a batch\'s jobs carry its labels under their own', async () => {
    const single = await postJob(aJob({}, { labels: { team: 'vision', 'app.example.com/stage': 'train' } }));
    assert.deepEqual(single.labels, { team: 'vision', 'app.example.com/stage': 'train' });
    assert.deepEqual((await t.request.get(`/api/v1/jobs/${single.name}`).expect(200)).body.labels, single.labels);
    const batch = (await t.request.post('/api/v1/batches').send({
      labels: { team: 'vision', run: '7' },
      jobScheduleDescriptions: [aJob(), aJob({}, { labels: { run: '8', part: 'b' } })],
    }).expect(200)).body as Listed & { jobStatuses: Listed[] };
    assert.deepEqual(batch.labels, { team: 'vision', run: '7' });
    assert.deepEqual(batch.jobStatuses.map((job) => job.labels), [{ team: 'vision', run: '7' }, { team: 'vision', run: '8', part: 'b' }]);
    const read = (await t.request.get(`/api/v1/batches/${batch.name}`).expect(200)).body as Listed & { jobStatuses: Listed[] };
    assert.deepEqual(read.jobStatuses[1]!.labels, { team: 'vision', run: '8', part: 'b' });
    const unlabelled = await postJob(aJob());
    assert.equal('labels' in unlabelled, false);
  });

  it('when a label is bad, answers 422 naming it and keeps nothing', async () => {
    const bad = await t.request.post('/api/v1/batches').send({ labels: { 'bad key': 'x' }, jobScheduleDescriptions: [aJob({}, { labels: { ok: '-no' } })] }).expect(422);
    assert.match(bad.body.message, /^labels\.bad key must be a label key/);
    assert.deepEqual(bad.body.details.fields.map((f: { path: string }) => f.path), ['labels.bad key', 'jobScheduleDescriptions[0].labels.ok']);
    const tooMany = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
    await t.request.post('/api/v1/jobs').send({ labels: tooMany }).expect(400);
    assert.deepEqual((await t.request.get('/api/v1/batches').expect(200)).body, []);
  });

  it('when single jobs are filtered by status, jobId and labelSelector, only the matching ones are listed, oldest first', async () => {
    const running = await postJob(blocker());
    const a1 = await postJob(aJob({}, { jobId: 'one', labels: { team: 'a', tier: 'gold' } }));
    const a2 = await postJob(aJob({}, { jobId: 'two', labels: { team: 'a' } }));
    const b1 = await postJob(aJob({}, { jobId: 'one', labels: { team: 'b' } }));
    await waitFor(() => t.request.get(`/api/v1/jobs/${running.name}`), (r) => r.body.status === 'Running');
    await t.request.post(`/api/v1/jobs/${a2.name}/stop`).expect(200);
    const names = async (query: string) => ((await t.request.get(`/api/v1/jobs?${query}`).expect(200)).body as Listed[]).map((job) => job.name);
    assert.deepEqual(await names('status=Waiting'), [a1.name, b1.name]);
    assert.deepEqual(await names('status=Running,Stopped'), [running.name, a2.name]);
    assert.deepEqual(await names('jobId=one'), [a1.name, b1.name]);
    assert.deepEqual(await names('labelSelector=team%3Da'), [a1.name, a2.name]);
    assert.deepEqual(await names('labelSelector=team%20in%20(a,b),!tier'), [a2.name, b1.name]);
    assert.deepEqual(await names('labelSelector=team!%3Da'), [running.name, b1.name]);
    assert.deepEqual(await names('labelSelector=tier'), [a1.name]);
    assert.deepEqual(await names('jobId=one&labelSelector=team%3Db&status=Waiting'), [b1.name]);
    assert.deepEqual(await names('jobId=nobody'), []);
  });

  it('when batches are filtered, by their status, batchId, labels and a jobId of theirs, only the matching ones are listed, with counts', async () => {
    const post = async (body: object) => (await t.request.post('/api/v1/batches').send(body).expect(200)).body as Listed;
    const first = await post({ batchId: 'nightly', labels: { team: 'a' }, jobScheduleDescriptions: [blocker()] });
    const second = await post({ batchId: 'nightly', labels: { team: 'b' }, jobScheduleDescriptions: [aJob({}, { jobId: 'x' }), aJob()] });
    const third = await post({ batchId: 'adhoc', jobScheduleDescriptions: [aJob({}, { jobId: 'y' })] });
    await waitFor(() => t.request.get(`/api/v1/batches/${first.name}`), (r) => r.body.status === 'Running');
    await t.request.post(`/api/v1/batches/${third.name}/stop`).expect(200);
    const list = async (query: string) => (await t.request.get(`/api/v1/batches?${query}`).expect(200)).body as Listed[];
    const names = async (query: string) => (await list(query)).map((batch) => batch.name);
    assert.deepEqual(await names('batchId=nightly'), [first.name, second.name]);
    assert.deepEqual(await names('status=Running'), [first.name]);
    assert.deepEqual(await names('status=Waiting,Stopped'), [second.name, third.name]);
    assert.deepEqual(await names('labelSelector=team'), [first.name, second.name]);
    assert.deepEqual(await names('labelSelector=team%3Db'), [second.name]);
    assert.deepEqual(await names('jobId=x'), [second.name]);
    assert.deepEqual(await names('jobId=y&batchId=nightly'), []);
    const [counted] = await list('jobId=x');
    assert.deepEqual(counted!.jobCounts, { Waiting: 2, Active: 0, Running: 0, Succeeded: 0, Failed: 0, Stopping: 0, Stopped: 0 });
  });

  it("when a batch's jobs are filtered, only the matching ones are in jobStatuses, and jobStatuses=false leaves them all out", async () => {
    await t.request.post('/api/v1/jobs').send(blocker()).expect(200);
    const batch = (await t.request.post('/api/v1/batches').send({
      labels: { team: 'a' },
      jobScheduleDescriptions: Array.from({ length: 6 }, (_, i) => aJob({}, { jobId: `j${i}`, labels: { parity: i % 2 ? 'odd' : 'even' } })),
    }).expect(200)).body as Listed & { jobStatuses: Listed[] };
    const jobs = batch.jobStatuses.map((job) => job.name);
    await t.request.post(`/api/v1/batches/${batch.name}/jobs/${jobs[2]}/stop`).expect(200);
    const read = async (query: string) => (await t.request.get(`/api/v1/batches/${batch.name}?${query}`).expect(200)).body as Listed & { jobStatuses?: Listed[] };
    assert.deepEqual((await read('labelSelector=parity%3Deven')).jobStatuses!.map((job) => job.name), [jobs[0], jobs[2], jobs[4]]);
    assert.deepEqual((await read('status=Stopped')).jobStatuses!.map((job) => job.name), [jobs[2]]);
    assert.deepEqual((await read('jobId=j5')).jobStatuses!.map((job) => job.name), [jobs[5]]);
    assert.deepEqual((await read('labelSelector=team%3Da,parity%3Dodd&status=Waiting')).jobStatuses!.map((job) => job.name), [jobs[1], jobs[3], jobs[5]]);
    const counts = await read('jobStatuses=false');
    assert.equal('jobStatuses' in counts, false);
    assert.deepEqual(counts.jobCounts, { Waiting: 5, Active: 0, Running: 0, Succeeded: 0, Failed: 0, Stopping: 0, Stopped: 1 });
    const refused = await t.request.get(`/api/v1/batches/${batch.name}?jobStatuses=false&limit=2`).expect(400);
    assert.match(refused.body.message, /^jobStatuses=false leaves the jobs out/);
  });

  it('when single jobs are paged through a filter while jobs are added, stopped and deleted between pages, each match is seen exactly once', async () => {
    await postJob(blocker());
    const matching: string[] = [];
    const others: string[] = [];
    for (let i = 0; i < 24; i++) {
      const job = await postJob(aJob({}, { labels: { team: i % 3 === 2 ? 'b' : 'a' } }));
      (i % 3 === 2 ? others : matching).push(job.name);
    }
    const seenSoFar = new Set<string>();
    const names = await readPages(t, '/api/v1/jobs?labelSelector=team%3Da&status=Waiting,Stopped&limit=4', async (page) => {
      // A job already answered and one not yet answered change status (both still match), one that does not
      // match is deleted, and new jobs arrive, matching or not.
      const answered = matching.find((name) => seenSoFar.has(name) && page % 2 === 0);
      const ahead = matching.at(-1 - page);
      for (const name of [answered, ahead]) if (name) await t.request.post(`/api/v1/jobs/${name}/stop`).expect(200);
      const other = others.shift();
      if (other) await t.request.delete(`/api/v1/jobs/${other}`).expect(200);
      matching.push((await postJob(aJob({}, { labels: { team: 'a' } }))).name);
      others.push((await postJob(aJob({}, { labels: { team: 'b' } }))).name);
    }, (body) => {
      const page = body as Listed[];
      for (const job of page) seenSoFar.add(job.name);
      return page;
    });
    assert.equal(new Set(names).size, names.length, 'no job is answered twice');
    // New jobs keep arriving after each page, so the listing ends only because pages outrun them (4 read, 1 added).
    assert.deepEqual(names, matching);
  });

  it("when a batch's jobs are paged while some are stopped between pages, each match is seen exactly once, in the batch's order", async () => {
    await t.request.post('/api/v1/jobs').send(blocker()).expect(200);
    const batch = (await t.request.post('/api/v1/batches').send({
      jobScheduleDescriptions: Array.from({ length: 40 }, (_, i) => aJob({}, { labels: { kind: i % 4 === 0 ? 'rare' : 'common' } })),
    }).expect(200)).body as Listed & { jobStatuses: Listed[] };
    const common = batch.jobStatuses.filter((job) => job.labels?.kind === 'common').map((job) => job.name);
    const names = await readPages(t, `/api/v1/batches/${batch.name}?labelSelector=kind%3Dcommon&limit=7`, async (page) => {
      await t.request.post(`/api/v1/batches/${batch.name}/jobs/${common[page * 5]}/stop`).expect(200);
      await t.request.post(`/api/v1/batches/${batch.name}/jobs/${common.at(-1 - page)}/stop`).expect(200);
    }, (body) => (body as { jobStatuses: Listed[] }).jobStatuses);
    assert.deepEqual(names, common);
    const all = await readPages(t, `/api/v1/batches/${batch.name}?limit=16`, async () => {}, (body) => (body as { jobStatuses: Listed[] }).jobStatuses);
    assert.deepEqual(all, batch.jobStatuses.map((job) => job.name));
  });

  it('when batches are paged while batches are added and deleted between pages, each match is seen exactly once', async () => {
    const post = async (batchId: string) => (await t.request.post('/api/v1/batches').send({ batchId, jobScheduleDescriptions: [aJob({ sleepSeconds: 60 })] }).expect(200)).body as Listed;
    const expected: string[] = [];
    const others: string[] = [];
    for (let i = 0; i < 12; i++) (i % 2 ? others : expected).push((await post(i % 2 ? 'other' : 'mine')).name);
    const names = await readPages(t, '/api/v1/batches?batchId=mine&limit=2', async () => {
      await t.request.delete(`/api/v1/batches/${others.shift()}`).expect(200);
      expected.push((await post('mine')).name);
      others.push((await post('other')).name);
    });
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(names, expected.slice(0, names.length));
    assert.ok(names.length >= 6, 'every batch there before the first page is seen');
  });

  it('when a list parameter is bad, answers 400 naming it and what is allowed', async () => {
    const status = await t.request.get('/api/v1/jobs?status=Running,Done').expect(400);
    assert.equal(status.body.message, 'status has "Done"; give one or more of Waiting, Active, Running, Succeeded, Failed, Stopping, Stopped, separated by commas');
    const selector = await t.request.get('/api/v1/batches?labelSelector=a%20in%20b').expect(400);
    assert.match(selector.body.message, /^labelSelector needs a list in parentheses after "a in"; a selector is requirements separated by commas/);
    const limit = await t.request.get('/api/v1/jobs?limit=0').expect(400);
    assert.match(limit.body.message, /^limit must be >= 1/);
    const token = await t.request.get('/api/v1/jobs?continue=bm90LWEtdG9rZW4').expect(400);
    assert.match(token.body.message, /^continue is not a token this service gave/);
    await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob(), aJob()] }).expect(200);
    await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob()] }).expect(200);
    const first = await t.request.get('/api/v1/batches?limit=1').expect(200);
    const other = await t.request.get(`/api/v1/jobs?continue=${first.headers['x-continue']}`).expect(400);
    assert.match(other.body.message, /^continue was given for another list/);
  });
});

describe('labels and pages across a restart (local runtime)', function () {
  let t: TestService | undefined;

  afterEach(async () => {
    await t?.close();
  });

  it('when the service restarts, labels are kept, filters find them, and a page token resumes unless its item was deleted (410)', async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
    await t.request.post('/api/v1/jobs').send(blocker()).expect(200);
    const batch = (await t.request.post('/api/v1/batches').send({
      labels: { team: 'a' }, jobScheduleDescriptions: [aJob({}, { labels: { part: '1' } }), aJob()],
    }).expect(200)).body as Listed & { jobStatuses: Listed[] };
    const singles: string[] = [];
    for (let i = 0; i < 5; i++) singles.push((await t.request.post('/api/v1/jobs').send(aJob({}, { labels: { team: 'a' } })).expect(200)).body.name);
    const page = await t.request.get('/api/v1/jobs?labelSelector=team%3Da&limit=2').expect(200);
    const gone = await t.request.get('/api/v1/jobs?labelSelector=team%3Da&limit=3').expect(200);
    const { dataDir } = t;
    await t.request.delete(`/api/v1/jobs/${singles[2]}`).expect(200);
    await t.close({ keepData: true });
    t = await startTestService({ dataDir, env: { JOB_SCHEDULER_MAX_RUNNING: '1' } });
    const read = (await t.request.get(`/api/v1/batches/${batch.name}`).expect(200)).body as Listed & { jobStatuses: Listed[] };
    assert.deepEqual(read.labels, { team: 'a' });
    assert.deepEqual(read.jobStatuses.map((job) => job.labels), [{ team: 'a', part: '1' }, { team: 'a' }]);
    assert.deepEqual((await t.request.get('/api/v1/batches?labelSelector=team%3Da').expect(200)).body.map((b: Listed) => b.name), [batch.name]);
    const rest = await t.request.get(`/api/v1/jobs?labelSelector=team%3Da&continue=${page.headers['x-continue']}`).expect(200);
    assert.deepEqual(rest.body.map((job: Listed) => job.name), [singles[3], singles[4]]);
    const expired = await t.request.get(`/api/v1/jobs?labelSelector=team%3Da&continue=${gone.headers['x-continue']}`).expect(410);
    assert.equal(expired.body.reason, 'Expired');
    assert.match(expired.body.message, /list again from the beginning/);
  });
});

describe('a 10,000-job batch followed through its counts only (local runtime)', function () {
  this.timeout(600_000);
  let t: TestService;

  before(async () => {
    t = await startTestService({ component: { command: ['/bin/true'] }, env: { JOB_SCHEDULER_MAX_RUNNING: '16' } });
  });

  after(async () => {
    await t.close();
  });

  // Running 10,000 processes takes minutes on 2 cores: once a few hundred have run, the rest are stopped, and the
  // counts are followed to the end of every job (Succeeded or Stopped) all the same.
  it('when a client polls jobStatuses=false, the counts always add up to 10,000, never go back, and end with every job finished', async () => {
    const jobs = Array.from({ length: 10_000 }, () => ({}));
    const created = await t.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).expect(200);
    let done = -1;
    let polls = 0;
    let stopped = false;
    const ended = await waitFor(async () => {
      const response = await t.request.get(`/api/v1/batches/${created.body.name}?jobStatuses=false`).expect(200);
      const counts = response.body.jobCounts as Record<string, number>;
      assert.equal(Object.values(counts).reduce((sum, n) => sum + n, 0), 10_000);
      const finished = counts.Succeeded! + counts.Failed! + counts.Stopped!;
      assert.ok(finished >= done, 'finished jobs never go back');
      done = finished;
      polls++;
      assert.ok(response.text.length < 1024, `a poll is ${response.text.length} bytes`);
      if (!stopped && counts.Succeeded! >= 300) {
        stopped = true;
        await t.request.post(`/api/v1/batches/${created.body.name}/stop`).expect(200);
      }
      return response.body as Listed;
    }, (body) => body.status === 'Stopped' || body.status === 'Succeeded', 540_000);
    const counts = ended.jobCounts!;
    assert.equal(counts.Succeeded! + counts.Stopped!, 10_000, 'every job ended, none failed');
    assert.ok(counts.Succeeded! >= 300 && counts.Stopped! > 0);
    assert.equal('jobStatuses' in ended, false);
    assert.ok(polls > 1);
  });
});

describe("the README tour's step: follow a batch's progress", function () {
  let t: TestService;

  before(async () => {
    const component = parseYaml(readFileSync(path.join(root, 'examples/compute/component.yaml'), 'utf8')) as Record<string, unknown>;
    t = await startTestService({ component: { ...component, command: [process.execPath, path.join(root, 'examples/compute/job.js')] } });
  });

  after(async () => {
    await t.close();
  });

  it('when the example batch is sent as the README sends it, the answers are those the README shows', async () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const step = readme.slice(readme.indexOf("Follow a batch's progress."));
    const body = JSON.parse(/-d '(\{"labels".*\})' \\\n/.exec(step)![1]!) as object;
    const { name } = (await t.request.post('/api/v1/batches').send(body).expect(200)).body as Listed;
    const sample = JSON.parse(/```json\n(.*)\n```/.exec(step)![1]!) as object;
    const early = (await t.request.get(`/api/v1/batches/${name}?jobStatuses=false`).expect(200)).body as object;
    assert.deepEqual(Object.keys(early), Object.keys(sample));
    const ended = await waitFor(() => t.request.get(`/api/v1/batches/${name}?jobStatuses=false`).expect(200), (r) => r.body.status === 'Failed');
    const shown = (line: string) => assert.ok(step.includes(`\n${line}\n`), `the README shows: ${line}`);
    shown(`${ended.body.status} ${JSON.stringify(ended.body.jobCounts)}`);
    const failed = (await t.request.get(`/api/v1/batches/${name}?status=Failed,Stopped`).expect(200)).body as { jobStatuses: Array<Listed & { jobId: string; message: string }> };
    shown(failed.jobStatuses.map((j) => `${j.jobId} ${j.status} ${JSON.stringify(j.labels)}: ${j.message}`).join('\n'));
    assert.deepEqual((await t.request.get('/api/v1/batches?labelSelector=team%3Dvision&status=Failed').expect(200)).body.map((b: Listed) => b.name), [name]);
    const page = await t.request.get(`/api/v1/batches/${name}?limit=2`).expect(200);
    assert.equal(page.body.jobStatuses.length, 2);
    assert.match(page.headers['x-continue'] as string, /^[A-Za-z0-9_-]+$/);
  });
});
