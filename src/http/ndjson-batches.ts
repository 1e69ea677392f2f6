import type { ErrorObject, ValidateFunction } from 'ajv';
import type { RequestHandler } from 'express';
import { ApiError, type FieldProblem, summarizeProblems } from '../core/errors.js';
import { checkBatchSize, type RequestLimits } from '../core/limits.js';
import type { BatchDescription, JobDescription } from '../core/model.js';
import { unsafeKeyProblems } from '../core/validate.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { admitBatch, type AdmissionOptions, nextTurn } from './admission.js';
import { refuse, tooLarge } from './body.js';
import { LineBytes } from './line-bytes.js';
import { type NdjsonValidators as Validators, ndjsonValidators } from './ndjson-validators.js';
import { idempotencyKeyOf, isDryRun, sendSubmitted } from './submit.js';

export const NDJSON = 'application/x-ndjson';

export interface NdjsonBatchOptions {
  scheduler: Scheduler;
  /** The OpenAPI document: each line is checked against its schemas, the same as a JSON batch's parts. */
  apiDocument: object;
  maxBytes: number;
  admission: AdmissionOptions;
}

/** Lines handled between two turns of the event loop. */
const LINES_PER_TURN = 500;
const MAX_PROBLEMS = 20;


/**
 * `POST /api/v1/batches` with `Content-Type: application/x-ndjson`: the first line holds the batch's own fields
 * (`batchId`, `labels`, `priority`, `defaultRadixJobComponentConfig`; `{}` for none), every further line one job description. Each line
 * is parsed and checked as it arrives, so that no step holds the event loop for a whole 100,000-job body; then
 * the batch goes through the same admission as a JSON one and is answered without `jobStatuses`.
 */
export function ndjsonBatches(options: NdjsonBatchOptions): RequestHandler {
  let validators: Validators | undefined;
  return async (req, res, next) => {
    if (!req.is(NDJSON)) {
      next();
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(req.get('content-type') ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      refuse(req, res, ApiError.unsupportedMediaType(`a request body must be UTF-8: send Content-Type: ${NDJSON} without a charset, or with charset=utf-8`), next);
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > options.maxBytes) {
      refuse(req, res, tooLarge(options.maxBytes, declared), next);
      return;
    }
    let key: string | undefined;
    let dryRun: boolean;
    try {
      key = idempotencyKeyOf(req);
      dryRun = isDryRun(req);
    } catch (error) {
      refuse(req, res, error as ApiError, next);
      return;
    }
    validators ??= ndjsonValidators(options.apiDocument);
    const reader = new LineReader(validators, options.admission.limits);
    const lines = new LineBytes();
    let received = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > options.maxBytes) throw tooLarge(options.maxBytes);
        const text = lines.completeLines(chunk);
        if (text === undefined) continue;
        for (const line of text.split('\n')) if (reader.take(line)) await nextTurn();
      }
      reader.take(lines.last());
    } catch (error) {
      if (error instanceof ApiError) {
        refuse(req, res, error, next);
        return;
      }
      throw error;
    }
    const description = reader.description();
    await admitBatch(description, options.admission, key);
    if (dryRun) res.json(await options.scheduler.dryRun(description, 'batch'));
    else sendSubmitted(res, await options.scheduler.submitBatch(description, { idempotencyKey: key, withJobs: false }));
  };
}

type BatchHeader = Omit<BatchDescription, 'jobScheduleDescriptions'>;

/** Reads the lines in order: the first is the batch's own fields, the others jobs; problems are collected up to a bound. */
class LineReader {
  private header: BatchHeader | undefined;
  private readonly jobs: JobDescription[] = [];
  private readonly problems: FieldProblem[] = [];
  private line = 0;

  constructor(private readonly validators: Validators, private readonly limits: RequestLimits) {}

  /** Takes one line; answers whether it is time to give the event loop a turn. */
  take(text: string): boolean {
    this.line += 1;
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (trimmed.trim() === '') return false;
    const at = `line ${this.line}`;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw ApiError.badRequest(`${at} is not valid JSON: send one JSON object per line`);
    }
    if (this.header === undefined) {
      this.check(value, this.validators.header, at);
      this.header = value as BatchHeader;
      return false;
    }
    checkBatchSize(this.jobs.length + 1, this.limits);
    this.check(value, this.validators.job, at);
    this.jobs.push(value as JobDescription);
    return this.jobs.length % LINES_PER_TURN === 0;
  }

  description(): BatchDescription {
    if (this.problems.length > 0) throw ApiError.badRequest(summarizeProblems(this.problems), this.problems);
    if (this.jobs.length === 0) {
      throw ApiError.badRequest('the batch has no job: after the first line (the batch\'s own fields, {} for none), send one job description per line');
    }
    return { ...this.header, jobScheduleDescriptions: this.jobs };
  }

  private check(value: unknown, validate: ValidateFunction, at: string): void {
    if (this.problems.length >= MAX_PROBLEMS) return;
    unsafeKeyProblems(value, at, this.problems, MAX_PROBLEMS);
    if (!validate(value)) for (const error of validate.errors ?? []) if (this.problems.length < MAX_PROBLEMS) this.problems.push(problemOf(error, at));
  }
}

function problemOf(error: ErrorObject, at: string): FieldProblem {
  const field = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const where = field ? `${at}: ${field}` : at;
  if (error.keyword === 'additionalProperties') return { path: where, message: `has an unknown field ${String(error.params.additionalProperty)}` };
  return { path: where, message: error.message ?? 'is invalid' };
}
