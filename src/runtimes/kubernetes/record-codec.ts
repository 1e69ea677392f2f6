import { gunzipSync, gzipSync } from 'node:zlib';
import type { BatchRecord, JobRecord, JobSpec } from '../../core/model.js';
import type { PayloadRef } from './manifests.js';

/** What a batch record holds: enough to create every Job of the batch again, and nothing secret. */
export interface RecordedBatch {
  batch: BatchRecord;
  jobs: Array<{ name: string; jobId?: string; spec: JobSpec; payload: PayloadRef }>;
}

interface Encoded {
  v: 1;
  batch: BatchRecord;
  /** Distinct specs: jobs of a batch mostly share one, so each is written once. */
  specs: JobSpec[];
  /** name, spec index, secret name index, jobId. */
  jobs: Array<[string, number, number, string?]>;
  secrets: string[];
}

/** Gzipped JSON in base64, for a ConfigMap's binaryData. */
export function encodeBatchRecord(record: RecordedBatch): string {
  const specIndex = new Map<string, number>();
  const secretIndex = new Map<string, number>();
  const encoded: Encoded = { v: 1, batch: record.batch, specs: [], jobs: [], secrets: [] };
  for (const job of record.jobs) {
    const specText = JSON.stringify(job.spec);
    let spec = specIndex.get(specText);
    if (spec === undefined) {
      spec = encoded.specs.push(job.spec) - 1;
      specIndex.set(specText, spec);
    }
    let secret = secretIndex.get(job.payload.secretName);
    if (secret === undefined) {
      secret = encoded.secrets.push(job.payload.secretName) - 1;
      secretIndex.set(job.payload.secretName, secret);
    }
    encoded.jobs.push(job.jobId === undefined ? [job.name, spec, secret] : [job.name, spec, secret, job.jobId]);
  }
  return gzipSync(JSON.stringify(encoded), { level: 6 }).toString('base64');
}

export function decodeBatchRecord(base64: string): RecordedBatch {
  const encoded = JSON.parse(gunzipSync(Buffer.from(base64, 'base64')).toString('utf8')) as Encoded;
  if (encoded.v !== 1) throw new Error(`unknown batch record version ${String(encoded.v)}`);
  return {
    batch: encoded.batch,
    jobs: encoded.jobs.map(([name, spec, secret, jobId]) => ({
      name,
      spec: encoded.specs[spec]!,
      payload: { secretName: encoded.secrets[secret]!, key: name },
      ...(jobId === undefined ? {} : { jobId }),
    })),
  };
}

/** A new job record for a recorded job, before anything of it is seen in the cluster. */
export function waitingRecord(batch: BatchRecord, job: RecordedBatch['jobs'][number], index: number): JobRecord {
  const record: JobRecord = {
    name: job.name,
    batchName: batch.name,
    index,
    spec: job.spec,
    status: 'Waiting',
    created: batch.created,
    started: null,
    ended: null,
    updated: batch.created,
    message: null,
    failed: 0,
    attempts: [],
  };
  if (job.jobId !== undefined) record.jobId = job.jobId;
  return record;
}
