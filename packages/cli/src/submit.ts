import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import type { BatchScheduleDescription, JobScheduleDescription, JobSettings } from '@job-scheduler/client';

/** The flags of `submit`. */
export interface SubmitFlags {
  payload?: string;
  payloadFile?: string;
  /** `true` (stdin) or a file name (`-` is stdin too). */
  batch?: string | true;
  jobId?: string;
  batchId?: string;
  timeLimit?: number;
  backoffLimit?: number;
  label: Record<string, string>;
  idempotencyKey?: string;
  dryRun?: boolean;
}

/** A whole number at least `min` (commander argument parser). */
export function integer(min: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
    return Number(value);
  };
}

/** `key=value`, collected into a map (commander argument parser for a repeated flag). */
export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('must be key=value');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** A usage mistake found after parsing (exit code 2). */
export class UsageError extends Error {}

/** What `submit` sends: one job, or a batch of one job per line of the JSONL input. */
export async function submission(flags: SubmitFlags, stdin: NodeJS.ReadableStream): Promise<{ job: JobScheduleDescription } | { batch: BatchScheduleDescription }> {
  if (flags.payload !== undefined && flags.payloadFile !== undefined) throw new UsageError('give --payload or --payload-file, not both');
  const settings: JobSettings = {};
  if (flags.timeLimit !== undefined) settings.timeLimitSeconds = flags.timeLimit;
  if (flags.backoffLimit !== undefined) settings.backoffLimit = flags.backoffLimit;
  const labels = Object.keys(flags.label).length > 0 ? flags.label : undefined;
  if (flags.batch === undefined) {
    if (flags.batchId !== undefined) throw new UsageError('--batch-id goes with --batch');
    const payload = flags.payloadFile !== undefined ? await readFile(flags.payloadFile, 'utf8') : flags.payload;
    return { job: { ...settings, ...(payload !== undefined && { payload }), ...(flags.jobId !== undefined && { jobId: flags.jobId }), ...(labels && { labels }) } };
  }
  if (flags.payload !== undefined || flags.payloadFile !== undefined || flags.jobId !== undefined) throw new UsageError('--batch takes its payloads from the JSONL input, one per line: leave out --payload, --payload-file and --job-id');
  const text = flags.batch === true || flags.batch === '-' ? await readAll(stdin) : await readFile(flags.batch, 'utf8');
  const payloads = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (payloads.length === 0) throw new UsageError('the batch input has no lines: give one payload per line');
  return {
    batch: {
      ...(flags.batchId !== undefined && { batchId: flags.batchId }),
      ...(labels && { labels }),
      ...(Object.keys(settings).length > 0 && { defaultRadixJobComponentConfig: settings }),
      jobScheduleDescriptions: payloads.map((payload) => ({ payload })),
    },
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
