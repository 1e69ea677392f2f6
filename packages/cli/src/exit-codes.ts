import { JobSchedulerError } from '@job-scheduler/client';

/** Exit codes a shell can act on; the same table is printed by `--help` and the README. */
export const EXIT = {
  ok: 0,
  /** `watch`: the batch ended without success (Failed or Stopped). */
  notSucceeded: 1,
  /** A bad command, option or argument: nothing was sent. */
  usage: 2,
  /** The service refused the request (400, 409, 410, 413, 415, 422). */
  refused: 3,
  notFound: 4,
  unauthorized: 5,
  /** No answer, or 429/5xx after the retries: try again later. */
  unavailable: 6,
  /** A fault of the CLI itself. */
  internal: 70,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  done (watch: every job of the batch succeeded)
  1  watch: the batch ended without success (Failed or Stopped)
  2  usage: a bad command, option or argument; nothing was sent
  3  the service refused the request (bad input, a job in the wrong state)
  4  no job or batch has that name
  5  unauthorized: give the API token with --token or JOB_SCHEDULER_TOKEN
  6  the service could not be reached, or is busy or failing (429, 5xx) after retries: try again later
  70 an unexpected error in the CLI itself`;

/** The exit code for an error of the client. */
export function exitCodeOf(error: JobSchedulerError): number {
  if (error.code === 404) return EXIT.notFound;
  if (error.code === 401) return EXIT.unauthorized;
  if (error.code === 0 || error.code === 429 || error.code >= 500) return EXIT.unavailable;
  return EXIT.refused;
}

/** What to tell the user on stderr: the service's message, the fields it named, and what to do. */
export function describeError(error: JobSchedulerError, url: string): string {
  const lines = [`job-scheduler: ${error.message}${error.code ? ` (HTTP ${error.code} ${error.reason})` : ''}`];
  for (const field of error.fields) lines.push(`  ${field.path}: ${field.message}`);
  if (error.code === 0) lines.push(`  is the service running at ${url}? Set it with --url or JOB_SCHEDULER_URL.`);
  if (error.code === 401) lines.push('  give the API token with --token or JOB_SCHEDULER_TOKEN.');
  if (error.retryAfterSeconds !== undefined) lines.push(`  the service asks to try again after ${error.retryAfterSeconds} s.`);
  return lines.join('\n');
}
