// The fake Kubernetes API server (test/kubernetes/fake) in its own process, so that neither the service nor a
// bare client measured against it shares its event loop. Driven over IPC by bench/kube-processes.ts.
import { writeFileSync } from 'node:fs';
import { startFakeApiServer } from '../../test/kubernetes/fake/server.js';

/** A request from the benchmark, answered with `{ id, ... }`. */
export type FakeCommand =
  | { id: number; type: 'expect'; namespace: string; count: number }
  | { id: number; type: 'counts'; namespace: string }
  | { id: number; type: 'capture' }
  | { id: number; type: 'saveCaptured'; file: string }
  | { id: number; type: 'clearJobs'; namespace: string };

const fake = await startFakeApiServer();
let captured: string[] = [];
// Jobs created per namespace, counted from the store's changes (the store's own count walks every object).
const created = new Map<string, number>();
const expected: Array<{ id: number; namespace: string; target: number }> = [];
fake.store.subscribe((change) => {
  if (change.resource !== 'jobs' || change.type !== 'ADDED') return;
  const now = (created.get(change.namespace) ?? 0) + 1;
  created.set(change.namespace, now);
  for (let i = expected.length - 1; i >= 0; i--) {
    const wait = expected[i]!;
    if (wait.namespace !== change.namespace || now < wait.target) continue;
    expected.splice(i, 1);
    process.send?.({ id: wait.id });
  }
});

process.on('message', (message: FakeCommand) => {
  const reply = (answer: object = {}) => process.send?.({ id: message.id, ...answer });
  switch (message.type) {
    case 'expect':
      // Answers once `count` more Jobs exist in the namespace than now.
      expected.push({ id: message.id, namespace: message.namespace, target: (created.get(message.namespace) ?? 0) + message.count });
      return;
    case 'counts': {
      const own = fake.requests.filter((entry) => entry.user === '' && entry.namespace === message.namespace);
      const writes = own.filter((entry) => ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(entry.verb)).length;
      const jobCreates = own.filter((entry) => entry.verb === 'create' && entry.resource === 'jobs').length;
      const { user, system } = process.cpuUsage();
      return reply({ writes, jobCreates, requests: own.length, cpuMs: (user + system) / 1000 });
    }
    case 'capture':
      captured = fake.captureCreates('jobs');
      return reply();
    case 'saveCaptured':
      writeFileSync(message.file, JSON.stringify(captured));
      return reply({ bodies: captured.length });
    case 'clearJobs':
      // Straight from the store: the batch record that owns the Jobs stays, so replayed Jobs are not collected.
      for (const job of fake.list('jobs', message.namespace)) fake.store.remove('jobs', message.namespace, job.metadata.name);
      return reply();
  }
});

process.send?.({ url: fake.url });
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
