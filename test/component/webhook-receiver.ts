import { createServer, type Server } from 'node:http';
import type { BatchStatusView, JobStatusView } from '../../src/core/view.js';

/** One request the receiver got, whatever it answered. */
export interface Received {
  id: string;
  signature: string;
  timestamp: string;
  raw: string;
  body: BatchStatusView & { event: string };
  /** The HTTP status it was answered with. */
  answered: number;
}

/** What to answer for a request: a status, or a promise of one (to hold it). */
export type Answer = (event: Omit<Received, 'answered'>, index: number) => number | Promise<number>;

export interface Receiver {
  url: string;
  /** Every request, in the order they arrived. */
  requests: Received[];
  /** The requests answered 2xx, in the order they arrived. */
  received: Received[];
  attempts(): number;
  /** Changes how later requests are answered. */
  answerWith(answer: Answer): void;
  close(): Promise<void>;
}

/** A webhook receiver on loopback; by default it refuses its first `failFirst` requests with 500. */
export async function startReceiver(failFirst = 0): Promise<Receiver> {
  const requests: Received[] = [];
  const received: Received[] = [];
  let answer: Answer = (_event, index) => (index < failFirst ? 500 : 204);
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      const event = {
        id: String(req.headers['x-job-scheduler-event-id']),
        signature: String(req.headers['x-job-scheduler-signature']),
        timestamp: String(req.headers['x-job-scheduler-timestamp']),
        raw,
        body: JSON.parse(raw) as Received['body'],
      };
      const index = requests.length;
      const record: Received = { ...event, answered: 0 };
      requests.push(record);
      void Promise.resolve(answer(event, index)).then((status) => {
        record.answered = status;
        if (status >= 200 && status < 300) received.push(record);
        if (!res.destroyed) res.writeHead(status).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/events`,
    requests,
    received,
    attempts: () => requests.length,
    answerWith(next) {
      answer = next;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** What one transition of a job looks like: status, attempts and the last attempt's replica status. */
export function transitionOf(job: JobStatusView): string {
  const last = job.podStatuses.at(-1);
  return `${job.status}#${job.podStatuses.length}#${last?.replicaStatus.status ?? '-'}`;
}

/** Each event, once per id (as a de-duplicating receiver keeps them), in the order they first arrived. */
export function deduplicated(events: Received[]): Received[] {
  const seen = new Set<string>();
  return events.filter((event) => !seen.has(event.id) && seen.add(event.id));
}

/** The transitions a de-duplicating receiver learnt about a job, in order. */
export function transitionsOf(events: Received[], jobName: string): string[] {
  return deduplicated(events).flatMap((event) => (event.body.event === 'Update' ? event.body.jobStatuses ?? [] : [])
    .filter((job) => job.name === jobName).map(transitionOf));
}
