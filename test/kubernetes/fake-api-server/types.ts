/** Kubernetes objects travel as plain JSON; the fake checks their shape itself, as the API server does. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = any;

/** One request as the fake saw it, with the RBAC verb it maps to. */
export interface RequestLogEntry {
  method: string;
  /** The path without the query string. */
  path: string;
  query: Record<string, string>;
  /** The RBAC verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  /** e.g. 'jobs', 'pods'; '' for discovery and unknown paths. */
  resource: string;
  /** '' for the core group, 'batch' for Jobs. */
  group: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The HTTP status answered; 0 while a watch has not started streaming. */
  status: number;
}

/**
 * A failure to inject into the next matching requests. `resource: 'jobs'` matches the Job and its
 * subresources; `resource: 'jobs/status'` only the status subresource.
 */
export interface FailureRule {
  verb?: string;
  resource?: string;
  /** How many matching requests fail; 1 when unset. */
  times?: number;
  status: 429 | 500 | 503;
  retryAfterSeconds?: number;
}

export const clone = <T>(value: T): T => structuredClone(value);

export function isPlainObject(value: unknown): value is Record<string, Obj> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Kubernetes stores metav1.Time with second precision. */
export function nowTimestamp(offsetSeconds = 0): string {
  return new Date(Date.now() + offsetSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}
