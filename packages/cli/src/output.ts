import type { BatchStatus, JobCounts, JobStatus } from '@job-scheduler/client';

/** `text` for people, `json` for scripts (one JSON document, or JSON lines for streams). */
export type OutputFormat = 'text' | 'json';

/** Writes answers to stdout in the chosen format. */
export class Output {
  constructor(readonly format: OutputFormat, private readonly out: NodeJS.WritableStream = process.stdout) {}

  /** `value` as JSON, or `text()` for people. */
  print(value: unknown, text: () => string): void {
    this.out.write(`${this.format === 'json' ? JSON.stringify(value) : text()}\n`);
  }

  write(chunk: string): void {
    this.out.write(chunk);
  }
}

/** Columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** The non-zero counts, `Succeeded=3 Failed=1`. */
export function countsText(counts: JobCounts | undefined): string {
  if (!counts) return '';
  return Object.entries(counts).filter(([, n]) => n > 0).map(([status, n]) => `${status}=${n}`).join(' ');
}

export function batchesTable(batches: BatchStatus[]): string {
  return table(['NAME', 'STATUS', 'CREATED', 'JOBS'], batches.map((b) => [b.name, b.status, b.created, countsText(b.jobCounts)]));
}

export function jobsTable(jobs: JobStatus[]): string {
  return table(['NAME', 'JOB ID', 'STATUS', 'ATTEMPTS', 'ENDED'], jobs.map((j) => [j.name, j.jobId ?? '', j.status, String(j.podStatuses.length), j.ended ?? '']));
}

export function jobText(job: JobStatus): string {
  const lines = [`name:     ${job.name}`];
  if (job.batchName) lines.push(`batch:    ${job.batchName}`);
  if (job.jobId) lines.push(`jobId:    ${job.jobId}`);
  lines.push(`status:   ${job.status}`);
  if (job.message) lines.push(`message:  ${job.message}`);
  lines.push(`created:  ${job.created}`, `started:  ${job.started ?? '-'}`, `ended:    ${job.ended ?? '-'}`, `failed:   ${job.failed}`);
  for (const pod of job.podStatuses) lines.push(`attempt ${pod.podIndex}: ${pod.replicaStatus.status} exitCode=${pod.exitCode ?? '-'} reason=${pod.reason ?? '-'}`);
  return lines.join('\n');
}

export function batchText(batch: BatchStatus): string {
  const lines = [`name:     ${batch.name}`, `type:     ${batch.batchType}`];
  if (batch.batchId) lines.push(`batchId:  ${batch.batchId}`);
  lines.push(`status:   ${batch.status}`);
  if (batch.message) lines.push(`message:  ${batch.message}`);
  lines.push(`created:  ${batch.created}`, `started:  ${batch.started ?? '-'}`, `ended:    ${batch.ended ?? '-'}`);
  if (batch.jobCounts) lines.push(`jobs:     ${countsText(batch.jobCounts)}`);
  return lines.join('\n');
}
