import type { Server } from 'node:http';
import { BatchV1Api, CoreV1Api, type V1Job, type V1Pod } from '@kubernetes/client-node';
import supertest from 'supertest';
import { type ComponentConfig, type Config, loadConfig } from '../../src/config.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { kubernetesRuntimeFor } from '../../src/runtimes/kubernetes/service-runtime.js';
import type { ScheduleClock } from '../../src/scheduler/schedules.js';
import { type Service, startService } from '../../src/service.js';
import { apiDocument, root } from '../component/harness.js';
import { type FakeApiServer, startFakeApiServer } from './fake/server.js';

export const NAMESPACE = 'apps';

export interface KubeTestService {
  request: supertest.Agent;
  service: Service;
  config: Config;
  close(): Promise<void>;
}

/** The real app over the Kubernetes runtime, talking to a fake API server on loopback. */
export async function startKubeTestService(fake: FakeApiServer, options: { component?: Partial<ComponentConfig>; env?: Record<string, string>; clock?: ScheduleClock } = {}): Promise<KubeTestService> {
  const component: ComponentConfig = { name: 'compute', image: 'registry.example.com/compute:1.0', payload: { path: '/compute/args' }, ...options.component };
  const config = loadConfig({
    env: { JOB_SCHEDULER_RUNTIME: 'kubernetes', JOB_SCHEDULER_NAMESPACE: NAMESPACE, ...options.env },
    componentYaml: JSON.stringify(component),
    componentPath: 'component.yaml',
    apiDocument,
    cpus: 2,
  });
  const logger = process.env.TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger();
  const service = await startService({
    config,
    logger,
    apiDocument,
    componentDir: root,
    hostEnv: {},
    kubernetes: kubernetesRuntimeFor(config, logger, fake.kubeConfig(NAMESPACE)),
    validateResponses: true,
    clock: options.clock,
  });
  const server: Server = await new Promise((resolve) => {
    const listening = service.app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as { port: number };
  let closing: Promise<void> | undefined;
  return {
    request: supertest.agent(`http://127.0.0.1:${port}`),
    service,
    config,
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await service.close();
      })();
      return closing;
    },
  };
}

export interface FakeClusterFrame {
  /** Starts the service on this test's fake cluster; the frame closes it after the test (closing it first is fine). */
  start(options?: Parameters<typeof startKubeTestService>[1]): Promise<KubeTestService>;
}

/**
 * Registers, in the calling `describe`, a fresh fake API server and cluster actor for every test (handed to `each`
 * before the test), and closes after the test every service `start` started, then the fake.
 */
export function fakeClusterFrame(each: (cluster: { fake: FakeApiServer; actor: ClusterActor }) => void): FakeClusterFrame {
  let fake: FakeApiServer | undefined;
  const started: KubeTestService[] = [];
  beforeEach(async () => {
    fake = await startFakeApiServer();
    each({ fake, actor: new ClusterActor(fake) });
  });
  afterEach(async () => {
    for (const service of started.splice(0)) await service.close();
    await fake?.close();
    fake = undefined;
  });
  return {
    async start(options) {
      const service = await startKubeTestService(fake!, options);
      started.push(service);
      return service;
    },
  };
}

export { startFakeApiServer };

/**
 * Plays the job controller and the kubelet through the API, writing objects shaped as the real
 * ones are: pods owned by their Job with the template's labels, container states, Job conditions.
 */
export class ClusterActor {
  /** The actor's requests carry this token, so the fake's log tells them from the runtime's. */
  static readonly TOKEN = 'test-actor';
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;
  private podCount = 0;

  constructor(fake: FakeApiServer) {
    const kubeConfig = fake.kubeConfig(NAMESPACE, ClusterActor.TOKEN);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
  }

  async job(name: string): Promise<V1Job> {
    return this.batch.readNamespacedJob({ name, namespace: NAMESPACE });
  }

  /** The job controller starts a pod for the Job and marks the Job active; with `nodeName`, the pod is bound to a node. */
  async startPod(jobName: string, options: { nodeName?: string } = {}): Promise<V1Pod> {
    const job = await this.job(jobName);
    const template = job.spec!.template;
    const pod = await this.core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: {
          name: `${jobName.slice(0, 57)}-${String(this.podCount++).padStart(5, '0')}`,
          labels: template.metadata!.labels,
          ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: { ...template.spec!, ...(options.nodeName ? { nodeName: options.nodeName } : {}) },
      },
    });
    await this.jobStatus(jobName, { ...job.status, active: 1, startTime: job.status?.startTime ?? new Date() });
    return pod;
  }

  async podStatus(pod: V1Pod, phase: string, state: Record<string, unknown>): Promise<void> {
    const current = await this.core.readNamespacedPod({ name: pod.metadata!.name!, namespace: NAMESPACE });
    const image = current.spec!.containers[0]!.image!;
    await this.core.replaceNamespacedPodStatus({
      name: pod.metadata!.name!,
      namespace: NAMESPACE,
      body: { ...current, status: { phase, startTime: new Date(), containerStatuses: [{ name: 'job', image, imageID: '', ready: phase === 'Running', restartCount: 0, state }] } as never },
    });
  }

  async running(pod: V1Pod): Promise<void> {
    await this.podStatus(pod, 'Running', { running: { startedAt: new Date() } });
  }

  async exited(pod: V1Pod, exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error'): Promise<void> {
    await this.podStatus(pod, exitCode === 0 ? 'Succeeded' : 'Failed', { terminated: { exitCode, reason, startedAt: new Date(), finishedAt: new Date() } });
  }

  async jobStatus(name: string, status: V1Job['status']): Promise<void> {
    const current = await this.job(name);
    await this.batch.replaceNamespacedJobStatus({ name, namespace: NAMESPACE, body: { ...current, status } });
  }

  async complete(name: string): Promise<void> {
    const now = new Date();
    const current = await this.job(name);
    await this.jobStatus(name, { ...current.status, active: 0, succeeded: 1, completionTime: now, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: now, lastProbeTime: now }] });
  }

  async fail(name: string, reason: string, message: string, failed: number): Promise<void> {
    const now = new Date();
    const current = await this.job(name);
    await this.jobStatus(name, { ...current.status, active: 0, failed, conditions: [{ type: 'Failed', status: 'True', reason, message, lastTransitionTime: now, lastProbeTime: now }] });
  }

  /** Runs one attempt to its end: a pod that starts, runs and exits with the code. */
  async attempt(jobName: string, exitCode: number, reason?: string): Promise<V1Pod> {
    const pod = await this.startPod(jobName);
    await this.running(pod);
    await this.exited(pod, exitCode, reason);
    return pod;
  }

  /** Deletes a Job as `kubectl delete job` does: its pods go too, through the garbage collector. */
  async deleteJob(name: string): Promise<void> {
    await this.batch.deleteNamespacedJob({ name, namespace: NAMESPACE, propagationPolicy: 'Background' });
  }

  /**
   * Deletes a pod as the job controller or kubectl does (a pod bound to a node stays terminating for its grace
   * period); with `gracePeriodSeconds: 0`, as the pod garbage collector does for a pod of a lost node.
   */
  async deletePod(name: string, gracePeriodSeconds?: number): Promise<void> {
    await this.core.deleteNamespacedPod({ name, namespace: NAMESPACE, ...(gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds }) });
  }

  /** The pod is evicted or preempted: marked with a DisruptionTarget condition, then failed by the kubelet. */
  async disrupt(pod: V1Pod, exitCode = 143): Promise<void> {
    const current = await this.core.readNamespacedPod({ name: pod.metadata!.name!, namespace: NAMESPACE });
    const now = new Date();
    const image = current.spec!.containers[0]!.image!;
    await this.core.replaceNamespacedPodStatus({
      name: pod.metadata!.name!,
      namespace: NAMESPACE,
      body: { ...current, status: {
        phase: 'Failed',
        conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: now }],
        containerStatuses: [{ name: 'job', image, imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: 'Error', startedAt: now, finishedAt: now } } }],
      } } as never,
    });
  }

  /** What the job controller does for a suspended Job: delete its active pods, then mark it suspended. */
  async suspend(name: string): Promise<void> {
    const pods = await this.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `batch.kubernetes.io/job-name=${name}` });
    for (const pod of pods.items) {
      if (pod.status?.phase === 'Running' || pod.status?.phase === 'Pending') await this.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: NAMESPACE });
    }
    const current = await this.job(name);
    const now = new Date();
    await this.jobStatus(name, { ...current.status, active: 0, conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastTransitionTime: now, lastProbeTime: now }] });
  }
}
