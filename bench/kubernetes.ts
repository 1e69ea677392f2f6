// A batch against the fake Kubernetes API server: time until every Job exists, writes per job, and what reads
// cost once synced. The fake and the service each run in their own process (bench/kube-processes.ts), so the
// service never shares its event loop with the API server it is measured against.
import { postBatch, startFake, startKubeService } from './kube-processes.js';

export async function fakeKubernetesBatch(jobs: number) {
  const fake = await startFake();
  const namespace = 'bench';
  const service = await startKubeService({ url: fake.url, namespace });
  try {
    const before = await fake.counts(namespace);
    const created = fake.expectJobs(namespace, jobs);
    const started = performance.now();
    const name = await postBatch(service.port, jobs);
    const answeredMs = performance.now() - started;
    await created;
    const allJobsMs = performance.now() - started;
    const afterBatch = await fake.counts(namespace);
    const writes = afterBatch.writes - before.writes;
    for (let i = 0; i < 100; i++) await (await fetch(`http://127.0.0.1:${service.port}/api/v1/batches/${name}`)).arrayBuffer();
    const readRequests = (await fake.counts(namespace)).requests - afterBatch.requests;
    return { jobs, answeredMs, allJobsMs, writes, writesPerJob: writes / jobs, readRequests };
  } finally {
    await service.stop();
    await fake.stop();
  }
}
