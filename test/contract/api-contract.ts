import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type supertest from 'supertest';
import type { JobStatusView } from '../../src/core/view.js';
import { root, waitFor } from '../component/harness.js';
import { type Behaviour, describeOutcomes } from './outcomes.js';

export interface ContractService {
  request: supertest.Agent;
  close(): Promise<void>;
}

/** What differs between runtimes; the scenarios themselves do not. */
export interface ContractDriver {
  /** A service with the contract's component; `maxRunning` 1 keeps a second job waiting where the runtime caps. */
  start(options?: { maxRunning?: number }): Promise<ContractService>;
  /** The payload that makes the job's program behave so (where the program reads it). */
  payload(behaviour: Behaviour): string;
  /** Does what the job's surroundings do while it runs (on the fake: the kubelet and the job controller). */
  play(jobName: string, behaviour: Behaviour): Promise<void>;
  /** Does what the surroundings do once the job's timeLimitSeconds has passed. */
  deadline(jobName: string): Promise<void>;
  /** Does what the runtime's surroundings do once a job is stopped (on the fake, play the job controller). */
  afterStop(jobName: string): Promise<void>;
  /** Polling bound for a job to reach a state (a real cluster is slower). */
  timeoutMs: number;
}

const guide = JSON.parse(readFileSync(path.join(root, 'test/fixtures/radix-guide-bodies.json'), 'utf8')) as { jobs: object[]; batches: object[] };
const RUNS_A_WHILE = JSON.stringify({ sleepSeconds: 120 });
const NAME = /^batch-compute-\d{14}-[a-z0-9]{8}-[a-z0-9]{8}$/;

/** The v1 API scenarios that hold on every runtime. Every response is validated against api/openapi.yaml by the app. */
export function describeApiContract(title: string, driver: ContractDriver): void {
  describeOutcomes(title, driver);
  describe(`the v1 API contract on ${title}`, function () {
    this.timeout(driver.timeoutMs * 3);
    let s: ContractService;
    beforeEach(async () => {
      s = await driver.start();
    });
    afterEach(async () => s?.close());

    const read = async (name: string) => (await s.request.get(`/api/v1/jobs/${name}`).expect(200)).body as JobStatusView;

    it('when a job is posted, it is answered Waiting under a Radix name, and listed and read by that name', async () => {
      const created = await s.request.post('/api/v1/jobs').send({ jobId: 'contract-1', payload: RUNS_A_WHILE }).expect(200);
      assert.match(created.body.name, NAME);
      assert.equal(created.body.status, 'Waiting');
      assert.equal(created.body.jobId, 'contract-1');
      assert.equal(created.body.batchName, undefined);
      const listed = (await s.request.get('/api/v1/jobs').expect(200)).body as JobStatusView[];
      assert.ok(listed.some((job) => job.name === created.body.name));
      assert.equal((await read(created.body.name)).jobId, 'contract-1');
    });

    it('when input is bad, answers 400 naming the field, 413 over 1 MiB of payload, 422 for a reserved variable, 404 for an unknown name', async () => {
      const bad = await s.request.post('/api/v1/jobs').send({ backoffLimit: 'three' }).expect(400);
      assert.equal(bad.body.reason, 'BadRequest');
      assert.match(bad.body.message, /backoffLimit/);
      const large = await s.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{}, { payload: 'x'.repeat(1024 * 1024 + 1) }] }).expect(413);
      assert.match(large.body.message, /jobScheduleDescriptions\[1\]\.payload/);
      await s.request.post('/api/v1/jobs').send({ variables: { JOB_NAME: 'mine' } }).expect(422);
      const missing = await s.request.get('/api/v1/jobs/batch-compute-20260101000000-aaaaaaaa-bbbbbbbb').expect(404);
      assert.deepEqual([missing.body.status, missing.body.code, missing.body.reason], ['Failure', 404, 'NotFound']);
      await s.request.get('/api/v1/batches/Not_A_Name').expect(400);
      assert.equal((await s.request.get('/api/v1/batches').expect(200)).body.length, 0, 'nothing was recorded');
    });

    it('when the Radix guide example bodies are posted as printed, they are accepted', async () => {
      for (const body of guide.jobs) await s.request.post('/api/v1/jobs').send(body).expect(200);
      for (const body of guide.batches) {
        const created = await s.request.post('/api/v1/batches').send(body).expect(200);
        assert.equal(created.body.jobStatuses.length, (body as { jobScheduleDescriptions: unknown[] }).jobScheduleDescriptions.length);
      }
    });

    it('when a batch is posted, its jobs are read through the batch, and single-job routes refuse them', async () => {
      const created = await s.request.post('/api/v1/batches').send({ batchId: 'b-1', jobScheduleDescriptions: [{ jobId: 'a', payload: RUNS_A_WHILE }, { jobId: 'b', payload: RUNS_A_WHILE }] }).expect(200);
      assert.equal(created.body.batchId, 'b-1');
      assert.equal(created.body.batchType, 'batch');
      const [first] = created.body.jobStatuses as JobStatusView[];
      assert.equal(first!.batchName, created.body.name);
      const listed = (await s.request.get('/api/v1/batches').expect(200)).body as Array<{ name: string; jobStatuses?: unknown }>;
      assert.deepEqual(listed.map((b) => b.name), [created.body.name]);
      assert.equal(listed[0]!.jobStatuses, undefined);
      assert.equal((await s.request.get(`/api/v1/batches/${created.body.name}/jobs/${first!.name}`).expect(200)).body.jobId, 'a');
      await s.request.delete(`/api/v1/jobs/${first!.name}`).expect(400);
      await s.request.post(`/api/v1/jobs/${first!.name}/stop`).expect(400);
      await s.request.post(`/api/v1/batches/${created.body.name}/stop`).expect(200);
      for (const job of created.body.jobStatuses as JobStatusView[]) await driver.afterStop(job.name);
      await s.request.delete(`/api/v1/batches/${created.body.name}`).expect(200);
    });

    it('when a batch is stopped, its jobs end Stopped and so does the batch; then it is deleted and gone', async () => {
      const created = await s.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: RUNS_A_WHILE }, { payload: RUNS_A_WHILE }, { payload: RUNS_A_WHILE }] }).expect(200);
      const stop = await s.request.post(`/api/v1/batches/${created.body.name}/stop`).expect(200);
      assert.equal(stop.body.status, 'Success');
      for (const job of created.body.jobStatuses as JobStatusView[]) await driver.afterStop(job.name);
      const batch = await waitFor(
        async () => (await s.request.get(`/api/v1/batches/${created.body.name}`).expect(200)).body,
        (b) => b.status === 'Stopped',
        driver.timeoutMs,
      );
      assert.deepEqual(batch.jobStatuses.map((j: JobStatusView) => j.status), ['Stopped', 'Stopped', 'Stopped']);
      await s.request.delete(`/api/v1/batches/${created.body.name}`).expect(200);
      await s.request.get(`/api/v1/batches/${created.body.name}`).expect(404);
      await s.request.get(`/api/v1/jobs/${batch.jobStatuses[0].name}`).expect(404);
    });

    it('when a single job is stopped it ends Stopped, stopping it again succeeds, and deleting it makes it unknown', async () => {
      const { body } = await s.request.post('/api/v1/jobs').send({ payload: RUNS_A_WHILE }).expect(200);
      await s.request.post(`/api/v1/jobs/${body.name}/stop`).expect(200);
      await driver.afterStop(body.name);
      await waitFor(() => read(body.name), (job) => job.status === 'Stopped', driver.timeoutMs);
      await s.request.post(`/api/v1/jobs/${body.name}/stop`).expect(200);
      await s.request.delete(`/api/v1/jobs/${body.name}`).expect(200);
      await s.request.get(`/api/v1/jobs/${body.name}`).expect(404);
      await s.request.delete(`/api/v1/jobs/${body.name}`).expect(404);
    });

    it('when all single jobs are stopped, batches are left alone', async () => {
      const single = (await s.request.post('/api/v1/jobs').send({ payload: RUNS_A_WHILE }).expect(200)).body.name as string;
      const batch = (await s.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [{ payload: RUNS_A_WHILE }] }).expect(200)).body;
      await s.request.post('/api/v1/jobs/stop').expect(200);
      await driver.afterStop(single);
      await waitFor(() => read(single), (job) => job.status === 'Stopped', driver.timeoutMs);
      assert.notEqual((await read(batch.jobStatuses[0].name)).status, 'Stopped');
      await s.request.post('/api/v1/batches/stop').expect(200);
      await driver.afterStop(batch.jobStatuses[0].name);
      await waitFor(() => read(batch.jobStatuses[0].name), (job) => job.status === 'Stopped', driver.timeoutMs);
    });
  });
}
