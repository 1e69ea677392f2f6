import { type Cause, cause } from './status.js';
import { isPlainObject, type Obj } from './types.js';
import { dns1123Label } from './validation.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The v1 defaults the API server writes into every pod spec, pods' and templates' alike. */
export function defaultPodSpec(spec: Obj): void {
  if (!isPlainObject(spec)) return;
  spec.restartPolicy ||= 'Always';
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.schedulerName ||= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    if (!isPlainObject(container)) continue;
    container.terminationMessagePath ||= '/dev/termination-log';
    container.terminationMessagePolicy ||= 'File';
    container.imagePullPolicy ||= defaultPullPolicy(String(container.image ?? ''));
    container.resources ??= {};
  }
  for (const volume of spec.volumes ?? []) {
    if (volume?.secret) volume.secret.defaultMode ??= 420;
    if (volume?.configMap) volume.configMap.defaultMode ??= 420;
  }
}

function validateContainers(list: Obj, field: string, volumeNames: Set<string>, seen: Set<string>): Cause[] {
  const causes: Cause[] = [];
  (Array.isArray(list) ? list : []).forEach((container: Obj, i: number) => {
    const at = `${field}[${i}]`;
    if (!container?.name) causes.push(cause.required(`${at}.name`));
    else if (seen.has(container.name)) causes.push(cause.duplicate(`${at}.name`, container.name));
    else causes.push(...dns1123Label(container.name).map((message) => cause.invalid(`${at}.name`, container.name, message)));
    seen.add(container?.name);
    if (!container?.image) causes.push(cause.required(`${at}.image`));
    if (container?.imagePullPolicy && !PULL_POLICIES.includes(container.imagePullPolicy)) causes.push(cause.notSupported(`${at}.imagePullPolicy`, container.imagePullPolicy, PULL_POLICIES));
    (container?.env ?? []).forEach((env: Obj, j: number) => {
      if (!env?.name) causes.push(cause.required(`${at}.env[${j}].name`));
      else if (env.name.includes('=')) causes.push(cause.invalid(`${at}.env[${j}].name`, env.name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    });
    (container?.volumeMounts ?? []).forEach((mount: Obj, j: number) => {
      if (!volumeNames.has(mount?.name)) causes.push(cause.notFound(`${at}.volumeMounts[${j}].name`, mount?.name));
      if (!mount?.mountPath) causes.push(cause.required(`${at}.volumeMounts[${j}].mountPath`));
    });
  });
  return causes;
}

/** The PodSpec checks that catch what a client can get wrong; `field` is where the spec sits. */
export function validatePodSpec(spec: Obj, field: string): Cause[] {
  if (!isPlainObject(spec)) return [cause.required(field)];
  const causes: Cause[] = [];
  const volumeNames = new Set<string>();
  (spec.volumes ?? []).forEach((volume: Obj, i: number) => {
    if (!volume?.name) causes.push(cause.required(`${field}.volumes[${i}].name`));
    else if (volumeNames.has(volume.name)) causes.push(cause.duplicate(`${field}.volumes[${i}].name`, volume.name));
    else causes.push(...dns1123Label(volume.name).map((message) => cause.invalid(`${field}.volumes[${i}].name`, volume.name, message)));
    volumeNames.add(volume?.name);
    if (volume?.secret && !volume.secret.secretName) causes.push(cause.required(`${field}.volumes[${i}].secret.secretName`));
  });
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) causes.push(cause.required(`${field}.containers`));
  const names = new Set<string>();
  causes.push(...validateContainers(spec.initContainers, `${field}.initContainers`, volumeNames, names));
  causes.push(...validateContainers(spec.containers, `${field}.containers`, volumeNames, names));
  if (!RESTART_POLICIES.includes(spec.restartPolicy)) causes.push(cause.notSupported(`${field}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds > 0)) causes.push(cause.invalid(`${field}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  return causes;
}

/** The pod's QoS class, as the API server computes it on create. */
export function qosClass(spec: Obj): string {
  const containers: Obj[] = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  const has = (c: Obj, kind: 'requests' | 'limits') => Object.keys(c.resources?.[kind] ?? {}).length > 0;
  if (!containers.some((c) => has(c, 'requests') || has(c, 'limits'))) return 'BestEffort';
  const guaranteed = containers.every((c) => ['cpu', 'memory'].every((r) => c.resources?.limits?.[r] !== undefined && (c.resources?.requests?.[r] ?? c.resources.limits[r]) === c.resources.limits[r]));
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
