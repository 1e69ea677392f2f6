import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** How often the resident memory of each limited attempt is read. */
export const MEMORY_CHECK_MS = 200;

interface Watched {
  limitBytes: number;
  exceeded: () => void;
}

/**
 * Enforces `resources.limits.memory` on the local runtime as the kubelet does: an attempt whose processes (its
 * process group: the leader and what it started) hold more resident memory than the limit is killed, and the
 * attempt ends `OOMKilled` with exit code 137. Memory is read from /proc every `MEMORY_CHECK_MS`, so an attempt
 * may exceed its limit for that long before it is killed. Where there is no /proc (not Linux) limits are not
 * enforced, and the job's message says so.
 */
export class MemoryGuard {
  static readonly supported = existsSync('/proc/self/stat');
  /** By process group id (the attempt's leader's pid). */
  private readonly watched = new Map<number, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = MEMORY_CHECK_MS) {}

  /** Watches the attempt whose process group is `pgid`; `exceeded` is called once, when it goes over. Returns the unwatch. */
  watch(pgid: number, limitBytes: number, exceeded: () => void): () => void {
    this.watched.set(pgid, { limitBytes, exceeded });
    this.timer ??= setInterval(() => this.check(), this.intervalMs).unref();
    return () => this.unwatch(pgid);
  }

  /** Reads every watched attempt once (the timer calls it). */
  check(): void {
    if (this.watched.size === 0) return;
    const resident = residentBytesByGroup(new Set(this.watched.keys()));
    for (const [pgid, watched] of this.watched) {
      // The leader is read on its own too, should the pass over /proc have missed it (it lists a busy machine's
      // processes as they come and go).
      const bytes = resident.get(pgid) ?? residentBytes(pgid);
      if (bytes <= watched.limitBytes) continue;
      this.unwatch(pgid);
      watched.exceeded();
    }
  }

  close(): void {
    this.watched.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private unwatch(pgid: number): void {
    this.watched.delete(pgid);
    if (this.watched.size === 0) this.close();
  }
}

/**
 * The resident memory of the processes of each of these groups, in bytes, in one pass over /proc: the group of a
 * process is in its `stat`, and only the members' `status` is read.
 */
export function residentBytesByGroup(groups: ReadonlySet<number>): Map<number, number> {
  const totals = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return totals;
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = read(`/proc/${entry}/stat`);
    // After the command name (which may hold spaces and parentheses): state, ppid, pgrp, ...
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3)[2]);
    if (!groups.has(pgrp)) continue;
    const bytes = residentBytes(Number(entry));
    if (bytes > 0) totals.set(pgrp, (totals.get(pgrp) ?? 0) + bytes);
  }
  return totals;
}

/** One process's resident memory in bytes; 0 when it is gone. */
function residentBytes(pid: number): number {
  const kilobytes = /^VmRSS:\s+(\d+) kB$/m.exec(read(`/proc/${pid}/status`))?.[1];
  return kilobytes === undefined ? 0 : Number(kilobytes) * 1024;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
