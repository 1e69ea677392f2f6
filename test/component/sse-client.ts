import { type ClientRequest, type IncomingMessage, request } from 'node:http';

/** One event as received: its fields, or a comment (heartbeat). */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** A reader of a Server-Sent Events stream over a real connection, parsing events as they arrive. */
export class SseClient {
  readonly events: SseEvent[] = [];
  ended = false;
  private buffer = '';
  private readonly endWaiters: Array<() => void> = [];

  private constructor(readonly status: number, readonly response: IncomingMessage, private readonly req: ClientRequest) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.take(chunk));
    const end = () => {
      this.ended = true;
      for (const waiter of this.endWaiters.splice(0)) waiter();
    };
    response.on('end', end);
    response.on('close', end);
  }

  /** Opens `path` on the service behind `baseUrl` (`http://127.0.0.1:port`); resolves once the answer's head is in. */
  static open(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, baseUrl), { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
        resolve(new SseClient(response.statusCode ?? 0, response, req));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Real events (not comments) received so far. */
  get received(): SseEvent[] {
    return this.events.filter((event) => event.comment === undefined);
  }

  /** Waits until `done` holds for the events received, at most `timeoutMs`. */
  async waitFor(done: (events: SseEvent[]) => boolean, timeoutMs = 30_000): Promise<SseEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received)) {
      if (Date.now() > deadline) throw new Error(`events not seen within ${timeoutMs} ms; got ${this.received.length}: ${JSON.stringify(this.received.slice(-3)).slice(0, 1500)}`);
      if (this.ended) throw new Error(`the stream ended; got ${this.received.length}: ${JSON.stringify(this.received.slice(-3)).slice(0, 1500)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received;
  }

  /** Resolves when the server has ended the stream. */
  whenEnded(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((resolve) => this.endWaiters.push(resolve));
  }

  /** Stops reading: bytes pile up in the socket and then on the server. */
  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  /** Drops the connection, as a network failure would. */
  drop(): void {
    this.req.destroy();
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) event.comment = line.slice(1).trim();
        else if (line.startsWith('id: ') || line === 'id:') event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) event.data = line.slice(6);
      }
      if (event.comment !== undefined || event.id !== undefined || event.event !== undefined || event.data !== undefined) this.events.push(event);
    }
  }
}

/** The base URL a supertest agent was made for. */
export function baseUrlOf(agent: unknown): string {
  return (agent as { app: string }).app;
}
