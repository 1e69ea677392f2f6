import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { JobRecord } from '../core/model.js';
import { StoredJob } from '../core/stored-job.js';
import type { BatchEntry } from './state-index.js';

/** Bounds of what is kept: the batches read last, at most this many, and this many bytes deflated. */
const MAX_BATCHES = 16;
const MAX_BYTES = 8 * 2 ** 20;

interface Kept {
  /** The jobs the text was made from: it is valid while the batch holds the very same ones. */
  jobs: readonly JobRecord[];
  /** Deflated, one byte a character: a string lives in V8's heap, which its GC compacts; a Buffer is malloc's (issue 14). */
  data: string;
}

/**
 * The `jobStatuses` JSON of finished batches whose jobs are all kept compact, deflated, for the few batches read
 * last. Such a job's view is read from the store: a batch of 10,000 would be 10,000 reads on every request.
 * Deflated, the text of a job's view is a few dozen bytes (its fields repeat from job to job).
 */
export class FinishedBatchJson {
  private readonly kept = new Map<BatchEntry, Kept>();
  private bytes = 0;

  /** `isCurrent` tells whether a batch is still indexed (a deleted batch's text is let go). */
  constructor(private readonly isCurrent: (entry: BatchEntry) => boolean) {}

  /** The JSON array of the batch's job views, made by `build` unless kept; undefined while a job of the batch is not compact. */
  jobsJson(entry: BatchEntry, build: () => string): string | undefined {
    if (!entry.jobs.every((job) => job instanceof StoredJob)) return undefined;
    const kept = this.kept.get(entry);
    if (kept) {
      this.drop(entry);
      if (sameJobs(kept.jobs, entry.jobs)) {
        this.keep(entry, kept);
        return inflateRawSync(Buffer.from(kept.data, 'latin1')).toString();
      }
    }
    const text = build();
    this.keep(entry, { jobs: [...entry.jobs], data: deflateRawSync(text, { level: 1 }).toString('latin1') });
    return text;
  }

  private keep(entry: BatchEntry, kept: Kept): void {
    for (const other of [...this.kept.keys()]) if (!this.isCurrent(other)) this.drop(other);
    this.kept.set(entry, kept);
    this.bytes += kept.data.length;
    while (this.kept.size > MAX_BATCHES || (this.bytes > MAX_BYTES && this.kept.size > 1)) this.drop(this.kept.keys().next().value!);
  }

  private drop(entry: BatchEntry): void {
    const kept = this.kept.get(entry);
    if (!kept) return;
    this.bytes -= kept.data.length;
    this.kept.delete(entry);
  }
}

function sameJobs(a: readonly JobRecord[], b: readonly JobRecord[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
