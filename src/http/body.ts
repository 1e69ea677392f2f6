import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import type { Request, RequestHandler, Response } from 'express';
import { ApiError } from '../core/errors.js';
import { requestContext } from '../request-context.js';

/** Bodies up to this size are checked and decoded in one piece at their end; larger ones as they arrive. */
const DECODE_AT_END_BYTES = 1024 * 1024;

/** Methods whose body means something here; a body on another method is not read. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Reads a JSON request body into `req.body`, refusing early what it would be wasteful or wrong to
 * take: a body that is not JSON (415), a declared length over the limit (413 before reading anything),
 * a body without a declared length that runs over it (413 as soon as it does), bytes that are not
 * UTF-8 (400: the payload is promised byte for byte), and text that is not JSON (400).
 *
 * Unlike body-parser, a refused body is not drained first: the answer goes at once and the connection
 * is closed, so a client declaring 2^53 bytes and sending two gets its 413 now, not at the server's
 * request timeout.
 */
export function jsonBody(options: { maxBytes: number }): RequestHandler {
  return (req, res, next) => {
    if (!BODY_METHODS.has(req.method) || !hasBody(req)) {
      next();
      return;
    }
    const refusal = headerRefusal(req, options.maxBytes);
    if (refusal) {
      refuse(req, res, refusal, next);
      return;
    }
    // A small body is checked and decoded once at its end (isUtf8 is native and fast). A large one is decoded as
    // it arrives, so that the UTF-8 check and the copy are spread over the reads instead of holding the event
    // loop at the end of a large batch.
    const chunks: Buffer[] = [];
    let decoder: TextDecoder | undefined;
    let text = '';
    let received = 0;
    let done = false;
    // Stream events run outside the request's async context: the rest of the chain must run inside it.
    const context = requestContext.getStore();
    const resume = (step: () => void) => (context ? requestContext.run(context, step) : step());
    const finish = (error?: ApiError) => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) {
        resume(() => refuse(req, res, error, next));
        return;
      }
      let body: unknown;
      try {
        body = received === 0 ? undefined : parse(text);
      } catch (parseError) {
        resume(() => next(parseError));
        return;
      }
      req.body = body;
      resume(() => next());
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > options.maxBytes) {
        finish(tooLarge(options.maxBytes));
        return;
      }
      if (!decoder) {
        chunks.push(chunk);
        if (received <= DECODE_AT_END_BYTES) return;
        decoder = new TextDecoder('utf-8', { fatal: true });
        chunk = Buffer.concat(chunks.splice(0), received);
      }
      const decoded = decode(decoder, chunk);
      if (decoded === undefined) finish(notUtf8());
      else text += decoded;
    };
    const onEnd = () => {
      if (!decoder) {
        const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
        if (!isUtf8(whole)) finish(notUtf8());
        else {
          text = whole.toString('utf8');
          finish();
        }
        return;
      }
      const rest = decode(decoder);
      if (rest === undefined) finish(notUtf8());
      else {
        text += rest;
        finish();
      }
    };
    const onError = () => finish(ApiError.badRequest('the request body could not be read'));
    // Closed before its end: the client went away and there is no one to answer.
    const onClose = () => {
      done = true;
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  };
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

function headerRefusal(req: Request, maxBytes: number): ApiError | undefined {
  if (!req.is('application/json')) {
    return ApiError.unsupportedMediaType(`a request body must be JSON: send it with Content-Type: application/json (got ${describeType(req.get('content-type'))})`);
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(req.get('content-type') ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return ApiError.unsupportedMediaType('a request body must be UTF-8: send Content-Type: application/json without a charset, or with charset=utf-8');
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return tooLarge(maxBytes, declared);
  return undefined;
}

function describeType(contentType: string | undefined): string {
  if (!contentType) return 'no Content-Type';
  const type = contentType.split(';')[0]!.trim();
  return /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type : 'an unreadable Content-Type';
}

export function tooLarge(maxBytes: number, declared?: number): ApiError {
  const size = declared === undefined ? `more than ${maxBytes} bytes` : `${declared} bytes`;
  return ApiError.payloadTooLarge(`the request body is ${size}; at most ${maxBytes} are accepted (JOB_SCHEDULER_MAX_REQUEST_BYTES): split the batch`);
}

/**
 * Answers at once and closes the connection after the answer (what is left of the body cannot be told
 * from a next request); what arrives meanwhile is read and dropped, so the answer is not lost to a reset.
 */
export function refuse(req: Request, res: Response, error: ApiError, next: (error: unknown) => void): void {
  res.setHeader('Connection', 'close');
  req.resume();
  next(error);
}

/** The text of a chunk (or, without one, of what the decoder still holds), or undefined when it is not UTF-8. */
function decode(decoder: TextDecoder, chunk?: Buffer): string | undefined {
  try {
    return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
  } catch {
    return undefined;
  }
}

function notUtf8(): ApiError {
  return ApiError.badRequest('the request body is not valid UTF-8: send JSON text encoded as UTF-8 (a payload is delivered byte for byte, so no byte is replaced)');
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw ApiError.badRequest('the request body is not valid JSON');
  }
}
