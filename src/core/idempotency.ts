import { createHash, type Hash } from 'node:crypto';
import { ApiError } from './errors.js';

/** The request header that makes a submission idempotent, and the response header that marks a replayed answer. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotency-Replayed';

/** 1 to 255 printable ASCII characters (space to tilde), as the API document says. */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/**
 * What an idempotent submission leaves behind, kept durably with the batch it created: neither the key nor the
 * body is kept, only their hashes.
 */
export interface IdempotencyRecord {
  /** `keyHash` of the key (the header's, or the batchId where the component makes it the key). */
  keyHash: string;
  /** `RequestFingerprint` of the request that created the batch. */
  fingerprint: string;
  batchName: string;
  /** When the key is forgotten (ms since the epoch); until then it answers this batch. */
  expires: number;
}

/** The header's value checked: undefined when absent; a 400 naming the rule when malformed. */
export function checkIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY_PATTERN.test(value)) {
    throw ApiError.badRequest(`the ${IDEMPOTENCY_KEY_HEADER} header must be 1 to 255 printable ASCII characters, sent once; send a fresh key such as a UUID`);
  }
  return value;
}

/** Where a key came from; a header key and a batchId with the same text are different keys. */
export type KeySource = 'header' | 'batchId';

/**
 * The hash a key is kept under: the key itself is never stored (a client may put something private in it).
 * 40 hex characters (160 bits) also fit a Kubernetes label value.
 */
export function keyHash(source: KeySource, key: string): string {
  return createHash('sha256').update(`${source}\n${key}`).digest('hex').slice(0, 40);
}

/** The key of a submission: the header's; else a batch's `batchId` when the component makes it the key; else none. */
export function submissionKey(options: { header: string | undefined; batchId?: string; batchIdIsKey: boolean }): SubmissionKey | undefined {
  if (options.header !== undefined) return { hash: keyHash('header', options.header), source: 'header' };
  if (options.batchIdIsKey && options.batchId) return { hash: keyHash('batchId', options.batchId), source: 'batchId' };
  return undefined;
}

/** A submission's key, hashed, and where it came from (for the messages). */
export interface SubmissionKey {
  hash: string;
  source: KeySource;
}

/**
 * A hash of the canonical request: the endpoint's kind, then each part as JSON with its object keys sorted, so
 * that the same request sent with its fields in another order, or as JSON or NDJSON, has the same fingerprint.
 * Built part by part so that a large batch is hashed between turns of the event loop.
 */
export class RequestFingerprint {
  private readonly hash: Hash;

  constructor(kind: 'job' | 'batch') {
    this.hash = createHash('sha256').update(`${kind}\n`);
  }

  add(part: unknown): this {
    this.hash.update(canonicalJson(part)).update('\n');
    return this;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** JSON with every object's keys in order; undefined members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().flatMap((key) => {
      const member = (value as Record<string, unknown>)[key];
      return member === undefined ? [] : [`${JSON.stringify(key)}:${canonicalJson(member)}`];
    });
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What a keyed submission does: create a batch, answer the recorded one again, or refuse (same key, other body). */
export type KeyDecision = { kind: 'create' } | { kind: 'replay'; batchName: string } | { kind: 'mismatch' };

export function decideKeyed(found: IdempotencyRecord | undefined, fingerprint: string, now: number): KeyDecision {
  if (!found || found.expires <= now) return { kind: 'create' };
  if (found.fingerprint !== fingerprint) return { kind: 'mismatch' };
  return { kind: 'replay', batchName: found.batchName };
}

function keyName(source: KeySource): string {
  return source === 'header' ? `this ${IDEMPOTENCY_KEY_HEADER}` : 'this batchId (the component makes it the idempotency key)';
}

export function keyReusedError(source: KeySource): ApiError {
  return ApiError.invalid(`${keyName(source)} was already used with another request (a different body or endpoint); send a new key for a new request, or the first request's body to get its answer again`);
}

export function keyBatchDeletedError(source: KeySource, batchName: string): ApiError {
  return ApiError.conflict(`${keyName(source)} created batch ${batchName}, which has since been deleted; send a new key to submit again`);
}
