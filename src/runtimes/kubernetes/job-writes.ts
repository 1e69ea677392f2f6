import type { BatchV1Api, V1Job } from '@kubernetes/client-node';
import { mayCreateJob } from '../../core/cluster-job.js';
import { CLUSTER_POLICY, type Effect, transition } from '../../core/lifecycle.js';
import type { Logger } from '../../logger.js';
import { MERGE_PATCH_OPTIONS } from './connections.js';
import { fingerprint } from './intent-codec.js';
import type { DirectCreate } from './direct-create.js';
import type { IntentWriter } from './intent-writer.js';
import { endWait, type JobEntry, jobObjectName, keyOf, runOf, shardRefOf } from './job-entry.js';
import { LaunchMarks } from './launch-marks.js';
import { observedJob } from './job-state.js';
import { ANNOTATIONS } from './labels.js';
import type { Limiter } from './limiter.js';
import { JobTemplates } from './job-template.js';
import type { ClusterSettings } from './manifests.js';
import { defaultSleep, isQuotaExceeded, retriable, retryAfterMs, type RetryPolicy, sleepUnlessAborted, statusOf, toApiError, withRetry } from './retry.js';

export interface JobWritesContext {
  batchApi: BatchV1Api;
  /** Sends the Job creates (bodies serialised once from a template; see direct-create.ts). */
  direct: DirectCreate;
  settings: ClusterSettings;
  limiter: Limiter;
  writer: IntentWriter;
  logger: Logger;
  requestRetry: RetryPolicy;
  backgroundRetry: RetryPolicy;
  now(): Date;
  closed(): boolean;
  /** Most jobs marked as launched whose create has not gone out yet (see LaunchMarks). */
  markAhead: number;
  /** Whether the watch has the Job. */
  cached(name: string): V1Job | undefined;
  /** Decides the job's record again and reports a change. */
  refresh(entry: JobEntry): void;
  /** Keeps the tail of the job's running pods' logs before a stop ends them; bounded in time, never failing. */
  keepLog(entry: JobEntry): Promise<void>;
}

/**
 * The writes that run a job's Job: create it once (recording first that it may exist), and suspend it on a
 * stop. Recorded intent comes first, so that a restart, a lagging watch or a deleted Job can neither create
 * a Job twice nor lose a stop.
 */
export class JobWrites {
  private readonly marks: LaunchMarks<JobEntry>;

  constructor(private readonly context: JobWritesContext) {
    this.marks = new LaunchMarks({
      ahead: context.markAhead,
      mark: async (entry) => {
        // Closing or deleted: no create goes out, so no mark either.
        if (entry.batch.removed || context.closed()) return;
        entry.intent.launched = true;
        await context.writer.write(shardRefOf(entry), keyOf(entry, 'launched'), '1');
      },
    });
  }

  /**
   * Takes back the launch marks of jobs whose create never went out (the runtime is closing), so that the
   * next instance creates their Jobs instead of settling them. Queued; written by the writer's close.
   */
  unmarkUnsent(entries: Iterable<JobEntry>): void {
    for (const entry of entries) {
      if (!entry.intent.launched || entry.mayExist || entry.createRequest || entry.batch.removed) continue;
      entry.intent.launched = false;
      this.context.writer.writeLater(shardRefOf(entry), keyOf(entry, 'launched'), null);
    }
  }

  /** Starts creating the job's Job unless it may not be created (stopped, finished, seen, refused). */
  launch(entry: JobEntry): Promise<void> {
    entry.launchAsked = true;
    if (!this.mayStillCreate(entry)) return Promise.resolve();
    entry.creating ??= this.createLoop(entry).finally(() => {
      entry.creating = undefined;
    });
    return entry.creating;
  }

  /**
   * Records the stop, then suspends the Job if one may exist; answers once both are done. A create waiting
   * on a quota or a 429 ends here (the stop does not wait for it); one on the wire is waited for, so that a
   * Job it creates is suspended too.
   */
  stop(entry: JobEntry): Promise<void> {
    entry.stopping ??= this.stopEntry(entry).catch((error: unknown) => {
      entry.stopping = undefined;
      throw error;
    });
    return entry.stopping;
  }

  /** Suspends the Job of a job whose stop is recorded but whose Job runs on (found when the runtime opens). */
  resumeStop(entry: JobEntry): void {
    void this.context.keepLog(entry).then(() => withRetry(this.context.backgroundRetry, () => this.suspend(entry), () => this.context.closed() || entry.batch.removed))
      .catch((error: unknown) => this.context.logger.error('could not suspend a stopped job', { jobName: entry.base.name, status: statusOf(error) }))
      .finally(() => this.context.refresh(entry));
  }

  private async stopEntry(entry: JobEntry): Promise<void> {
    entry.stopRequested = true;
    endWait(entry);
    const stoppedAt = entry.intent.stoppedAt ?? this.context.now().toISOString();
    try {
      await this.context.writer.write(shardRefOf(entry), keyOf(entry, 'stop'), stoppedAt);
    } catch (error) {
      // Not recorded: take the stop back, so that the job is not left waiting for a stop that never happened.
      this.context.writer.cancel(shardRefOf(entry), keyOf(entry, 'stop'));
      entry.stopRequested = false;
      entry.abort = new AbortController();
      if (entry.launchAsked) void this.launch(entry);
      throw toApiError(error, 'record the stop');
    }
    entry.intent.stoppedAt = stoppedAt;
    this.context.refresh(entry);
    await this.context.keepLog(entry);
    try {
      await withRetry(this.context.requestRetry, () => this.suspend(entry));
    } catch (error) {
      this.context.logger.error('could not stop a job', { jobName: entry.base.name, status: statusOf(error) });
      // The stop is recorded: keep at it in the background (a client cannot ask again for a job shown Stopping).
      this.resumeStop(entry);
      throw toApiError(error, 'stop the job');
    } finally {
      this.context.refresh(entry);
    }
  }

  /** Merge-patches `spec.suspend` and the stopped-at annotation onto the Job, if one may exist; other annotations stay. */
  private async suspend(entry: JobEntry): Promise<void> {
    const { batchApi, settings } = this.context;
    const name = jobObjectName(entry);
    for (;;) {
      await entry.createRequest;
      if (!entry.mayExist && !entry.job?.exists && !this.context.cached(name)) {
        entry.knownAbsent = true;
        return;
      }
      if (entry.job?.exists === false) return;
      const cached = this.context.cached(name);
      if (cached?.spec?.suspend && cached.metadata?.annotations?.[ANNOTATIONS.stoppedAt]) return;
      const body = { metadata: { annotations: { [ANNOTATIONS.stoppedAt]: entry.intent.stoppedAt! } }, spec: { suspend: true } };
      try {
        const patched = await this.context.limiter.run(() => batchApi.patchNamespacedJob({ name, namespace: settings.namespace, body }, MERGE_PATCH_OPTIONS), { priority: true });
        if (!entry.job) entry.job = observedJob(patched);
        return;
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        // A create that was on the wire may have landed meanwhile: decide again.
        if (entry.createRequest) continue;
        if (entry.job?.exists) entry.job = { ...entry.job, exists: false, goneAt: this.context.now().toISOString() };
        else entry.knownAbsent = true;
        return;
      }
    }
  }

  private mayStillCreate(entry: JobEntry): boolean {
    return !this.context.closed() && !entry.batch.removed && !entry.stopRequested && !entry.createRefused
      && mayCreateJob(entry.intent, entry.job) && !this.context.cached(jobObjectName(entry));
  }

  private async createLoop(entry: JobEntry): Promise<void> {
    const policy = this.context.backgroundRetry;
    let delay = policy.baseDelayMs;
    const backOff = async (error?: unknown) => {
      await sleepUnlessAborted(Math.min(policy.maxDelayMs, retryAfterMs(error) ?? delay), entry.abort.signal, policy.sleep);
      delay = Math.min(policy.maxDelayMs, delay * 2);
    };
    while (this.mayStillCreate(entry)) {
      try {
        await this.marks.acquire(entry);
      } catch {
        await backOff();
        continue;
      }
      let result: Awaited<ReturnType<JobWrites['sendCreate']>>;
      try {
        result = await this.sendCreate(entry);
      } finally {
        this.marks.release();
      }
      if (result === 'done') return;
      if (result === 'refused') continue;
      await backOff(result.error);
    }
  }

  /** One create request, through the write limiter: it is skipped if the job was stopped while it waited there. */
  private async sendCreate(entry: JobEntry): Promise<'done' | 'refused' | { error: unknown }> {
    const { direct, settings, writer } = this.context;
    const batch = entry.batch;
    const body = (batch.templates ??= new JobTemplates({ settings, batchType: batch.batch.type, owner: batch.owner })).text(entry.base, entry.payload, runOf(entry));
    const observe = this.context.backgroundRetry.observe;
    try {
      const sent = await this.context.limiter.run(async () => {
        if (!this.mayStillCreate(entry)) return false;
        const request = direct.create(`/apis/batch/v1/namespaces/${encodeURIComponent(settings.namespace)}/jobs`, body);
        entry.createRequest = request.then(() => undefined, () => undefined);
        try {
          await request;
        } finally {
          entry.createRequest = undefined;
        }
        entry.mayExist = true;
        return true;
      });
      if (sent) observe?.('ok', undefined);
    } catch (error) {
      const code = statusOf(error);
      if (code === 409) {
        entry.mayExist = true;
        observe?.('ok', undefined);
      } else if (isQuotaExceeded(error) || code === 429) {
        observe?.('retried', code);
        // Refused before anything was stored: until the next try, no Job may exist for it.
        if (!entry.mayExist) {
          entry.intent.launched = false;
          writer.writeLater(shardRefOf(entry), keyOf(entry, 'launched'), null);
        }
        if (isQuotaExceeded(error) && !entry.waitingForQuota) {
          entry.waitingForQuota = true;
          this.context.refresh(entry);
        }
        return { error };
      } else if (retriable(error)) {
        // A 5xx or a lost answer: the Job may exist; the next try answers 409 if it does.
        entry.mayExist = true;
        observe?.('retried', code);
        return { error };
      } else {
        observe?.('failed', code);
        await this.refuse(entry, code);
        return 'refused';
      }
    }
    if (entry.waitingForQuota) {
      entry.waitingForQuota = false;
      this.context.refresh(entry);
    }
    return 'done';
  }

  /** The cluster refused the Job for good: the job is Failed, recorded before it is told. */
  private async refuse(entry: JobEntry, code: number | undefined): Promise<void> {
    const { writer, logger } = this.context;
    logger.error('the cluster refused a Job', { jobName: entry.base.name, status: code });
    const createRefused = { code, at: this.context.now().toISOString() };
    const { effects } = transition(entry.current, { type: 'observed', observation: { base: entry.base, intent: entry.intent, attempts: [], createRefused } }, this.context.now(), CLUSTER_POLICY);
    const outcome = effects.find((effect): effect is Extract<Effect, { kind: 'record' }> => effect.kind === 'record')!.outcome;
    const text = JSON.stringify(outcome);
    const policy = this.context.backgroundRetry;
    for (let delay = policy.baseDelayMs; ; delay = Math.min(policy.maxDelayMs, delay * 2)) {
      if (this.context.closed() || entry.batch.removed) return;
      try {
        await writer.write(shardRefOf(entry), keyOf(entry, 'outcome'), text);
        break;
      } catch {
        await (policy.sleep ?? defaultSleep)(delay);
      }
    }
    entry.createRefused = createRefused;
    entry.intent.outcome = outcome;
    entry.outcomeWritten = fingerprint(text);
    this.context.refresh(entry);
  }
}
