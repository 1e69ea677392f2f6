/** The `Status` body the service answers every error with (`code` equals the HTTP status). */
export interface StatusBody {
  status: 'Success' | 'Failure';
  message: string;
  code: number;
  reason?: string;
  details?: { fields?: Array<{ path: string; message: string }> };
}

/** Why a call failed: the service's `Status` answer, or no answer at all (`code` 0, reason `NetworkError`). */
export class JobSchedulerError extends Error {
  override readonly name = 'JobSchedulerError';
  /** The HTTP status; 0 when the service could not be reached. */
  readonly code: number;
  /** The Radix reason (`NotFound`, `Invalid`, `TooManyRequests`...), or `NetworkError`. */
  readonly reason: string;
  /** The offending fields of a bad request, when the service named them. */
  readonly fields: Array<{ path: string; message: string }>;
  /** Seconds the service asked to wait before trying again (`Retry-After`), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(options: { message: string; code: number; reason: string; fields?: Array<{ path: string; message: string }>; retryAfterSeconds?: number; cause?: unknown }) {
    super(options.message, { cause: options.cause });
    this.code = options.code;
    this.reason = options.reason;
    this.fields = options.fields ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** True for a fault that may pass by itself (no answer, 429, 503): worth trying again later. */
  get retryable(): boolean {
    return this.code === 0 || this.code === 429 || this.code === 503;
  }

  /** From an error answer: its `Status` body when it has one, else the HTTP status line. */
  static fromResponse(response: Response, body: unknown): JobSchedulerError {
    const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
    if (isStatusBody(body)) {
      return new JobSchedulerError({ message: body.message, code: response.status, reason: body.reason ?? reasonOf(response.status), fields: body.details?.fields, retryAfterSeconds });
    }
    return new JobSchedulerError({ message: `HTTP ${response.status} ${response.statusText}`.trim(), code: response.status, reason: reasonOf(response.status), retryAfterSeconds });
  }

  /** From a request that got no answer (refused connection, reset, DNS...). */
  static fromNetwork(url: string, cause: unknown): JobSchedulerError {
    const detail = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
    return new JobSchedulerError({ message: `could not reach the job scheduler at ${new URL(url).origin}: ${detail}`, code: 0, reason: 'NetworkError', cause });
  }
}

function isStatusBody(body: unknown): body is StatusBody {
  return typeof body === 'object' && body !== null && typeof (body as StatusBody).message === 'string' && typeof (body as StatusBody).code === 'number';
}

/** `Retry-After` as seconds: a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

const REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 410: 'Expired',
  413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType', 422: 'Invalid', 429: 'TooManyRequests', 503: 'ServiceUnavailable', 507: 'InsufficientStorage',
};

function reasonOf(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'InternalError' : 'Unknown');
}
