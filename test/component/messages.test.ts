import assert from 'node:assert/strict';
import { startTestService, type TestService } from './harness.js';

interface Failure {
  status: string;
  message: string;
  code: number;
  details?: { fields: Array<{ path: string; message: string }> };
}

describe('messages a client can act on', function () {
  let t: TestService;
  before(async () => {
    t = await startTestService({ env: { JOB_SCHEDULER_MAX_REQUEST_BYTES: '2097152' } });
  });
  after(async () => t?.close());

  const post = async (path: string, body: object, code = 400) => (await t.request.post(path).send(body).expect(code)).body as Failure;

  it('when a batch\'s top-level key is misspelt, names the unknown key first and the key it likely meant', async () => {
    const answer = await post('/api/v1/batches', { jobScheduleDescription: [{}] });
    assert.match(answer.message, /^jobScheduleDescription is not a known field \(did you mean jobScheduleDescriptions\?\)/);
    assert.doesNotMatch(answer.message, /must have required property/);
  });

  it('when several items of a batch are bad, names every one of them, and at most 5 in the message', async () => {
    const items = Array.from({ length: 7 }, () => ({ backoffLimit: 'x' }));
    const answer = await post('/api/v1/batches', { jobScheduleDescriptions: items });
    assert.deepEqual(answer.details?.fields.map((f) => f.path), items.map((_, i) => `jobScheduleDescriptions[${i}].backoffLimit`));
    assert.match(answer.message, /jobScheduleDescriptions\[4\]\.backoffLimit must be integer \(and 2 more\)$/);
  });

  it('when a resource quantity is malformed, says what a Kubernetes quantity looks like, not the pattern', async () => {
    const answer = await post('/api/v1/jobs', { resources: { limits: { memory: 'lots' } } });
    assert.equal(answer.message, 'resources.limits.memory must be a Kubernetes quantity such as 500m or 256Mi');
  });

  it('when a value is not one of a list, lists the allowed values', async () => {
    const answer = await post('/api/v1/jobs', { failurePolicy: { rules: [{ action: 'Retry', onExitCodes: { operator: 'In', values: [1] } }] } });
    assert.equal(answer.message, 'failurePolicy.rules[0].action must be equal to one of the allowed values: FailJob, Ignore, Count');
  });

  it('when a query parameter is unknown, says which parameters the route takes', async () => {
    const none = (await t.request.get('/api/v1/jobs/batch-compute-20261122101500-k3x9a0bq-p2m7c1ds?status=Running').expect(400)).body as Failure;
    assert.equal(none.message, 'status is not a known query parameter: GET /api/v1/jobs/batch-compute-20261122101500-k3x9a0bq-p2m7c1ds takes no query parameters');
    const jobs = (await t.request.get('/api/v1/jobs?statuses=Running').expect(400)).body as Failure;
    assert.equal(jobs.message, 'statuses is not a known query parameter: GET /api/v1/jobs takes status, jobId, labelSelector, limit, continue (did you mean status?)');
    const some = (await t.request.get('/api/v1/notifications/dead-letters?limt=3').expect(400)).body as Failure;
    assert.equal(some.message, 'limt is not a known query parameter: GET /api/v1/notifications/dead-letters takes limit (did you mean limit?)');
  });

  it('when a field is unknown, says it is not a known field, with the close one at that level', async () => {
    assert.equal((await post('/api/v1/jobs', { paylod: 'x' })).message, 'paylod is not a known field (did you mean payload?)');
    assert.equal((await post('/api/v1/jobs', { resources: { limit: {} } })).message, 'resources.limit is not a known field (did you mean limits?)');
    assert.equal((await post('/api/v1/jobs', { somethingElse: 1 })).message, 'somethingElse is not a known field');
  });

  it('when a body is over the limit, names the limit and its setting', async () => {
    const answer = await post('/api/v1/jobs', { payload: 'x'.repeat(2_200_000) }, 413);
    assert.match(answer.message, /at most 2097152 .*\(JOB_SCHEDULER_MAX_REQUEST_BYTES\)/);
  });

  it('when a body is not JSON, says to send application/json', async () => {
    const answer = (await t.request.post('/api/v1/jobs').set('content-type', 'text/plain').send('x').expect(415)).body as Failure;
    assert.match(answer.message, /send it with Content-Type: application\/json/);
  });
});
