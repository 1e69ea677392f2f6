import { readFileSync } from 'node:fs';
import { type ServiceProcess, sleep } from './harness.js';

/**
 * Waits until a service restarted on a store has read every finished batch (they are read after ready): its
 * `finished jobs read` log line. No request is made, so that a memory figure holds what the restart built and
 * nothing a first request leaves (the first `GET /api/v1/batches` alone adds 7-8 MiB of RSS: code, validators).
 */
export async function untilFinishedRead(service: ServiceProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!readFileSync(service.logFile, 'utf8').includes('"message":"finished jobs read"')) {
    if (Date.now() > deadline) throw new Error(`the service did not log that it read its finished jobs; see ${service.logFile}`);
    await sleep(20);
  }
}
