import type { BatchV1Api } from '@kubernetes/client-node';
import { nextRestart, type RecordedRestart } from '../../core/cluster-job.js';
import { isTerminal } from '../../core/model.js';
import type { Logger } from '../../logger.js';
import type { IntentWriter } from './intent-writer.js';
import { type JobEntry, jobObjectName, keyOf, shardRefOf, startRun } from './job-entry.js';
import { type RetryPolicy, statusOf, toApiError, withRetry } from './retry.js';

export interface RestartsContext {
  batchApi: BatchV1Api;
  namespace: string;
  writer: IntentWriter;
  logger: Logger;
  requestRetry: RetryPolicy;
  now(): Date;
  /** One write request through the runtime's write limiter. */
  write<T>(call: () => Promise<T>): Promise<T>;
  /** Decides the job's record again and reports a change. */
  refresh(entry: JobEntry): void;
}

/**
 * Restarts on a cluster. Each run of a job has a Job of its own name (`runJobName`: the job's name, then
 * `<name>-r1`, `<name>-r2`…), and the run a job is in is recorded in its state object (`run.<i>`, see
 * intent-codec.ts) before anything else happens: one merge patch records the new run and takes back the previous
 * run's outcome, stop and launch mark. So, whenever the service is killed and another instance takes over, the
 * job is either still ended (the patch did not land: nothing happened) or waiting in its new run (it did), and
 * the only Job that can be created for that run is the one of that run's name: a second create answers 409. The
 * previous run's Job is then deleted (with its pods), by this instance or, if it stopped first, by the next one
 * when it sees that Job; the attempts it showed are kept in the recorded run until the new run's outcome holds them.
 */
export class Restarts {
  /** Jobs of earlier runs being deleted, by name. */
  private readonly deleting = new Set<string>();

  constructor(private readonly context: RestartsContext) {}

  /** Records a new run for each ended job, then reports them waiting; rejects (an ApiError) if a record failed. */
  async restart(entries: readonly JobEntry[]): Promise<void> {
    const { writer } = this.context;
    const at = this.context.now().toISOString();
    const planned = entries.filter((entry) => isTerminal(entry.current.status) && !entry.batch.removed)
      .map((entry) => ({ entry, restart: nextRestart(entry.current, entry.intent.restart, at) }));
    // Every key of one job goes into the same patch of its state object: they are queued in this turn together.
    const results = await Promise.allSettled(planned.map(({ entry, restart }) => Promise.all([
      writer.write(shardRefOf(entry), keyOf(entry, 'run'), JSON.stringify(restart)),
      writer.write(shardRefOf(entry), keyOf(entry, 'outcome'), null),
      writer.write(shardRefOf(entry), keyOf(entry, 'stop'), null),
      writer.write(shardRefOf(entry), keyOf(entry, 'launched'), null),
    ])));
    let failure: unknown;
    planned.forEach(({ entry, restart }, i) => {
      const result = results[i]!;
      if (result.status === 'rejected') {
        // Not recorded: nothing changes, nothing of it is written later, and what it replaced is queued again (an
        // outcome waiting to be written shared the failed patch).
        writer.cancel(shardRefOf(entry), keyOf(entry, 'run'));
        const { outcome, stoppedAt, launched } = entry.intent;
        for (const [kind, value] of [['outcome', outcome && JSON.stringify(outcome)], ['stop', stoppedAt], ['launched', launched ? '1' : null]] as const) {
          if (value) writer.writeLater(shardRefOf(entry), keyOf(entry, kind), value);
          else writer.cancel(shardRefOf(entry), keyOf(entry, kind));
        }
        failure ??= result.reason;
        return;
      }
      this.begin(entry, restart);
    });
    if (failure !== undefined) {
      this.context.logger.error('could not record a restart', { status: statusOf(failure) });
      throw toApiError(failure, 'record the restart');
    }
  }

  /** A Job of an earlier run than its job's current one: it is deleted (once at a time), with its pods. */
  deleteEarlierRun(name: string): void {
    if (this.deleting.has(name)) return;
    this.deleting.add(name);
    const { batchApi, namespace, requestRetry } = this.context;
    void withRetry(requestRetry, () => this.context.write(() => batchApi.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' })))
      .catch((error: unknown) => {
        if (statusOf(error) !== 404) this.context.logger.warn('could not delete the Job of an earlier run; it is deleted when it is seen again', { jobName: name, status: statusOf(error) });
      })
      .finally(() => this.deleting.delete(name));
  }

  /** The recorded value of a run once its outcome holds the earlier attempts: the run and when, without them. */
  static settled(restart: RecordedRestart): RecordedRestart {
    return { ...restart, attempts: [] };
  }

  private begin(entry: JobEntry, restart: RecordedRestart): void {
    const previous = jobObjectName(entry);
    startRun(entry, restart);
    this.deleteEarlierRun(previous);
    this.context.refresh(entry);
  }
}
