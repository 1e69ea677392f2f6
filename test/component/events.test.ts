import assert from 'node:assert/strict';
import { aJob, fixtureJob, startTestService, type TestService, waitFor, waitForJobEnd } from './harness.js';
import { ProcessServiceFixture } from './process-service.js';
import { baseUrlOf, SseClient, type SseEvent } from './sse-client.js';
import { type Receiver, startReceiver } from './webhook-receiver.js';

interface EventData { name: string; status: string; event: string; jobStatuses?: Array<{ name: string; status: string }> }
const dataOf = (event: SseEvent) => JSON.parse(event.data!) as EventData;
const ids = (events: SseEvent[]) => events.map((event) => event.id!);
const updatesOf = (events: SseEvent[], job: string) => events.filter((event) => event.event === 'Update' && dataOf(event).jobStatuses![0]!.name === job);
const lastStatus = (events: SseEvent[], job: string) => {
  const last = updatesOf(events, job).at(-1);
  return last ? dataOf(last).jobStatuses![0]!.status : undefined;
};

describe('live events (GET /api/v1/events)', function () {
  this.timeout(120_000);
  let service: TestService | undefined;
  let receiver: Receiver | undefined;
  const streams: SseClient[] = [];
  const open = async (path: string, headers?: Record<string, string>) => {
    const stream = await SseClient.open(baseUrlOf(service!.request), path, headers);
    streams.push(stream);
    return stream;
  };
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.drop();
    await service?.close();
    await receiver?.close();
    service = undefined;
    receiver = undefined;
  });

  it('when jobs change, every reader gets their events with the webhook\'s ids, and the batch and job filters keep only theirs', async () => {
    receiver = await startReceiver();
    service = await startTestService({ component: { notifications: { webhook: receiver.url } } });
    const all = await open('/api/v1/events');
    assert.equal(all.status, 200);
    assert.match(String(all.response.headers['content-type']), /^text\/event-stream/);
    const first = await service.request.post('/api/v1/batches').send({ jobScheduleDescriptions: [aJob({ exitCodes: [2, 0] }, { backoffLimit: 1 }), aJob()] }).expect(200);
    const other = await service.request.post('/api/v1/jobs').send(aJob()).expect(200);
    const [jobA, jobB] = (first.body.jobStatuses as Array<{ name: string }>).map((job) => job.name) as [string, string];
    await all.waitFor((events) => [jobA, jobB, other.body.name as string].every((job) => lastStatus(events, job) === 'Succeeded'));

    const created = all.received.find((event) => event.event === 'Create' && dataOf(event).name === first.body.name)!;
    const byBatch = await open(`/api/v1/events?batch=${first.body.name}`, { 'last-event-id': created.id! });
    const byJob = await open(`/api/v1/events?job=${jobA}&lastEventId=${created.id}`);
    const ofBatch = all.received.slice(all.received.indexOf(created) + 1).filter((event) => dataOf(event).name === first.body.name);
    await byBatch.waitFor((events) => events.length >= ofBatch.length);
    await byJob.waitFor((events) => events.length >= updatesOf(ofBatch, jobA).length);

    assert.deepEqual(ids(byBatch.received), ids(ofBatch));
    assert.deepEqual(ids(byJob.received), ids(updatesOf(ofBatch, jobA)));
    assert.deepEqual(updatesOf(all.received, jobA).map((event) => dataOf(event).jobStatuses![0]!.status), ['Active', 'Running', 'Active', 'Active', 'Running', 'Succeeded']);
    // The same transitions, the same ids: as the webhook's events, and as the job's timeline entries.
    const sent = () => new Set(receiver!.received.map((event) => event.id));
    await waitFor(async () => sent(), (webhookIds) => all.received.every((event) => webhookIds.has(event.id!)));
    assert.deepEqual(ids(all.received).filter((id) => !sent().has(id)), []);
    const timeline = await service.request.get(`/api/v1/jobs/${jobA}/timeline`).expect(200);
    assert.deepEqual(timeline.body.timeline.map((entry: { eventId: string }) => entry.eventId), [created.id, ...ids(updatesOf(all.received, jobA))]);

    await service.request.delete(`/api/v1/batches/${first.body.name}`).expect(200);
    await byJob.waitFor((events) => events.some((event) => event.event === 'Delete'));
    await byBatch.waitFor((events) => events.some((event) => event.event === 'Delete'));
  });

  it('when no webhook is configured, events still flow; unknown names are 404 and a bad id is 400', async () => {
    service = await startTestService();
    const all = await open('/api/v1/events');
    const job = await service.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await all.waitFor((events) => lastStatus(events, job.body.name) === 'Succeeded');
    await service.request.get('/api/v1/events?batch=batch-compute-20260101000000-aaaaaaaa').expect(404);
    await service.request.get('/api/v1/events?job=batch-compute-20260101000000-aaaaaaaa-bbbbbbbb').expect(404);
    const bad = await service.request.get('/api/v1/events').set('last-event-id', 'not an id').expect(400);
    assert.equal(bad.body.reason, 'BadRequest');
  });

  it('when a stream drops and the reader resumes with Last-Event-ID, it sees every later event exactly once', async () => {
    service = await startTestService();
    const reference = await open('/api/v1/events');
    const dropped = await open('/api/v1/events');
    const batch = await service.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 12 }, () => aJob({ sleepSeconds: 0.2 })) }).expect(200);
    const jobs = (batch.body.jobStatuses as Array<{ name: string }>).map((job) => job.name);
    await dropped.waitFor((events) => events.length >= 6);
    dropped.drop();
    const seen = dropped.received;
    const resumed = await open('/api/v1/events', { 'last-event-id': seen.at(-1)!.id! });
    await reference.waitFor((events) => jobs.every((job) => lastStatus(events, job) === 'Succeeded'));
    await resumed.waitFor((events) => jobs.every((job) => lastStatus([...seen, ...events], job) === 'Succeeded'));

    const together = ids([...seen, ...resumed.received]);
    assert.equal(new Set(together).size, together.length, 'no event seen twice');
    assert.deepEqual(together, ids(reference.received));
  });

  it('when the Last-Event-ID is older than the window, the reader is told to read the state again and follows from the newest event', async () => {
    service = await startTestService({ env: { JOB_SCHEDULER_EVENTS_WINDOW: '10' } });
    const all = await open('/api/v1/events');
    const batch = await service.request.post('/api/v1/batches').send({ jobScheduleDescriptions: Array.from({ length: 6 }, () => aJob()) }).expect(200);
    const jobs = (batch.body.jobStatuses as Array<{ name: string }>).map((job) => job.name);
    const events = await all.waitFor((received) => jobs.every((job) => lastStatus(received, job) === 'Succeeded'));
    assert.ok(events.length > 10);

    const late = await open('/api/v1/events', { 'last-event-id': events[0]!.id! });
    const [reset] = await late.waitFor((received) => received.length >= 1);
    assert.equal(reset!.event, 'Reset');
    assert.equal(reset!.id, events.at(-1)!.id);
    assert.equal(JSON.parse(reset!.data!).resumeFrom, events.at(-1)!.id);
    const next = await service.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await late.waitFor((received) => lastStatus(received, next.body.name) === 'Succeeded');
    assert.equal(late.received.filter((event) => event.event === 'Update' && jobs.includes(dataOf(event).jobStatuses![0]!.name)).length, 0, 'nothing from before the reset');
  });

  it('when a reader does not read, it is cut off with a Resume event while the API and the other readers go on, and resuming from it misses nothing', async () => {
    service = await startTestService();
    // Ids of 240 characters make each event over 1 KB. Stopping two batches of 10,000 waiting jobs makes 20,000
    // events at once: a reader that does not read falls past the default bound (15,000 events behind) once the
    // socket's buffers (a few MB) are full.
    const long = 'x'.repeat(240);
    const batchOf = async () => (await service!.request.post('/api/v1/batches').send({
      batchId: long,
      jobScheduleDescriptions: Array.from({ length: 10_000 }, (_, i) => aJob({ sleepSeconds: 60 }, { jobId: `${long}-${i}` })),
    }).expect(200)).body.name as string;
    const [first, second] = [await batchOf(), await batchOf()];
    const stalled = await open('/api/v1/events');
    stalled.pause();
    const reader = await open('/api/v1/events');
    const stoppedIn = (events: SseEvent[], batch: string) => events.filter((event) => event.event === 'Update' && dataOf(event).name === batch && dataOf(event).jobStatuses![0]!.status === 'Stopped').length;

    await service.request.post(`/api/v1/batches/${second}/stop`).expect(200);
    await reader.waitFor((events) => stoppedIn(events, second) === 10_000, 60_000);
    await service.request.post(`/api/v1/batches/${first}/stop`).expect(200);
    // The API answers while the stalled reader holds its place.
    const single = await service.request.post('/api/v1/jobs').send(aJob()).expect(200);
    await waitForJobEnd(service.request, single.body.name);
    const everything = await reader.waitFor((events) => stoppedIn(events, first) === 10_000 && lastStatus(events, single.body.name) === 'Succeeded', 60_000);
    assert.equal(everything.some((event) => event.event === 'Resume'), false, 'the reader that reads is not cut off');

    stalled.resume();
    await stalled.whenEnded();
    const cut = stalled.received;
    const resume = cut.at(-1)!;
    assert.equal(resume.event, 'Resume');
    const { resumeFrom } = JSON.parse(resume.data!) as { resumeFrom: string };
    assert.equal(resumeFrom, cut.at(-2)!.id, 'resume from the last event the reader was sent');
    assert.ok(cut.length < everything.length / 2);

    const resumed = await open('/api/v1/events', { 'last-event-id': resumeFrom });
    await resumed.waitFor((events) => cut.length - 1 + events.length >= everything.length, 60_000);
    const together = ids([...cut.slice(0, -1), ...resumed.received]);
    assert.equal(new Set(together).size, together.length, 'no event seen twice');
    assert.deepEqual(together, ids(everything));
  });

  it('when the service shuts down, open streams end', async () => {
    service = await startTestService();
    const stream = await open('/api/v1/events');
    service.service.closeStreams();
    await stream.whenEnded();
    await waitForJobEnd(service.request, (await service.request.post('/api/v1/jobs').send(aJob()).expect(200)).body.name);
    await service.request.get('/api/v1/events').expect(503);
  });

  it('when the service gets SIGTERM with readers connected, their streams end and it exits 0 before its shutdown deadline', async () => {
    const fixture = new ProcessServiceFixture('events-shutdown', { name: 'compute', command: [process.execPath, fixtureJob] });
    try {
      const running = await fixture.start();
      const stream = await SseClient.open(`http://127.0.0.1:${running.port}`, '/api/v1/events');
      streams.push(stream);
      const job = await running.request.post('/api/v1/jobs').send(aJob()).expect(200);
      await stream.waitFor((events) => lastStatus(events, job.body.name) === 'Succeeded');
      const exited = new Promise<number | null>((resolve) => running.child.once('exit', (code) => resolve(code)));
      running.child.kill('SIGTERM');
      await stream.whenEnded();
      // The deadline (25 s by default) exits with 1: 0 means the streams did not hold the shutdown.
      assert.equal(await exited, 0);
    } finally {
      fixture.cleanUp();
    }
  });
});
