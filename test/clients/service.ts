import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { answerMalformedRequests } from '../../src/http/error-writer.js';
import { silentLogger } from '../../src/logger.js';
import { type Service, startService } from '../../src/service.js';
import { apiDocument, root } from '../component/harness.js';

/** The token the test service requires: every client and CLI call of these tests is authenticated. */
export const TOKEN = 'client-test-token';

/** The real service over the real local runtime, on 127.0.0.1 port 0. */
export interface ClientTestService {
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The example component (`examples/compute`, its job run by absolute path) behind `TOKEN`: real child
 * processes, a real SQLite file in a temp dir, every response validated against `api/openapi.yaml`.
 */
export async function startClientTestService(): Promise<ClientTestService> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-clients-'));
  const component = parseYaml(readFileSync(path.join(root, 'examples/compute/component.yaml'), 'utf8')) as Record<string, unknown>;
  const config = loadConfig({
    env: {
      JOB_SCHEDULER_DATA_DIR: dataDir,
      JOB_SCHEDULER_API_TOKEN: TOKEN,
      JOB_SCHEDULER_KILL_GRACE_SECONDS: '2',
      JOB_SCHEDULER_RETRY_DELAY_SECONDS: '0',
      JOB_SCHEDULER_MAX_RUNNING: '4',
    },
    componentYaml: JSON.stringify({ ...component, command: [process.execPath, path.join(root, 'examples/compute/job.js')] }),
    componentPath: 'component.yaml',
    apiDocument,
    cpus: 2,
  });
  let service: Service | undefined;
  try {
    service = await startService({ config, logger: silentLogger(), apiDocument, componentDir: root, hostEnv: process.env, validateResponses: true });
    const started = service;
    const server: Server = await new Promise((resolve) => {
      const listening = started.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    answerMalformedRequests(server);
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      dataDir,
      async close() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await started.close({ terminate: true });
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await service?.close({ terminate: true });
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

let shared: Promise<ClientTestService> | undefined;

/** One service for every file of this suite (started once: the suite stays short), closed after the last test. */
export function sharedService(): Promise<ClientTestService> {
  shared ??= startClientTestService();
  return shared;
}

after(async () => {
  if (shared) await (await shared).close();
});
