/** Which finished batches are old enough to go, keeping the newest of each kind (as Radix's history limit does). */

export interface FinishedBatch {
  name: string;
  type: 'job' | 'batch';
  /** The batch's status once all its jobs ended. */
  status: string;
  /** When its last job ended (RFC 3339). */
  ended: string;
}

export interface HistoryPolicy {
  /** Finished batches older than this may go. */
  maxAgeMs: number;
  /** The newest this many of each category stay, however old. */
  keep: number;
}

/**
 * Categories are single jobs or batches, each succeeded or not. In each, the newest `keep`
 * stay; of the others, those that ended more than `maxAgeMs` before `now` are returned.
 */
export function expiredBatches(finished: readonly FinishedBatch[], policy: HistoryPolicy, now: Date): string[] {
  const categories = new Map<string, FinishedBatch[]>();
  for (const batch of finished) {
    const key = `${batch.type}/${batch.status === 'Succeeded' ? 'succeeded' : 'other'}`;
    const list = categories.get(key) ?? [];
    list.push(batch);
    categories.set(key, list);
  }
  const cutoff = now.getTime() - policy.maxAgeMs;
  const expired: string[] = [];
  for (const list of categories.values()) {
    list.sort((a, b) => (a.ended > b.ended ? -1 : a.ended < b.ended ? 1 : a.name < b.name ? 1 : -1));
    for (const batch of list.slice(policy.keep)) if (Date.parse(batch.ended) < cutoff) expired.push(batch.name);
  }
  return expired;
}
