import type { Obj } from './types.js';

/** What a resource is called in Status messages: `jobs.batch`, `configmaps`; `Job.batch`, `ConfigMap`. */
export interface Named {
  resource: string;
  kind: string;
  group: string;
}

/** One field error, as `details.causes[]` carries it. */
export interface Cause {
  reason: string;
  message: string;
  field: string;
}

/** An error the fake answers with a `Status` body, shaped as the real API server's. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Obj,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toStatus(): Obj {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code };
  }
}

const qualifiedResource = (info: Named) => (info.group ? `${info.resource}.${info.group}` : info.resource);
const qualifiedKind = (info: Named) => (info.group ? `${info.kind}.${info.group}` : info.kind);
const resourceDetails = (info: Named, name: string) => ({ name, ...(info.group ? { group: info.group } : {}), kind: info.resource });

export const notFound = (info: Named, name: string) => new ApiError(404, 'NotFound', `${qualifiedResource(info)} "${name}" not found`, resourceDetails(info, name));

export const alreadyExists = (info: Named, name: string) => new ApiError(409, 'AlreadyExists', `${qualifiedResource(info)} "${name}" already exists`, resourceDetails(info, name));

export const conflict = (info: Named, name: string, detail = 'the object has been modified; please apply your changes to the latest version and try again') =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(info)} "${name}": ${detail}`, resourceDetails(info, name));

export function invalid(info: Named, name: string, causes: Cause[]): ApiError {
  const items = causes.map((cause) => `${cause.field}: ${cause.message}`);
  const list = items.length === 1 ? items[0] : `[${items.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind(info)} "${name}" is invalid: ${list}`, { name, ...(info.group ? { group: info.group } : {}), kind: info.kind, causes });
}

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
export const expired = (message: string) => new ApiError(410, 'Expired', message);
export const resourceNotFound = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
export const methodNotAllowed = () => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
export const entityTooLarge = (limit: number) => new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
export const internalError = (message: string) => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
export const unavailable = () => new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', {});

export const unsupportedMediaType = (contentType: string, accepted: string[]) =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, { causes: [{ reason: 'UnexpectedHeader', message: `unsupported media type "${contentType}"`, field: 'Content-Type' }] });

export const tooManyRequests = (retryAfterSeconds: number) =>
  new ApiError(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });

export const tooLargeResourceVersion = (requested: number, current: number) =>
  new ApiError(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });

/** A decoding failure, as the API server words it when the body does not fit the kind. */
export const cannotHandle = (kind: string, version: string, detail: string) => badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${detail}`);

const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value));

/** Field error constructors, worded as k8s.io/apimachinery/pkg/util/validation/field words them. */
export const cause = {
  required: (field: string, detail = ''): Cause => ({ reason: 'FieldValueRequired', message: `Required value${detail ? `: ${detail}` : ''}`, field }),
  invalid: (field: string, value: unknown, detail: string): Cause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(value)}: ${detail}`, field }),
  tooLong: (field: string, max: number): Cause => ({ reason: 'FieldValueTooLong', message: `Too long: must have at most ${max} bytes`, field }),
  notSupported: (field: string, value: unknown, supported: string[]): Cause => ({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`, field }),
  forbidden: (field: string, detail: string): Cause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field }),
  duplicate: (field: string, value: unknown): Cause => ({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${show(value)}`, field }),
  notFound: (field: string, value: unknown): Cause => ({ reason: 'FieldValueNotFound', message: `Not found: ${show(value)}`, field }),
};
