import assert from 'node:assert/strict';
import type { JobStatusView } from '../../src/core/view.js';
import { waitFor } from '../component/harness.js';
import type { ContractDriver, ContractService } from './api-contract.js';

/**
 * What a job's program does in a contract scenario. Each driver makes it happen its own way: the local runtime's
 * fixture job reads it from the payload; on the fake API server the driver plays the kubelet and the job
 * controller; on a real cluster a shell reads it from the payload.
 */
export interface Behaviour {
  /** Every attempt exits with this code, after `seconds`. */
  exitCode: number;
  /** How long each attempt runs; long ones end only by a stop or the deadline. */
  seconds?: number;
  /** Each attempt holds this much memory (more than the job's limit: it is killed for it). */
  allocateMiB?: number;
}

/** The part of a job's answer that must be the same on every runtime, and the order of its times. */
export function shapeOf(job: JobStatusView) {
  const times = [job.created, job.started, job.ended].filter((time): time is string => time !== null);
  assert.deepEqual([...times].sort(), times, `created ≤ started ≤ ended: ${times.join(' ')}`);
  for (const pod of job.podStatuses) {
    const podTimes = [job.created, pod.created, pod.startTime, pod.endTime].filter((time): time is string => time !== null);
    assert.deepEqual([...podTimes].sort(), podTimes, `job created ≤ attempt created ≤ startTime ≤ endTime: ${podTimes.join(' ')}`);
    if (job.ended && pod.endTime) assert.ok(pod.endTime <= job.ended, 'no attempt ends after its job');
  }
  return {
    status: job.status,
    message: job.message ?? null,
    failed: job.failed,
    started: job.started !== null,
    ended: job.ended !== null,
    attempts: job.podStatuses.map((pod) => ({ status: pod.replicaStatus.status, reason: pod.reason, exitCode: pod.exitCode, ended: pod.endTime !== null })),
  };
}

const LONG = 120;

/** The outcomes of jobs: the exact shape of each situation, asserted on every runtime alike (see api/openapi.yaml). */
export function describeOutcomes(title: string, driver: ContractDriver): void {
  describe(`the outcome of a job on ${title}, the same on every runtime`, function () {
    this.timeout(driver.timeoutMs * 4);
    let s: ContractService;
    afterEach(async () => s?.close());

    const post = async (behaviour: Behaviour, settings: Record<string, unknown> = {}): Promise<string> => {
      const { body } = await s.request.post('/api/v1/jobs').send({ payload: driver.payload(behaviour), ...settings }).expect(200);
      return body.name as string;
    };
    const read = async (name: string) => (await s.request.get(`/api/v1/jobs/${name}`).expect(200)).body as JobStatusView;
    const until = (name: string, statuses: string[]) => waitFor(() => read(name), (job) => statuses.includes(job.status), driver.timeoutMs);
    const ended = (name: string) => until(name, ['Succeeded', 'Failed', 'Stopped']);
    const ran = (exitCode: number, reason: string, status = exitCode === 0 ? 'Succeeded' : 'Failed') => ({ status, reason, exitCode, ended: true });

    it('succeeded: the attempt Completed with exit code 0, no message', async () => {
      s = await driver.start();
      const name = await post({ exitCode: 0 });
      await driver.play(name, { exitCode: 0 });
      assert.deepEqual(shapeOf(await ended(name)), { status: 'Succeeded', message: null, failed: 0, started: true, ended: true, attempts: [ran(0, 'Completed')] });
    });

    it('failed with the default backoffLimit (0): one attempt, counted, and the limit named', async () => {
      s = await driver.start();
      const name = await post({ exitCode: 3 });
      await driver.play(name, { exitCode: 3 });
      assert.deepEqual(shapeOf(await ended(name)), {
        status: 'Failed', message: 'BackoffLimitExceeded: job has reached the specified backoff limit (0)', failed: 1, started: true, ended: true, attempts: [ran(3, 'Error')],
      });
    });

    it('failed after its retries (backoffLimit 2): three attempts, each counted', async () => {
      s = await driver.start();
      const name = await post({ exitCode: 3 }, { backoffLimit: 2 });
      await driver.play(name, { exitCode: 3 });
      assert.deepEqual(shapeOf(await ended(name)), {
        status: 'Failed', message: 'BackoffLimitExceeded: job has reached the specified backoff limit (2)', failed: 3, started: true, ended: true, attempts: [ran(3, 'Error'), ran(3, 'Error'), ran(3, 'Error')],
      });
    });

    it('a failurePolicy FailJob rule: failed at the first attempt, the rule named as the job gives it', async () => {
      s = await driver.start();
      const failurePolicy = { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [7] } }, { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] };
      const name = await post({ exitCode: 42 }, { backoffLimit: 5, failurePolicy });
      await driver.play(name, { exitCode: 42 });
      assert.deepEqual(shapeOf(await ended(name)), {
        status: 'Failed', message: 'PodFailurePolicy: exit code 42 matched FailJob rule 1 of failurePolicy', failed: 1, started: true, ended: true, attempts: [ran(42, 'Error')],
      });
    });

    it('over its memory limit: the attempt OOMKilled with exit code 137, and the job message names it', async () => {
      s = await driver.start();
      const behaviour = { exitCode: 0, seconds: LONG, allocateMiB: 256 };
      const name = await post(behaviour, { resources: { limits: { memory: '128Mi' } } });
      await driver.play(name, behaviour);
      assert.deepEqual(shapeOf(await ended(name)), {
        status: 'Failed', message: 'BackoffLimitExceeded: job has reached the specified backoff limit (0); the last attempt ended with OOMKilled', failed: 1, started: true, ended: true, attempts: [ran(137, 'OOMKilled')],
      });
    });

    it('past timeLimitSeconds: the running attempt ended by the deadline failed and counts; the job says how long it may run', async () => {
      s = await driver.start();
      const behaviour = { exitCode: 0, seconds: LONG };
      const name = await post(behaviour, { timeLimitSeconds: 2 });
      await driver.play(name, behaviour);
      await driver.deadline(name);
      assert.deepEqual(shapeOf(await ended(name)), {
        status: 'Failed', message: 'DeadlineExceeded: job ran longer than timeLimitSeconds (2)', failed: 1, started: true, ended: true, attempts: [ran(143, 'DeadlineExceeded', 'Failed')],
      });
    });

    it('stopped while it ran: the attempt Stopped with the exit code the signal gave, the job stopped, nothing counted', async () => {
      s = await driver.start();
      const behaviour = { exitCode: 0, seconds: LONG };
      const name = await post(behaviour);
      await driver.play(name, behaviour);
      await until(name, ['Running']);
      await s.request.post(`/api/v1/jobs/${name}/stop`).expect(200);
      await driver.afterStop(name);
      assert.deepEqual(shapeOf(await ended(name)), { status: 'Stopped', message: 'stopped', failed: 0, started: true, ended: true, attempts: [ran(143, 'Stopped', 'Stopped')] });
    });

    it('stopped before it started: no attempt, not started, the job says so', async () => {
      s = await driver.start({ maxRunning: 1 });
      const behaviour = { exitCode: 0, seconds: LONG };
      const first = await post(behaviour);
      await driver.play(first, behaviour);
      await until(first, ['Running']);
      const waiting = await post(behaviour);
      await s.request.post(`/api/v1/jobs/${waiting}/stop`).expect(200);
      await driver.afterStop(waiting);
      assert.deepEqual(shapeOf(await ended(waiting)), { status: 'Stopped', message: 'stopped before it started', failed: 0, started: false, ended: true, attempts: [] });
      await s.request.post(`/api/v1/jobs/${first}/stop`).expect(200);
      await driver.afterStop(first);
      await ended(first);
    });
  });
}
