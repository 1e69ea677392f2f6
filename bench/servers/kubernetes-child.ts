// The Kubernetes rows in their own process: the bench's process only reads the figures.
import { fakeKubernetesBatch } from '../kubernetes.js';

process.send?.(await fakeKubernetesBatch(Number(process.argv[2] ?? 10_000)));
process.disconnect?.();
