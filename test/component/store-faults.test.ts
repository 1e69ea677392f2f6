import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import type supertest from 'supertest';
import { aJob, fixtureJob, root, startTestService, type TestService, waitFor, waitForJobEnd } from './harness.js';
import { holdWriteLock } from './write-lock.js';
import { ProcessServiceFixture } from './process-service.js';

const component = { name: 'compute', command: [process.execPath, fixtureJob], backoffLimit: 0 };

/** Mounts a tmpfs of `size` at `dir`; false when this machine does not allow it (not root, no mount). */
function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    // Still busy (a process we could not wait for): detach it; the kernel frees it when the last user goes.
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  }
}

/** Writes `file` until the file system has no space left. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** A service process started by a test: it listens, or it exits (with what it said on stderr). */
interface Launched {
  child: ChildProcess;
  /** The port, once it logged that it listens. */
  listening: Promise<number>;
  exited: Promise<{ code: number | null; stderr: string }>;
}

/** Starts `node src/main.ts` on the fixture's folder like the fixture does, keeping stderr. */
function launch(fixture: ProcessServiceFixture, started: ChildProcess[], env: Record<string, string> = {}): Launched {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      JOB_SCHEDULER_CONFIG: path.join(fixture.dir, 'component.yaml'),
      JOB_SCHEDULER_DATA_DIR: path.join(fixture.dir, 'data'),
      JOB_SCHEDULER_PORT: '0',
      JOB_SCHEDULER_MAX_RUNNING: '6',
      JOB_SCHEDULER_RETRY_DELAY_SECONDS: '0',
      JOB_SCHEDULER_KILL_GRACE_SECONDS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  const listening = new Promise<number>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { message?: string; port?: number };
      if (entry.message === 'listening' && entry.port) resolve(entry.port);
    });
  });
  return { child, listening, exited };
}

/** Waits at most `ms` for `promise`; past that, fails saying `what`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function killAndWait(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

const jobStatus = (request: supertest.Agent, name: string) => request.get(`/api/v1/jobs/${name}`);

/**
 * Waits until the fixture job has written its start-up files (its output, its pid, its attempt count), the last of
 * them whole: the file exists from its open, and a disk filled before its write would fail the job, not the store.
 */
async function jobStarted(dataDir: string, name: string): Promise<void> {
  const attempts = path.join(dataDir, 'jobs', name, 'attempts');
  await waitFor(async () => existsSync(attempts) && readFileSync(attempts, 'utf8') !== '', (done) => done, 30_000);
}

/** Waits until the fixture job's (last) process has ended: its pid, which it wrote itself, names no process. */
async function jobProcessEnded(dataDir: string, name: string): Promise<void> {
  const pid = Number(readFileSync(path.join(dataDir, 'jobs', name, 'pids'), 'utf8').trim().split('\n').at(-1));
  await waitFor(async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, (ended) => ended, 30_000);
}

describe('the local store under faults', function () {
  this.timeout(180_000);
  let fixture: ProcessServiceFixture;
  let started: ChildProcess[];
  let mounted: string | undefined;

  beforeEach(function () {
    fixture = new ProcessServiceFixture(this.currentTest!.title.slice(5, 25).replace(/\W+/g, '-'), component);
    started = [];
    mounted = undefined;
  });
  afterEach(async () => {
    for (const child of started) await killAndWait(child);
    // Job processes hold their log files on the mount: end them before unmounting.
    for (const pid of fixture.ownJobProcesses()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (mounted) unmount(mounted);
    fixture.cleanUp();
  });

  const start = async (env: Record<string, string> = {}) => {
    const service = await fixture.start(env);
    started.push(service.child);
    return service;
  };

  it('when the disk is full: POST answers 507, /readyz names the cause, the service stays up, a job that exits 0 meanwhile ends Succeeded once space is freed and after a restart', async function () {
    const dataDir = path.join(fixture.dir, 'data');
    if (!mountTmpfs(dataDir, '4m')) this.skip(); // needs root and mount (a tmpfs to fill)
    mounted = dataDir;
    const first = await start();
    const created = await first.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 6 })).expect(200);
    const name = created.body.name as string;
    await jobStarted(dataDir, name);

    const filler = path.join(dataDir, 'filler');
    fillDisk(filler);
    assert.equal((await jobStatus(first.request, name).expect(200)).body.status, 'Running', 'the job must end during the fault');
    const refused = await first.request.post('/api/v1/jobs').send(aJob()).expect(507);
    assert.deepEqual({ ...refused.body, message: undefined }, { status: 'Failure', code: 507, reason: 'InsufficientStorage', message: undefined });
    assert.match(refused.body.message, /disk is full; free space/);
    assert.equal(refused.headers['retry-after'], '30', 'a 507 says when to try again');
    const notReady = await first.request.get('/readyz').expect(503);
    assert.equal(notReady.body.cause, 'disk-full');

    await jobProcessEnded(dataDir, name);
    await first.request.get('/readyz').expect(503);
    // Its end is not on disk, so it is not answered: a crash now runs it again instead of taking back a Succeeded.
    assert.equal((await jobStatus(first.request, name).expect(200)).body.status, 'Running');
    assert.equal(first.child.exitCode, null, 'the service is still running');
    await first.request.get('/healthz').expect(200);
    const metrics = await first.request.get('/metrics').expect(200);
    assert.match(metrics.text, /job_scheduler_store_write_failures_total\{cause="disk-full"\} [1-9]/);
    assert.match(metrics.text, /job_scheduler_store_writable 0/);

    rmSync(filler);
    await waitFor(() => first.request.get('/readyz'), (r) => r.status === 200, 30_000);
    await waitFor(() => jobStatus(first.request, name), (r) => r.body.status === 'Succeeded', 30_000);
    await first.request.post('/api/v1/jobs').send(aJob()).expect(200);

    // SIGKILL: only what is on disk counts.
    await killAndWait(first.child);
    const second = await start();
    const after = await jobStatus(second.request, name).expect(200);
    assert.equal(after.body.status, 'Succeeded');
    assert.equal(after.body.podStatuses.length, 1);
    assert.equal(after.body.podStatuses[0].exitCode, 0);
  });

  it('when another process holds the write lock on scheduler.db: the service stays up, answers 503 while it lasts, and recovers by itself', async () => {
    const first = await start();
    const dataDir = path.join(fixture.dir, 'data');
    const created = await first.request.post('/api/v1/jobs').send(aJob({ sleepSeconds: 4 })).expect(200);
    const name = created.body.name as string;
    await jobStarted(dataDir, name);

    const lock = await holdWriteLock(path.join(dataDir, 'scheduler.db'));
    started.push(lock.process);

    const refused = await first.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob()] }).expect(503);
    assert.equal(refused.body.reason, 'ServiceUnavailable');
    assert.match(refused.body.message, /locked by another process/);
    assert.equal(refused.headers['retry-after'], '5', 'a 503 says when to try again');
    await jobProcessEnded(dataDir, name);
    assert.equal((await first.request.get('/readyz').expect(503)).body.cause, 'locked');
    assert.equal((await jobStatus(first.request, name).expect(200)).body.status, 'Running', 'an end that is not on disk is not answered');
    assert.equal(first.child.exitCode, null, 'the service is still running');

    await lock.release();
    await waitFor(() => first.request.get('/readyz'), (r) => r.status === 200, 30_000);
    await waitFor(() => jobStatus(first.request, name), (r) => r.body.status === 'Succeeded', 30_000);
    await first.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob()] }).expect(200);

    await killAndWait(first.child);
    const second = await start();
    assert.equal((await jobStatus(second.request, name).expect(200)).body.status, 'Succeeded');
  });

  it('when a second instance starts on the same data directory, it exits at once naming the holder; the first runs each of 24 jobs once; after a SIGKILL of the first, a new one starts', async () => {
    const runs = path.join(fixture.dir, 'runs.txt');
    writeFileSync(runs, '');
    const first = await start();
    const jobs = Array.from({ length: 24 }, () => aJob({ appendTo: runs, sleepSeconds: 1 }));
    const created = await first.request.post('/api/v1/batches').send({ jobScheduleDescriptions: jobs }).expect(200);
    const batch = created.body.name as string;
    await waitFor(() => first.request.get(`/api/v1/batches/${batch}`), (r) => r.body.jobStatuses.some((j: { status: string }) => j.status === 'Running'));

    const second = await within(launch(fixture, started).exited, 20_000, 'the second instance did not exit');
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`in use by another job-scheduler \\(pid ${first.child.pid} on host [^,]+, since \\d{4}-`));

    const done = await waitFor(() => first.request.get(`/api/v1/batches/${batch}`), (r) => r.body.status === 'Succeeded', 90_000);
    const counts = new Map<string, number>();
    for (const line of readFileSync(runs, 'utf8').split('\n').filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1);
    assert.equal(counts.size, 24);
    for (const job of done.body.jobStatuses as Array<{ name: string; podStatuses: unknown[] }>) {
      assert.equal(counts.get(job.name), 1, `${job.name} ran ${counts.get(job.name)} times`);
      assert.equal(job.podStatuses.length, 1, job.name);
    }

    await killAndWait(first.child);
    const third = await start();
    assert.equal((await third.request.get(`/api/v1/batches/${batch}`).expect(200)).body.status, 'Succeeded');
  });

  it('when two instances start on one data directory at the same moment, exactly one serves and the other exits naming it', async () => {
    const both = [launch(fixture, started), launch(fixture, started)];
    const settled = (one: Launched) => Promise.race([one.listening.then((port) => ({ port })), one.exited]);
    const outcomes = await within(Promise.all(both.map(settled)), 30_000, 'both instances did not settle');
    const refused = outcomes.filter((o): o is { code: number | null; stderr: string } => 'code' in o);
    assert.equal(refused.length, 1, JSON.stringify(outcomes));
    assert.notEqual(refused[0]!.code, 0);
    assert.match(refused[0]!.stderr, /in use by another job-scheduler/);
    const winner = both[outcomes.findIndex((o) => 'port' in o)]!;
    assert.equal(winner.child.exitCode, null, 'the other one still serves');
  });

  it('when a second instance is started on a port already in use, it exits before touching the data directory: the first one\'s running job runs on and succeeds', async () => {
    const runs = path.join(fixture.dir, 'runs.txt');
    writeFileSync(runs, '');
    const first = await start();
    const created = await first.request.post('/api/v1/jobs').send(aJob({ appendTo: runs, sleepSeconds: 10 })).expect(200);
    const name = created.body.name as string;
    await jobStarted(path.join(fixture.dir, 'data'), name);

    const second = await within(launch(fixture, started, { JOB_SCHEDULER_PORT: String(first.port) }).exited, 20_000, 'the second instance did not exit');
    assert.notEqual(second.code, 0);

    const done = await waitFor(() => jobStatus(first.request, name), (r) => r.body.status !== 'Running' && r.body.status !== 'Active', 30_000);
    assert.equal(done.body.status, 'Succeeded', done.body.message);
    assert.equal(done.body.podStatuses.length, 1);
    assert.deepEqual(readFileSync(runs, 'utf8').split('\n').filter(Boolean), [name]);
    // It stopped at the port, before the data directory (whose lock would have refused it too).
    assert.match(second.stderr, /cannot listen on .*EADDRINUSE/);
  });
});

describe('the data directory of a service', function () {
  this.timeout(60_000);
  let t: TestService | undefined;
  let receiver: Server | undefined;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-datadir-'));
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
    receiver = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the data directory existed as 0755 with a 0644 scheduler.db, it ends 0700 and every file the service keeps there 0600', async () => {
    const dataDir = path.join(dir, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const db = new Database(path.join(dataDir, 'scheduler.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE earlier (x)');
    db.close();
    chmodSync(path.join(dataDir, 'scheduler.db'), 0o644);
    receiver = createServer((req, res) => req.resume().on('end', () => res.end()));
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`;
    t = await startTestService({ dataDir, component: { notifications: { webhook: url } } });
    const created = await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await waitForJobEnd(t.request, created.body.name);

    const seen: string[] = [];
    const check = (target: string) => {
      const stat = statSync(target);
      const name = path.relative(dataDir, target) || '.';
      seen.push(name);
      // The fixture job writes `pids` and `attempts` itself, with its own umask (inside a 0700 folder).
      if (stat.isFile() && ['pids', 'attempts'].includes(path.basename(target))) return;
      assert.equal((stat.mode & 0o777).toString(8), stat.isDirectory() ? '700' : '600', name);
      if (stat.isDirectory()) for (const entry of readdirSync(target)) check(path.join(target, entry));
    };
    check(dataDir);
    for (const name of ['scheduler.db', 'scheduler.db-wal', 'scheduler.db-shm', 'notifications.db', 'notifications.db-wal', 'lock.db', 'jobs', `jobs/${created.body.name}/payload`, `jobs/${created.body.name}/attempt-0.log`]) {
      assert.ok(seen.includes(name), `${name} was checked (${seen.join(', ')})`);
    }
  });

  it('when the data directory is removed while the service runs: POST answers 503 saying so, /readyz is not ready, one error line is logged', async () => {
    t = await startTestService({ dataDir: path.join(dir, 'data'), captureLogs: true });
    await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    rmSync(t.dataDir, { recursive: true, force: true });

    for (const send of [() => t!.request.post('/api/v1/jobs').send(aJob()), () => t!.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob()] })]) {
      const refused = await send().expect(503);
      assert.equal(refused.body.reason, 'ServiceUnavailable');
      assert.match(refused.body.message, /data directory was removed or replaced/);
    }
    const ready = await t.request.get('/readyz').expect(503);
    assert.equal(ready.body.cause, 'gone');
    assert.equal(t.logs.filter((line) => (JSON.parse(line) as { message: string }).message === 'store cannot write').length, 1);
  });

  it('when the disk of the data directory is already full at start, the service refuses to start saying so', async function () {
    const dataDir = path.join(dir, 'data');
    t = await startTestService({ dataDir });
    await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await t.close({ keepData: true });
    t = undefined;
    const volume = path.join(dir, 'volume');
    if (!mountTmpfs(volume, '2m')) this.skip(); // needs root and mount (a tmpfs to fill)
    try {
      execFileSync('cp', ['-a', dataDir, volume]);
      fillDisk(path.join(volume, 'filler'));
      let wrongly: TestService | undefined;
      try {
        await assert.rejects(startTestService({ dataDir: path.join(volume, 'data') }).then((started) => (wrongly = started)), /cannot open the store .*disk of the data directory is full: free space there/);
      } finally {
        await wrongly?.close({ keepData: true });
      }
    } finally {
      unmount(volume);
    }
  });

  it('when scheduler.db is empty (0 bytes), the service refuses to start and says why', async () => {
    const dataDir = path.join(dir, 'data');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'scheduler.db'), '');
    await assert.rejects(startTestService({ dataDir }).then((started) => (t = started)), /scheduler\.db is empty \(0 bytes\)/);
  });

  it('when scheduler.db is missing from a data directory used before, the service refuses to start and says how to start fresh', async () => {
    const dataDir = path.join(dir, 'data');
    t = await startTestService({ dataDir });
    await t.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await t.close({ keepData: true });
    t = undefined;
    for (const name of ['scheduler.db', 'scheduler.db-wal', 'scheduler.db-shm']) rmSync(path.join(dataDir, name), { force: true });
    await assert.rejects(startTestService({ dataDir }).then((started) => (t = started)), /scheduler\.db is missing.*empty store/s);
  });
});
