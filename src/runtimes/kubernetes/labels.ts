/** Label and annotation keys of every object the Kubernetes runtime creates; one place, pure. */

const PREFIX = 'job-scheduler.io';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: `${PREFIX}/component`,
  batchName: `${PREFIX}/batch-name`,
  batchType: `${PREFIX}/batch-type`,
  jobName: `${PREFIX}/job-name`,
  /** On a Job and its pods: the job's run they belong to, once the job was restarted (absent: its first run, 0). */
  run: `${PREFIX}/run`,
  /**
   * What the object is to the scheduler: `batch` (a batch record), `state` (jobs' recorded intent), `payload` (a Secret),
   * `log` (a stopped job's kept log), `schedules` (the schedules' state), `key` (a deleted batch's idempotency key, kept
   * until it expires) or `job`.
   */
  role: `${PREFIX}/role`,
} as const;

export const ANNOTATIONS = {
  /** On a batch record: `accepting` until every payload Secret exists, then `accepted`. */
  state: `${PREFIX}/state`,
  /** On a Job: when the job was stopped (RFC 3339), set with the suspension by one merge patch. */
  stoppedAt: `${PREFIX}/stopped-at`,
  jobId: `${PREFIX}/job-id`,
  /** On a batch record (and a deleted batch's key object): the idempotency key's hash, the request's fingerprint and the expiry, as JSON. */
  idempotency: `${PREFIX}/idempotency`,
} as const;

export const MANAGER = 'job-scheduler';

export type ObjectRole = 'batch' | 'state' | 'payload' | 'log' | 'schedules' | 'key' | 'job';

/** The selector that finds every object of one component (of one role, when given), and nothing of another. */
export function componentSelector(component: string, role?: ObjectRole): string {
  const selector = `${LABELS.managedBy}=${MANAGER},${LABELS.component}=${component}`;
  return role ? `${selector},${LABELS.role}=${role}` : selector;
}

export function objectLabels(options: {
  component: string;
  role: ObjectRole;
  batchName: string;
  batchType: 'job' | 'batch';
  jobName?: string;
}): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGER,
    [LABELS.component]: options.component,
    [LABELS.role]: options.role,
    [LABELS.batchName]: options.batchName,
    [LABELS.batchType]: options.batchType,
  };
  if (options.jobName) labels[LABELS.jobName] = options.jobName;
  return labels;
}

/** Keys Kubernetes sets on Jobs and pods itself (`job-name`, `controller-uid` and those under its own prefixes). */
function kubernetesOwns(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return key === 'job-name' || key === 'controller-uid';
  const prefix = key.slice(0, slash);
  return ['kubernetes.io', 'k8s.io'].some((own) => prefix === own || prefix.endsWith(`.${own}`));
}

/**
 * The client's labels of a job that its Job and pods carry too, so that `kubectl get jobs,pods -l team=vision`
 * finds what `labelSelector=team=vision` does; keys Kubernetes sets itself are left to it. The scheduler's own
 * labels are laid over these (a client cannot use its prefix anyway).
 */
export function clientLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const carried: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels ?? {})) if (!kubernetesOwns(key)) carried[key] = value;
  return carried;
}

/** The run of a job a Job or a pod belongs to, from its labels (0 when it has none, or an unreadable one). */
export function runOfLabels(labels: Record<string, string> | undefined): number {
  const value = labels?.[LABELS.run];
  return value !== undefined && /^[1-9]\d{0,8}$/.test(value) ? Number(value) : 0;
}
