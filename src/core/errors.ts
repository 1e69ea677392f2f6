/**
 * The one catalogue of errors the API answers with. Each renders as a Radix `Status` body
 * whose `code` equals the HTTP status.
 */

export type Reason =
  | 'BadRequest'
  | 'Invalid'
  | 'NotFound'
  | 'RequestEntityTooLarge'
  | 'Unauthorized'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'Conflict'
  | 'ServiceUnavailable'
  | 'InsufficientStorage'
  | 'TooManyRequests'
  | 'Timeout'
  | 'Expired'
  | 'InternalError';

export interface FieldProblem {
  path: string;
  message: string;
}

/** How many problems a message names; the rest are counted ("and N more") and listed in `details.fields`. */
export const MESSAGE_PROBLEMS = 5;

/** One message for a list of problems: the first few, each as "path message", then how many more there are. */
export function summarizeProblems(problems: readonly FieldProblem[]): string {
  const shown = problems.slice(0, MESSAGE_PROBLEMS).map((p) => `${p.path} ${p.message}`);
  const more = problems.length > MESSAGE_PROBLEMS ? ` (and ${problems.length - MESSAGE_PROBLEMS} more)` : '';
  return shown.join('; ') + more;
}

export class ApiError extends Error {
  readonly code: number;
  readonly reason: Reason;
  readonly fields: FieldProblem[] | undefined;
  /** Sent as `Retry-After` when set. */
  retryAfterSeconds: number | undefined;

  private constructor(code: number, reason: Reason, message: string, fields?: FieldProblem[]) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.fields = fields;
  }

  static notFound(kind: string, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${kind} ${name} not found`);
  }

  /** The named thing exists, but what was asked of it does not (yet): the message says which and what to do. */
  static notFoundIn(message: string): ApiError {
    return new ApiError(404, 'NotFound', message);
  }

  static badRequest(message: string, fields?: FieldProblem[]): ApiError {
    return new ApiError(400, 'BadRequest', message, fields);
  }

  /** The request is well-formed but its content cannot be accepted (a field's value). */
  static invalid(message: string, fields?: FieldProblem[]): ApiError {
    return new ApiError(422, 'Invalid', message, fields);
  }

  static payloadTooLarge(message: string, fields?: FieldProblem[]): ApiError {
    return new ApiError(413, 'RequestEntityTooLarge', message, fields);
  }

  static unauthorized(message = 'a valid bearer token is required'): ApiError {
    return new ApiError(401, 'Unauthorized', message);
  }

  static methodNotAllowed(method: string, path: string): ApiError {
    return new ApiError(405, 'MethodNotAllowed', `${method} is not allowed on ${path}`);
  }

  static unsupportedMediaType(message: string): ApiError {
    return new ApiError(415, 'UnsupportedMediaType', message);
  }

  /** The service holds as much as it is configured to; the client may try again after `retryAfterSeconds`. */
  static tooManyRequests(message: string, retryAfterSeconds: number): ApiError {
    const error = new ApiError(429, 'TooManyRequests', message);
    error.retryAfterSeconds = retryAfterSeconds;
    return error;
  }

  static conflict(message: string): ApiError {
    return new ApiError(409, 'Conflict', message);
  }

  /** A continue token that can no longer resume its list (410, as Kubernetes answers). */
  static expired(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  }

  /** The service cannot do it now (503); the client may try again after `retryAfterSeconds`. */
  static unavailable(message: string, retryAfterSeconds = UNAVAILABLE_RETRY_SECONDS): ApiError {
    const error = new ApiError(503, 'ServiceUnavailable', message);
    error.retryAfterSeconds = retryAfterSeconds;
    return error;
  }

  /** The service cannot store the request: its disk is full (507); freeing space takes a person, so the wait is longer. */
  static insufficientStorage(message: string, retryAfterSeconds = FULL_DISK_RETRY_SECONDS): ApiError {
    const error = new ApiError(507, 'InsufficientStorage', message);
    error.retryAfterSeconds = retryAfterSeconds;
    return error;
  }

  static internal(): ApiError {
    return new ApiError(500, 'InternalError', 'internal error; see the service log');
  }
}

/** `Retry-After` of a 503: the service retries by itself (store writes, API server calls) within seconds. */
export const UNAVAILABLE_RETRY_SECONDS = 5;
/** `Retry-After` of a 507: a full disk is freed by someone, not by waiting a few seconds. */
export const FULL_DISK_RETRY_SECONDS = 30;
