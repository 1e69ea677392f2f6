import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { Logger } from '../../logger.js';

/** Names the attempt a process belongs to, in its environment, so a later instance can find it. */
export const ATTEMPT_MARKER = 'JOB_SCHEDULER_ATTEMPT';

/** Signals every process of a group; false when none was left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Exit code as a container runtime reports it: 128 + the signal's number when killed by one. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? constants.signals[signal] : undefined;
  return number === undefined ? 128 : 128 + number;
}

export interface FoundProcess {
  pid: number;
  pgid: number;
  marker: string;
}

/**
 * Finds live processes whose environment carries the attempt marker with the given prefix, by
 * reading /proc (Linux). A process id alone could have been reused; the marker cannot.
 */
export function findMarkedProcesses(prefix: string): FoundProcess[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: FoundProcess[] = [];
  const wanted = `${ATTEMPT_MARKER}=${prefix}`;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      const start = environ.indexOf(wanted);
      if (start < 0 || (start > 0 && environ[start - 1] !== '\0')) continue;
      const end = environ.indexOf('\0', start);
      const marker = environ.slice(start + ATTEMPT_MARKER.length + 1, end < 0 ? undefined : end);
      found.push({ pid, pgid: processGroupOf(pid), marker });
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return found;
}

/** The process group of a live process (throws when it is gone). */
export function processGroupOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name (field 2) may hold spaces and parentheses; fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[2]);
}

/** Whether a process is still running; a zombie (ended, not yet reaped) is not. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat[stat.lastIndexOf(')') + 2];
    return state !== 'Z' && state !== 'X';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Ends every process a previous instance on this data directory started (found by the marker prefix that
 * names that instance): SIGTERM to each group, then SIGKILL to what is left after the grace period.
 */
export async function endLeftoverProcesses(prefix: string, graceMs: number, logger: Logger): Promise<void> {
  const leftovers = findMarkedProcesses(prefix);
  if (leftovers.length === 0) return;
  logger.warn('ending processes left by a previous instance', { count: leftovers.length });
  await endProcesses(leftovers, graceMs);
}

/** SIGTERM to each process's group (and to a process outside its own group), then SIGKILL after the grace period. */
export async function endProcesses(found: readonly FoundProcess[], graceMs: number): Promise<void> {
  if (found.length === 0) return;
  const groups = new Set(found.map((p) => p.pgid));
  for (const pgid of groups) signalGroup(pgid, 'SIGTERM');
  for (const { pid } of found) if (!groups.has(pid)) signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (found.some((p) => isRunning(p.pid)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  for (const { pid } of found) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
}
