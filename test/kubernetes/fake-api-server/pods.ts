import { type Kind, metaFields, sameJson } from './kind.js';
import { defaultPodSpec, qosClass, validatePodSpec } from './pod-spec.js';
import { cause } from './status.js';
import { clone, type Obj } from './types.js';
import { dns1123Subdomain } from './validation.js';

const TERMINAL = ['Succeeded', 'Failed'];

/** The spec without the fields a pod update may change, to compare the rest. */
function fixedPart(spec: Obj): Obj {
  const copy = clone(spec ?? {});
  for (const container of [...(copy.containers ?? []), ...(copy.initContainers ?? [])]) delete container.image;
  for (const field of ['activeDeadlineSeconds', 'tolerations', 'terminationGracePeriodSeconds', 'schedulingGates']) delete copy[field];
  return copy;
}

export const pods: Kind = {
  resource: 'pods', kind: 'Pod', listKind: 'PodList', group: '', version: 'v1', model: 'V1Pod',
  statusSubresource: true, defaultPropagation: 'Background', returnsDeletedObject: true,
  fields: {
    ...metaFields,
    'spec.nodeName': (pod) => String(pod.spec?.nodeName ?? ''),
    'spec.restartPolicy': (pod) => String(pod.spec?.restartPolicy ?? ''),
    'spec.schedulerName': (pod) => String(pod.spec?.schedulerName ?? ''),
    'spec.serviceAccountName': (pod) => String(pod.spec?.serviceAccountName ?? ''),
    'spec.hostNetwork': (pod) => String(pod.spec?.hostNetwork ?? false),
    'status.phase': (pod) => String(pod.status?.phase ?? ''),
    'status.podIP': (pod) => String(pod.status?.podIP ?? ''),
    'status.nominatedNodeName': (pod) => String(pod.status?.nominatedNodeName ?? ''),
  },
  nameRule: dns1123Subdomain,
  prepareForCreate(pod) {
    defaultPodSpec(pod.spec);
    // The ServiceAccount admission plugin names the default account when none is given.
    if (pod.spec) pod.spec.serviceAccountName ||= 'default';
    pod.metadata.generation = 1;
    pod.status = { phase: 'Pending', qosClass: qosClass(pod.spec) };
  },
  prepareForUpdate(next, old) {
    defaultPodSpec(next.spec);
    next.metadata.generation = sameJson(next.spec, old.spec) ? old.metadata.generation : (old.metadata.generation ?? 1) + 1;
  },
  validate: (pod) => validatePodSpec(pod.spec, 'spec'),
  validateUpdate(next, old) {
    if (sameJson(fixedPart(next.spec), fixedPart(old.spec))) return [];
    return [cause.forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)')];
  },
  gracePeriod(pod, requested) {
    // An unscheduled or finished pod has no kubelet to wait for: it goes at once.
    if (!pod.spec?.nodeName || TERMINAL.includes(pod.status?.phase)) return 0;
    return requested ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  },
};
