import { createHash } from 'node:crypto';
import type { RecordedIntent, RecordedOutcome, RecordedRestart } from '../../core/cluster-job.js';

/**
 * Where a job's durable intent lives: ConfigMaps `<batch>-state-<n>` owned by the batch record, each for
 * `SHARD_JOBS` jobs of the batch (by their index), one `data` key per job and fact, so that a merge patch
 * adds or replaces only its own keys and never loses another writer's:
 *
 * - `launched.<i>`: `1` while a Job may have been created for job i (written before each create);
 * - `stop.<i>`: when job i was stopped (written before its Job is suspended and before the stop is answered);
 * - `outcome.<i>`: job i's final outcome as JSON (status, times, failed count, message, last attempts);
 * - `run.<i>`: once job i was restarted, its run as JSON (`{run, at, attempts}`: the run number, when the restart
 *   was asked, and the earlier runs' last attempts). Written with the removal of the outcome, stop and launch mark
 *   in one patch; the attempts are dropped from it in the patch that records the run's outcome (which holds them),
 *   so a job holds at most one list of attempts and the bound below stays.
 *
 * A shard of 400 jobs stays well under the 1 MiB object limit even with the longest outcomes (512-character
 * messages, 5 attempts), so a batch of 100,000 jobs takes 250 such objects, created only as jobs launch.
 */
export const SHARD_JOBS = 400;

export type IntentKind = 'launched' | 'stop' | 'outcome' | 'run';

export function shardOf(index: number): number {
  return Math.floor(index / SHARD_JOBS);
}

export function shardName(batchName: string, shard: number): string {
  return `${batchName}-state-${shard}`;
}

/** The shard number of a state object's name, or undefined when the name is not one of the batch's. */
export function shardNumber(batchName: string, objectName: string): number | undefined {
  const prefix = `${batchName}-state-`;
  if (!objectName.startsWith(prefix)) return undefined;
  const rest = objectName.slice(prefix.length);
  return /^(0|[1-9]\d{0,6})$/.test(rest) ? Number(rest) : undefined;
}

export function intentKey(kind: IntentKind, index: number): string {
  return `${kind}.${index}`;
}

export function emptyIntent(): RecordedIntent {
  return { launched: false, stoppedAt: null, outcome: null };
}

/** Reads the intents recorded in a batch's state objects' data, by job index; unreadable values are skipped and counted. */
export function readIntents(datas: Iterable<Record<string, string> | undefined>): { intents: Map<number, RecordedIntent>; unreadable: number } {
  const intents = new Map<number, RecordedIntent>();
  let unreadable = 0;
  for (const data of datas) {
    for (const [key, value] of Object.entries(data ?? {})) {
      const match = /^(launched|stop|outcome|run)\.(\d{1,7})$/.exec(key);
      if (!match) continue;
      const index = Number(match[2]);
      const intent = intents.get(index) ?? emptyIntent();
      intents.set(index, intent);
      if (match[1] === 'launched') intent.launched = value === '1';
      else if (match[1] === 'run') {
        const restart = parseRestart(value);
        if (restart) intent.restart = restart;
        else unreadable++;
      } else if (match[1] === 'stop') intent.stoppedAt = Number.isNaN(Date.parse(value)) ? (unreadable++, null) : new Date(value).toISOString();
      else {
        const outcome = parseOutcome(value);
        if (outcome) intent.outcome = outcome;
        else unreadable++;
      }
    }
  }
  return { intents, unreadable };
}

function parseOutcome(text: string): RecordedOutcome | null {
  try {
    const value = JSON.parse(text) as RecordedOutcome;
    if (!['Succeeded', 'Failed', 'Stopped'].includes(value?.status) || !Array.isArray(value.attempts) || typeof value.updated !== 'string') return null;
    return value;
  } catch {
    return null;
  }
}

function parseRestart(text: string): RecordedRestart | null {
  try {
    const value = JSON.parse(text) as RecordedRestart;
    if (!Number.isSafeInteger(value?.run) || value.run < 1 || typeof value.at !== 'string' || !Array.isArray(value.attempts)) return null;
    return value;
  } catch {
    return null;
  }
}

/** A short stand-in for a long value, to remember what was written without keeping every outcome twice. */
export function fingerprint(value: string): string {
  return value.length <= 64 ? value : `#${createHash('sha1').update(value).digest('base64')}`;
}
