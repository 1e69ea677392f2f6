import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BatchStatus, JobSchedulerClient, type JobStatus } from '@job-scheduler/client';
import { TERMINAL, waitFor } from '../component/harness.js';
import { assertBuilt, runCli } from './cli-runner.js';
import { type ClientTestService, sharedService, TOKEN } from './service.js';

describe('the built CLI (job-scheduler) against the real service', function () {
  let service: ClientTestService;
  let env: Record<string, string>;
  let client: JobSchedulerClient;
  let dir: string;
  const ended = (name: string) => waitFor(() => client.getJob(name), (job: JobStatus) => TERMINAL.includes(job.status));
  const cli = (args: string[], input?: string) => runCli(args, env, { input });

  before(async () => {
    assertBuilt();
    service = await sharedService();
    env = { JOB_SCHEDULER_URL: service.url, JOB_SCHEDULER_TOKEN: TOKEN };
    client = new JobSchedulerClient({ url: service.url, token: TOKEN });
    dir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-cli-'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('when one job is submitted with --payload-file, prints its name; get and logs read it', async () => {
    writeFileSync(path.join(dir, 'payload.json'), '{"exitCode": 0}');
    const submitted = await cli(['submit', '--payload-file', path.join(dir, 'payload.json'), '--job-id', 'from-file', '--label', 'via=cli']);
    assert.deepEqual([submitted.code, submitted.stderr], [0, '']);
    const name = submitted.stdout.trim();
    assert.equal((await ended(name)).jobId, 'from-file');
    const got = await cli(['get', name, '--output', 'json']);
    assert.deepEqual([(JSON.parse(got.stdout) as JobStatus).status, (JSON.parse(got.stdout) as JobStatus).labels], ['Succeeded', { via: 'cli' }]);
    assert.match((await cli(['get', name])).stdout, /^name: {5}batch-compute-.*$\n^jobId: {4}from-file$\n^status: {3}Succeeded$/m);
    const logs = await cli(['logs', name, '--tail', '2']);
    assert.equal(logs.stdout, 'payload: {"exitCode": 0}\nexiting with 0\n');
    const lines = await cli(['logs', name, '-o', 'json', '--tail', '1']);
    assert.deepEqual(lines.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown), [{ line: 'exiting with 0' }]);
  });

  it('when a batch from stdin all succeeds, watch exits 0 and prints its counts', async () => {
    const submitted = await cli(['submit', '--batch', '--batch-id', 'cli-ok', '--time-limit', '60', '--backoff-limit', '0'], '{"exitCode": 0}\n\n{"sleepSeconds": 1}\n');
    assert.equal(submitted.code, 0, submitted.stderr);
    const name = submitted.stdout.trim();
    const watched = await cli(['watch', name]);
    assert.deepEqual([watched.code, watched.stdout, watched.stderr], [0, 'Succeeded Succeeded=2\n', '']);
    const batch = await client.getBatch(name);
    assert.deepEqual(batch.jobStatuses?.map((j) => j.status), ['Succeeded', 'Succeeded']);
    assert.equal((await client.getJobSettings(batch.jobStatuses![0]!.name)).settings.timeLimitSeconds, 60);
  });

  it('when a batch from a JSONL file fails, watch exits 1; ls filters its jobs and batches', async () => {
    writeFileSync(path.join(dir, 'jobs.jsonl'), '{"exitCode": 0}\n{"exitCode": 42}\n');
    const submitted = await cli(['submit', '--batch', path.join(dir, 'jobs.jsonl'), '--label', 'team=cli-fails']);
    const name = submitted.stdout.trim();
    const watched = await cli(['watch', name, '-o', 'json']);
    assert.equal(watched.code, 1);
    const batch = JSON.parse(watched.stdout) as BatchStatus;
    assert.deepEqual([batch.status, batch.jobCounts?.Succeeded, batch.jobCounts?.Failed], ['Failed', 1, 1]);
    const failed = JSON.parse((await cli(['ls', name, '--status', 'Failed', '-o', 'json'])).stdout) as JobStatus[];
    assert.deepEqual(failed.map((j) => j.message), ['PodFailurePolicy: exit code 42 matched FailJob rule 0 of failurePolicy']);
    const listed = await cli(['ls', '--label', 'team=cli-fails']);
    assert.match(listed.stdout, new RegExp(`^NAME +STATUS +CREATED +JOBS\n${name} +Failed +\\S+ +Succeeded=1 Failed=1\n$`));
    assert.equal((JSON.parse((await cli(['ls', name, '--limit', '1', '-o', 'json'])).stdout) as unknown[]).length, 1);
  });

  it('when logs --follow is given a job that has not ended, streams its output and exits when the attempt ends', async () => {
    const job = await client.createJob({ payload: '{"sleepSeconds": 1}' });
    const followed = await cli(['logs', job.name, '--follow']);
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /\npayload: \{"sleepSeconds": 1\}\nexiting with 0\n$/);
    assert.equal((await client.getJob(job.name)).status, 'Succeeded');
  });

  it('when a job and a batch are stopped and removed, each answers its Status; then get exits 4', async () => {
    const job = await client.createJob({ payload: '{"sleepSeconds": 60}' });
    assert.deepEqual(await cli(['stop', job.name]), { code: 0, stdout: `job ${job.name} successfully stopped\n`, stderr: '' });
    assert.equal((await ended(job.name)).status, 'Stopped');
    const batch = await client.createBatch({ jobScheduleDescriptions: [{ payload: '{"sleepSeconds": 60}' }] });
    const stopped = await cli(['stop', batch.name, '-o', 'json']);
    assert.equal((JSON.parse(stopped.stdout) as { code: number }).code, 200);
    assert.equal((await ended(batch.jobStatuses![0]!.name)).status, 'Stopped');
    assert.equal((await cli(['rm', batch.name])).code, 0);
    assert.equal((await cli(['rm', job.name])).code, 0);
    const gone = await cli(['get', batch.name]);
    assert.deepEqual([gone.code, gone.stdout, gone.stderr], [4, '', `job-scheduler: no job or batch is named ${batch.name} (HTTP 404 NotFound)\n`]);
  });

  it('when the service refuses a value, exits 3 and names the field on stderr', async () => {
    const refused = await cli(['submit', '--payload', 'x', '--time-limit', '99999999999']);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /^job-scheduler: timeLimitSeconds must be <= 31536000 \(HTTP 400 BadRequest\)\n {2}timeLimitSeconds: must be <= 31536000\n$/);
  });

  it('when the flags are wrong, exits 2 and sends nothing', async () => {
    for (const args of [['submit', '--payload', 'a', '--payload-file', 'b'], ['ls', '--limit', '0'], ['submit', '--batch', '--payload', 'x'], ['watch'], ['frobnicate']]) {
      const run = await cli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /error|job-scheduler:/);
    }
  });

  it('when the token is missing, exits 5 and says how to give it', async () => {
    const run = await runCli(['ls'], { JOB_SCHEDULER_URL: service.url });
    assert.equal(run.code, 5);
    assert.match(run.stderr, /\(HTTP 401 Unauthorized\)\n {2}give the API token with --token or JOB_SCHEDULER_TOKEN\.\n$/);
    assert.equal((await runCli(['ls', '--token', TOKEN, '--url', service.url], {})).code, 0);
  });

  it('when nothing listens at the URL, exits 6 after its retries and says where it looked', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await runCli(['ls'], { JOB_SCHEDULER_URL: `http://127.0.0.1:${port}` });
    assert.equal(run.code, 6);
    assert.match(run.stderr, new RegExp(`could not reach the job scheduler at http://127.0.0.1:${port}: .*ECONNREFUSED.*\n {2}is the service running at http://127.0.0.1:${port}\\?`));
  });

  it('when asked for --help, lists the exit codes and exits 0', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes:\n {2}0 {2}done.*\n {2}1 {2}watch: the batch ended without success/);
  });
});
