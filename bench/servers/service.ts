// The real service on the local runtime, in its own process, as `npm start` runs it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { startService } from '../../src/service.js';

const apiDocument = parseYaml(readFileSync(new URL('../../api/openapi.yaml', import.meta.url), 'utf8')) as object;
const dataDir = mkdtempSync(path.join(tmpdir(), 'job-scheduler-bench-'));
const config = loadConfig({
  env: { JOB_SCHEDULER_DATA_DIR: dataDir, JOB_SCHEDULER_MAX_RUNNING: process.env.BENCH_MAX_RUNNING ?? '1', JOB_SCHEDULER_SWAGGER_UI: 'false' },
  componentYaml: JSON.stringify({ name: 'bench', command: JSON.parse(process.env.BENCH_COMMAND ?? '["/bin/sleep", "3600"]') }),
  componentPath: 'bench',
  apiDocument,
  cpus: 2,
});
const service = await startService({ config, logger: silentLogger(), apiDocument, componentDir: dataDir, hostEnv: { PATH: process.env.PATH } });
const server = service.app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port, dataDir }));
process.on('message', async (message) => {
  if (message === 'stop') {
    server.close();
    await service.close({ terminate: true });
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
});
