// The real service on the Kubernetes runtime, in its own process, against the API server at BENCH_KUBE_URL.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { kubernetesRuntimeFor } from '../../src/runtimes/kubernetes/service-runtime.js';
import { startService } from '../../src/service.js';

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const namespace = process.env.BENCH_NAMESPACE ?? 'bench';
const apiDocument = parseYaml(readFileSync(new URL('../../api/openapi.yaml', import.meta.url), 'utf8')) as object;
const config = loadConfig({
  env: { JOB_SCHEDULER_RUNTIME: 'kubernetes', JOB_SCHEDULER_NAMESPACE: namespace, JOB_SCHEDULER_SWAGGER_UI: 'false', ...JSON.parse(process.env.BENCH_ENV ?? '{}') },
  componentYaml: JSON.stringify({ name: 'bench', image: 'busybox:1.36', payload: { path: '/payload' } }),
  componentPath: 'bench',
  apiDocument,
  cpus: 2,
});
const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: 'fake', server: process.env.BENCH_KUBE_URL!, skipTLSVerify: true }],
  users: [{ name: 'bench' }],
  contexts: [{ name: 'fake', cluster: 'fake', user: 'bench', namespace }],
  currentContext: 'fake',
});
const logger = silentLogger();
const service = await startService({ config, logger, apiDocument, componentDir: '.', hostEnv: {}, kubernetes: kubernetesRuntimeFor(config, logger, kubeConfig) });
const server = service.app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
// A CPU profile of the measured window only (start-up left out), as `node --cpu-prof` writes it.
const profiler = new Session();
process.on('message', async (message) => {
  if (message === 'cpu') process.send?.({ cpuMs: cpuMs() });
  if (message === 'profile-start') {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    process.send?.({ profiling: true });
  }
  if (message === 'profile-stop') {
    const { profile } = await profiler.post('Profiler.stop');
    const file = path.join(process.env.BENCH_PROFILE_DIR!, `service-${process.pid}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    profiler.disconnect();
    process.send?.({ file });
  }
  if (message === 'stop') {
    server.closeAllConnections();
    server.close();
    await service.close();
    process.exit(0);
  }
});
