import { parseState, type ScheduleState } from '../core/schedules.js';
import type { ScheduleStates } from '../runtimes/runtime.js';
import type { JobStore } from './store.js';

const KEY_PREFIX = 'schedule:';

/** The schedules' state in the local store's meta table, one JSON value per schedule. */
export class StoreScheduleStates implements ScheduleStates {
  constructor(private readonly store: JobStore) {}

  async load(names: readonly string[]): Promise<Map<string, ScheduleState>> {
    const states = new Map<string, ScheduleState>();
    for (const name of names) {
      const state = parseState(this.store.getMeta(KEY_PREFIX + name));
      if (state) states.set(name, state);
    }
    return states;
  }

  async save(name: string, state: ScheduleState): Promise<void> {
    this.store.setMeta(KEY_PREFIX + name, JSON.stringify(state));
    // Written now when the store can write; otherwise it stays pending and the store's own retry writes it.
    this.store.flush();
  }
}
