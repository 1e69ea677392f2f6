import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { JobStatusView } from '../../src/core/view.js';
import { aJob, fixtureJob, waitFor } from './harness.js';
import { ProcessServiceFixture } from './process-service.js';

describe('graceful shutdown on SIGTERM', function () {
  this.timeout(90_000);
  let fixture: ProcessServiceFixture;
  before(() => {
    fixture = new ProcessServiceFixture('shutdown', { name: 'compute', command: [process.execPath, fixtureJob], backoffLimit: 2 });
  });
  after(() => fixture.cleanUp());

  it('when SIGTERM arrives mid-request, the request completes, the process exits 0 within the deadline, and a restart resumes the work', async () => {
    const first = await fixture.start({ JOB_SCHEDULER_SHUTDOWN_SECONDS: '20' });
    const running = await first.request.post('/api/v1/jobs').send(aJob({ sleeps: [30, 0] })).expect(200);
    await waitFor(async () => (await first.request.get(`/api/v1/jobs/${running.body.name}`)).body as JobStatusView, (job) => job.status === 'Running');

    // A batch request whose body is only half sent when the signal comes.
    const body = JSON.stringify({ jobScheduleDescriptions: Array.from({ length: 20 }, () => aJob({ sleeps: [0.05] })) });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: first.port, method: 'POST', path: '/api/v1/batches', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 100));
      setTimeout(() => {
        first.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(100)), 300);
      }, 200);
    });
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)));
    const answered = await answer;
    assert.equal(answered.status, 200, answered.body);
    const batchName = (JSON.parse(answered.body) as { name: string }).name;
    assert.equal(await exited, 0);
    assert.deepEqual(fixture.ownJobProcesses(), [], 'the running job was ended with the service');

    const second = await fixture.start();
    const resumed = await waitFor(async () => (await second.request.get(`/api/v1/jobs/${running.body.name}`)).body as JobStatusView, (job) => job.status === 'Succeeded', 30_000);
    assert.equal(resumed.podStatuses[0]!.reason, 'Interrupted');
    const batch = await waitFor(async () => (await second.request.get(`/api/v1/batches/${batchName}`)).body, (b) => b.status === 'Succeeded', 30_000);
    assert.equal(batch.jobStatuses.length, 20);
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.once('exit', resolve));
  });
});
