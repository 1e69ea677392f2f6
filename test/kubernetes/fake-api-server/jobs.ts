import { validateJobStatusUpdate } from './job-status.js';
import { type Kind, metaFields, sameJson } from './kind.js';
import { defaultPodSpec, validatePodSpec } from './pod-spec.js';
import { type Cause, cause } from './status.js';
import { clone, type Obj } from './types.js';
import { dns1123Subdomain, validateLabels } from './validation.js';

const JOB_RESTART_POLICIES = ['OnFailure', 'Never'];

/** What the Job strategy's generateSelector adds, so the controller can find the Job's pods. */
function generateSelector(job: Obj): void {
  const template = (job.spec.template ??= {});
  const labels = (template.metadata ??= {}).labels ??= {};
  for (const key of ['job-name', 'batch.kubernetes.io/job-name']) labels[key] ??= job.metadata.name;
  for (const key of ['controller-uid', 'batch.kubernetes.io/controller-uid']) labels[key] ??= job.metadata.uid;
  const matchLabels = ((job.spec.selector ??= {}).matchLabels ??= {});
  matchLabels['batch.kubernetes.io/controller-uid'] ??= job.metadata.uid;
}

function defaults(spec: Obj): void {
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.manualSelector ??= undefined;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  defaultPodSpec(spec.template?.spec);
}

const nonNegative = (spec: Obj, field: string): Cause[] => (spec[field] !== undefined && spec[field] < 0 ? [cause.invalid(`spec.${field}`, spec[field], 'must be greater than or equal to 0')] : []);

function validateJob(job: Obj): Cause[] {
  const spec = job.spec ?? {};
  const causes: Cause[] = [...['parallelism', 'completions', 'backoffLimit', 'ttlSecondsAfterFinished'].flatMap((field) => nonNegative(spec, field))];
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds > 0)) causes.push(cause.invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be greater than 0'));
  // A Job name longer than 63 fails here: it is copied into the template's job-name label.
  causes.push(...validateLabels(spec.template?.metadata?.labels, 'spec.template.metadata.labels'));
  const selector = spec.selector?.matchLabels ?? {};
  const labels = spec.template?.metadata?.labels ?? {};
  if (Object.entries(selector).some(([key, value]) => labels[key] !== value)) causes.push(cause.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  causes.push(...validatePodSpec(spec.template?.spec, 'spec.template.spec'));
  const restartPolicy = spec.template?.spec?.restartPolicy;
  if (!JOB_RESTART_POLICIES.includes(restartPolicy)) causes.push(cause.notSupported('spec.template.spec.restartPolicy', restartPolicy, JOB_RESTART_POLICIES));
  else if (spec.podFailurePolicy && restartPolicy !== 'Never') causes.push(cause.invalid('spec.template.spec.restartPolicy', restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  return causes;
}

/** The template without what may change while a Job is suspended and has never started. */
function schedulingFree(template: Obj): Obj {
  const copy = clone(template ?? {});
  delete copy.metadata?.labels;
  delete copy.metadata?.annotations;
  for (const field of ['nodeSelector', 'affinity', 'tolerations', 'schedulingGates']) delete copy.spec?.[field];
  return copy;
}

function validateJobUpdate(next: Obj, old: Obj): Cause[] {
  const causes: Cause[] = [];
  const immutable = (field: string) => {
    if (!sameJson(next.spec?.[field], old.spec?.[field])) causes.push(cause.invalid(`spec.${field}`, next.spec?.[field], 'field is immutable'));
  };
  ['selector', 'completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy'].forEach(immutable);
  const elastic = next.spec?.completionMode === 'Indexed' && next.spec?.completions === next.spec?.parallelism;
  if (!elastic) immutable('completions');
  const mayReschedule = old.spec?.suspend === true && !old.status?.startTime;
  const same = mayReschedule ? sameJson(schedulingFree(next.spec?.template), schedulingFree(old.spec?.template)) : sameJson(next.spec?.template, old.spec?.template);
  if (!same) causes.push(cause.invalid('spec.template', next.spec?.template, 'field is immutable'));
  return causes;
}

export const jobs: Kind = {
  resource: 'jobs', kind: 'Job', listKind: 'JobList', group: 'batch', version: 'v1', model: 'V1Job',
  statusSubresource: true,
  // batch/v1 keeps orphaning for backwards compatibility: clients must ask for Background.
  defaultPropagation: 'Orphan',
  returnsDeletedObject: false,
  deleteWarning: 'child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning',
  fields: { ...metaFields, 'status.successful': (job) => String(job.status?.succeeded ?? 0) },
  nameRule: dns1123Subdomain,
  prepareForCreate(job) {
    job.spec ??= {};
    if (job.spec.manualSelector !== true) generateSelector(job);
    defaults(job.spec);
    job.metadata.generation = 1;
    job.status = {};
  },
  prepareForUpdate(next, old) {
    next.spec ??= {};
    defaults(next.spec);
    next.metadata.generation = sameJson(next.spec, old.spec) ? old.metadata.generation : old.metadata.generation + 1;
  },
  validate: validateJob,
  validateUpdate: validateJobUpdate,
  validateStatusUpdate: validateJobStatusUpdate,
};
