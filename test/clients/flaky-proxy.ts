import http, { type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the proxy does to one request: `reset` closes the connection before it reaches the service;
 * `lose-answer` lets the service do it and closes the connection instead of answering; a status answers
 * that `Status` itself; `cut-after-first-event` passes an event stream on and closes it after its first event.
 */
export type Fault = 'reset' | 'lose-answer' | 'cut-after-first-event' | { status: number; retryAfter?: number };

/** A request the proxy saw. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

const FIRST_EVENT = /id: [0-9a-f]+\nevent: \w+\ndata: .*\n\n/;

/** A real HTTP proxy on 127.0.0.1 in front of the service that meets the next requests with real faults. */
export class FlakyProxy {
  readonly seen: SeenRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly upstreams = new Set<http.ClientRequest>();

  private constructor(private readonly server: http.Server, private readonly target: URL, readonly url: string) {}

  static async start(target: string): Promise<FlakyProxy> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const proxy = new FlakyProxy(server, new URL(target), `http://127.0.0.1:${port}`);
    server.on('connection', (socket) => {
      proxy.sockets.add(socket);
      socket.on('close', () => proxy.sockets.delete(socket));
    });
    server.on('request', (req, res) => proxy.handle(req, res));
    return proxy;
  }

  /** The next requests meet these faults, in order; later ones pass. */
  failNext(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** The requests seen for a path (without the query). */
  requestsTo(method: string, path: string): SeenRequest[] {
    return this.seen.filter((r) => r.method === method && r.url.split('?')[0] === path);
  }

  async close(): Promise<void> {
    for (const upstream of this.upstreams) upstream.destroy();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const fault = this.faults.shift();
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (typeof fault === 'object') {
      const body = JSON.stringify({ status: 'Failure', message: `injected ${fault.status}`, code: fault.status, reason: fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable' });
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter !== undefined && { 'retry-after': String(fault.retryAfter) }) });
      res.end(body);
      return;
    }
    const upstream = http.request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers });
    this.upstreams.add(upstream);
    upstream.on('close', () => this.upstreams.delete(upstream));
    upstream.on('error', () => req.socket.destroy());
    upstream.on('response', (answer) => {
      if (fault === 'lose-answer') {
        answer.resume();
        answer.on('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.statusCode!, answer.headers);
      res.flushHeaders();
      if (fault !== 'cut-after-first-event') {
        answer.pipe(res);
        return;
      }
      let text = '';
      answer.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const match = FIRST_EVENT.exec(text);
        if (!match) return;
        answer.destroy();
        res.write(text.slice(0, match.index + match[0].length), () => req.socket.destroy());
      });
    });
    req.pipe(upstream);
  }
}
