import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { ApiError, type FieldProblem, type Reason, summarizeProblems } from '../core/errors.js';
import type { Logger } from '../logger.js';
import { describeProblems, type ValidatorProblem } from './validation-messages.js';

/** The Radix `Status` body every error is answered with. */
export interface FailureBody {
  status: 'Failure';
  message: string;
  code: number;
  reason: Reason;
  details?: { fields: FieldProblem[] };
}

const REASONS: Record<number, Reason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
};

/** Errors raised by express-openapi-validator, as far as we read them. */
interface ForeignError {
  status?: number;
  statusCode?: number;
  type?: string;
  message?: string;
  errors?: ValidatorProblem[];
  expose?: boolean;
}

const DETAIL_PROBLEMS = 100;

/**
 * Turns anything thrown in a handler into a Status body; unknown errors become a generic 500.
 * The API document, when given, lets validation messages name the fields and parameters that exist.
 */
export function errorWriter(logger: Logger, apiDocument?: object): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const body = toBody(error, req, apiDocument);
    if (body.code >= 500) {
      logger.error('request failed', { method: req.method, path: req.path, error: error instanceof Error ? error.stack : String(error) });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error instanceof ApiError && error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    res.status(body.code).json(body);
  };
}

/** What Node's HTTP server reports before a request reaches the app, and how it is answered. */
const CLIENT_ERRORS: Record<string, { code: number; text: string; reason: Reason; message: string }> = {
  HPE_HEADER_OVERFLOW: { code: 431, text: 'Request Header Fields Too Large', reason: 'BadRequest', message: 'request headers too large' },
  ERR_HTTP_REQUEST_TIMEOUT: {
    code: 408, text: 'Request Timeout', reason: 'Timeout',
    message: 'the request was not received in time (JOB_SCHEDULER_REQUEST_TIMEOUT_SECONDS); send it again, faster or smaller',
  },
};
const MALFORMED = { code: 400, text: 'Bad Request', reason: 'BadRequest' as Reason, message: 'malformed HTTP request' };

/**
 * Answers requests Node's HTTP server refuses before the app sees them (malformed framing, huge
 * headers, a request not received within the request timeout) with a Status body too, instead of an
 * empty answer.
 */
export function answerMalformedRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return;
    const { code, text, reason, message } = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
    const body = JSON.stringify({ status: 'Failure', message, code, reason });
    socket.end(`HTTP/1.1 ${code} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(ApiError.notFound('path', req.path));
};

function toBody(error: unknown, req: Request, apiDocument: object | undefined): FailureBody {
  const route = `${req.method} ${req.path}`;
  if (error instanceof ApiError) return bodyOf(error.code, error.reason, error.message, error.fields);
  const foreign = (error ?? {}) as ForeignError;
  const code = foreign.status ?? foreign.statusCode;
  if (typeof code === 'number' && code >= 400 && code < 500) {
    // The validator's "no such operation" names the request path as if it were a field: say it plainly.
    if (code === 404) return bodyOf(404, 'NotFound', `${route}: no such resource`);
    if (code === 405) return bodyOf(405, 'MethodNotAllowed', `${route}: method not allowed`);
    const fields = describeProblems(foreign.errors ?? [], req, apiDocument);
    const message = fields.length > 0
      ? summarizeProblems(fields)
      : foreign.message ?? 'bad request';
    return bodyOf(code, REASONS[code] ?? 'BadRequest', message, fields.length > 0 ? fields.slice(0, DETAIL_PROBLEMS) : undefined);
  }
  return bodyOf(500, 'InternalError', 'internal error; see the service log');
}

function bodyOf(code: number, reason: Reason, message: string, fields?: FieldProblem[]): FailureBody {
  const body: FailureBody = { status: 'Failure', message, code, reason };
  if (fields && fields.length > 0) body.details = { fields };
  return body;
}
