import { connect, type Socket } from 'node:net';

/** One HTTP answer as read off the wire. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, when it is. */
  json: Record<string, unknown> | undefined;
}

export interface RawRequest {
  /** The request line and headers, without the blank line that ends them. */
  head: string;
  /** Bytes sent after the head; the request is left open when fewer than it declares. */
  body?: Buffer | string;
  /** False to leave the head unfinished (no blank line after it). */
  endHead?: boolean;
  /** Give up (and fail) when no full answer came within this bound. */
  answerWithinMs?: number;
}

/**
 * Writes a request byte for byte (a lying Content-Length, bytes that are not UTF-8, a body that never
 * ends) and reads the first full answer. The socket is always closed after.
 */
export function rawRequest(port: number, request: RawRequest): Promise<RawAnswer> {
  const bound = request.answerWithinMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(`${request.head}\r\n${request.endHead === false ? '' : '\r\n'}`);
      if (request.body !== undefined) socket.write(request.body);
    });
    const timer = setTimeout(() => settle(new Error(`no full answer within ${bound} ms`)), bound);
    const settle = (outcome: RawAnswer | Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const tryParse = (ended: boolean) => {
      const answer = parseAnswer(received, ended);
      if (answer) settle(answer);
      else if (ended) settle(new Error(`the connection closed without a full answer: ${JSON.stringify(received.toString('latin1').slice(0, 300))}`));
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    // A reset after the answer arrived is fine: the server closes a connection whose body it will not read.
    socket.on('error', () => tryParse(true));
  });
}

function parseAnswer(bytes: Buffer, ended: boolean): RawAnswer | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  const rest = bytes.subarray(end + 4);
  if (length === undefined ? !ended : rest.length < length) return undefined;
  const body = rest.subarray(0, length).toString('utf8');
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: Number(statusLine?.split(' ')[1]), headers, body, json };
}
