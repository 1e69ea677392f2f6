import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import { parseState, type ScheduleState } from '../../core/schedules.js';
import type { ScheduleStates } from '../runtime.js';
import { MERGE_PATCH_OPTIONS } from './connections.js';
import { LABELS, MANAGER } from './labels.js';
import type { ClusterSettings } from './manifests.js';
import { type RetryPolicy, statusOf, withRetry } from './retry.js';

export interface ConfigMapScheduleStatesOptions {
  coreApi: CoreV1Api;
  settings: ClusterSettings;
  retry: RetryPolicy;
}

/** The name of the component's schedule-state ConfigMap: batch records and their state objects all start with `batch-`. */
export function scheduleStatesName(component: string): string {
  return `${component}-schedules`;
}

/**
 * The schedules' state in one ConfigMap per component, a JSON value per schedule under its name. Not owned by
 * any batch, so deleting runs (by a client or the history cleaner) leaves it; each save is one merge patch.
 */
export class ConfigMapScheduleStates implements ScheduleStates {
  private readonly name: string;

  constructor(private readonly options: ConfigMapScheduleStatesOptions) {
    this.name = scheduleStatesName(options.settings.component);
  }

  async load(names: readonly string[]): Promise<Map<string, ScheduleState>> {
    const { coreApi, settings, retry } = this.options;
    let found: V1ConfigMap;
    try {
      found = await withRetry(retry, () => coreApi.readNamespacedConfigMap({ name: this.name, namespace: settings.namespace }));
    } catch (error) {
      if (statusOf(error) === 404) return new Map();
      throw error;
    }
    const states = new Map<string, ScheduleState>();
    for (const name of names) {
      const state = parseState(found.data?.[name]);
      if (state) states.set(name, state);
    }
    return states;
  }

  async save(name: string, state: ScheduleState): Promise<void> {
    const { coreApi, settings, retry } = this.options;
    const data = { [name]: JSON.stringify(state) };
    const patch = () => withRetry(retry, () => coreApi.patchNamespacedConfigMap({ name: this.name, namespace: settings.namespace, body: { data } }, MERGE_PATCH_OPTIONS));
    try {
      await patch();
      return;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    try {
      await withRetry(retry, () => coreApi.createNamespacedConfigMap({ namespace: settings.namespace, body: this.object(data) }));
    } catch (error) {
      // Created meanwhile (another save of this instance): patch it.
      if (statusOf(error) !== 409) throw error;
      await patch();
    }
  }

  private object(data: Record<string, string>): V1ConfigMap {
    const { settings } = this.options;
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: this.name,
        namespace: settings.namespace,
        labels: { [LABELS.managedBy]: MANAGER, [LABELS.component]: settings.component, [LABELS.role]: 'schedules' },
      },
      data,
    };
  }
}
