import assert from 'node:assert/strict';
import { JobSchedulerError, type LiveEvent } from '@job-scheduler/client';
import { followEvents } from '../../packages/client/src/events.js';

/** A stream answer whose body is `text`, then its end (the connection closed). */
function stream(text: string): Response {
  return new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

const update = (id: string) => `id: ${id}\nevent: Update\ndata: {"name":"b","status":"Running"}\n\n`;

describe('the live events iterator, over scripted connections', function () {
  it('when told to Resume, reconnects from resumeFrom at once; a Reset is handed over; an ended stream is reconnected after its retry', async () => {
    const asked: Array<string | undefined> = [];
    const answers = [
      `retry: 700\n\n${update('a1')}event: Resume\ndata: {"message":"fell behind","resumeFrom":"a1"}\n\n`,
      `${update('b2')}`,
      `id: c3\nevent: Reset\ndata: {"message":"read again","resumeFrom":"c3"}\n\n${update('d4')}`,
    ];
    const waits: number[] = [];
    const stop = new AbortController();
    const seen: LiveEvent[] = [];
    const open = async (lastEventId: string | undefined) => {
      asked.push(lastEventId);
      const next = answers.shift();
      if (next === undefined) throw new JobSchedulerError({ message: 'gone', code: 404, reason: 'NotFound' });
      return stream(next);
    };
    const error = await (async () => {
      for await (const event of followEvents(open, { signal: stop.signal, lastEventId: 'z0' }, async (ms) => void waits.push(ms))) seen.push(event);
    })().then(() => undefined, (e: unknown) => e);
    assert.deepEqual(seen.map((e) => `${e.event} ${e.id}`), ['Update a1', 'Resume undefined', 'Update b2', 'Reset c3', 'Update d4']);
    assert.deepEqual(asked, ['z0', 'a1', 'b2', 'd4']);
    assert.deepEqual(waits, [700, 700], 'no wait after Resume; the retry the service set after each end');
    assert.ok(error instanceof JobSchedulerError && error.code === 404, 'a refusal that cannot pass ends the iteration');
  });

  it('when a connection is refused for a while, waits with growing delays and goes on from the last event', async () => {
    const asked: Array<string | undefined> = [];
    const waits: number[] = [];
    const stop = new AbortController();
    let calls = 0;
    const open = async (lastEventId: string | undefined) => {
      asked.push(lastEventId);
      calls++;
      if (calls === 1) return stream(update('a1'));
      if (calls <= 4) throw new JobSchedulerError({ message: 'busy', code: 503, reason: 'ServiceUnavailable' });
      return stream(update('b2'));
    };
    const seen: string[] = [];
    for await (const event of followEvents(open, { signal: stop.signal }, async (ms) => void waits.push(ms))) {
      seen.push(event.id!);
      if (event.id === 'b2') stop.abort();
    }
    assert.deepEqual(seen, ['a1', 'b2']);
    assert.deepEqual(asked, [undefined, 'a1', 'a1', 'a1', 'a1']);
    assert.deepEqual(waits, [2000, 2000, 4000, 8000]);
  });

  it('when maxReconnects is passed, throws the last refusal', async () => {
    const open = async () => {
      throw new JobSchedulerError({ message: 'no answer', code: 0, reason: 'NetworkError' });
    };
    const error = await (async () => {
      for await (const _event of followEvents(open, { maxReconnects: 2 }, async () => undefined));
    })().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof JobSchedulerError && error.reason === 'NetworkError');
  });
});
