import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Behaviour } from '../contract/outcomes.js';
import type { FakeApiServer } from './fake/server.js';
import { ClusterActor, NAMESPACE } from './harness.js';

const NODE = 'node-1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Plays the kubelet and the job controller of Kubernetes v1.28 for one job at a time, through the API, with the
 * Job's own spec (its backoffLimit and podFailurePolicy as the service wrote them): pods bound to a node, so a
 * deleted pod stays terminating until the kubelet has ended its container (exit code 143 on SIGTERM) and removed
 * it. Its rules are written here from the Kubernetes documentation, not taken from the service's core, so the
 * contract compares the service with the cluster, not with itself.
 */
export class JobControllerPlayer {
  private readonly actor: ClusterActor;

  constructor(private readonly fake: FakeApiServer, private readonly timeoutMs: number) {
    this.actor = new ClusterActor(fake);
  }

  /** Runs the job's attempts as `behaviour` says, until the job controller decides its end (or it runs on). */
  async play(jobName: string, behaviour: Behaviour): Promise<void> {
    const job = await this.jobOf(jobName);
    const backoffLimit = job.spec?.backoffLimit ?? 6;
    let failed = 0;
    for (;;) {
      const pod = await this.actor.startPod(jobName, { nodeName: NODE });
      await this.actor.running(pod);
      if (behaviour.allocateMiB) {
        await this.actor.exited(pod, 137, 'OOMKilled');
      } else if ((behaviour.seconds ?? 0) >= 60) {
        return; // Runs until a stop or its deadline ends it.
      } else {
        await this.actor.exited(pod, behaviour.exitCode);
      }
      const exitCode = behaviour.allocateMiB ? 137 : behaviour.exitCode;
      if (exitCode === 0) return this.actor.complete(jobName);
      const rule = matchingRule(job, exitCode);
      if (rule?.action === 'FailJob') {
        return this.actor.fail(jobName, 'PodFailurePolicy', `Container job for pod ${NAMESPACE}/${pod.metadata!.name} failed with exit code ${exitCode} matching FailJob rule at index ${rule.index}`, failed + 1);
      }
      if (rule?.action !== 'Ignore') failed++;
      await this.actor.jobStatus(jobName, { ...(await this.actor.job(jobName)).status, active: 0, failed });
      if (failed > backoffLimit) return this.actor.fail(jobName, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', failed);
    }
  }

  /** activeDeadlineSeconds has passed: the controller deletes the active pods, the kubelet ends them, the Job fails. */
  async deadline(jobName: string): Promise<void> {
    const ended = await this.endActivePods(jobName);
    const failed = ((await this.actor.job(jobName)).status?.failed ?? 0) + ended;
    await this.actor.fail(jobName, 'DeadlineExceeded', 'Job was active longer than specified deadline', failed);
  }

  /** Once the service suspended the Job: the controller deletes its active pods (not counted as failures) and marks it suspended. */
  async afterStop(jobName: string): Promise<void> {
    if (!this.fake.get('jobs', NAMESPACE, jobName)) return;
    await this.until(() => (this.fake.get('jobs', NAMESPACE, jobName) as V1Job | undefined)?.spec?.suspend === true, `the Job ${jobName} suspended`);
    await this.endActivePods(jobName);
    const now = new Date();
    const current = await this.actor.job(jobName);
    await this.actor.jobStatus(jobName, { ...current.status, active: 0, conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastTransitionTime: now, lastProbeTime: now }] });
  }

  /** Deletes the Job's running pods; the kubelet sends SIGTERM, the container exits 143, the pod goes. */
  private async endActivePods(jobName: string): Promise<number> {
    const pods = this.fake.list('pods', NAMESPACE).filter((pod) => pod.metadata.labels?.['batch.kubernetes.io/job-name'] === jobName) as V1Pod[];
    let ended = 0;
    for (const pod of pods) {
      if (pod.status?.phase !== 'Running' && pod.status?.phase !== 'Pending') continue;
      await this.actor.deletePod(pod.metadata!.name!);
      await this.actor.exited(pod, 143);
      await this.actor.deletePod(pod.metadata!.name!, 0);
      ended++;
    }
    return ended;
  }

  private async jobOf(jobName: string): Promise<V1Job> {
    await this.until(() => this.fake.get('jobs', NAMESPACE, jobName) !== undefined, `the Job ${jobName} created`);
    return this.actor.job(jobName);
  }

  private async until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }
}

/** The first podFailurePolicy rule that matches a container's exit code, as the job controller evaluates them. */
function matchingRule(job: V1Job, exitCode: number): { action: string; index: number } | undefined {
  const rules = job.spec?.podFailurePolicy?.rules ?? [];
  for (const [index, rule] of rules.entries()) {
    const codes = rule.onExitCodes;
    if (!codes) continue; // onPodConditions (DisruptionTarget): a pod that merely failed has none.
    const listed = codes.values.includes(exitCode);
    if (codes.operator === 'In' ? listed : !listed) return { action: rule.action, index };
  }
  return undefined;
}
