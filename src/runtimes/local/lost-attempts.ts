import { endProcesses, type FoundProcess, findMarkedProcesses, isRunning, processGroupOf } from './processes.js';

/**
 * Ends the processes of attempts whose exit can no longer be learned (the spawner that started them ended): as
 * at start with a previous instance's leftovers, SIGTERM to each group, then SIGKILL after the grace period.
 * An attempt is found by its marker (its pid may never have been reported); the attempts lost together are
 * ended together, with one pass over /proc.
 */
export class LostAttempts {
  private batch: { markers: Map<string, number | undefined>; done: Promise<void> } | undefined;

  constructor(private readonly graceMs: number) {}

  /** Resolves once the attempt's processes (marker `instance/attempt`, leader `pid` when known) are gone. */
  end(marker: string, pid: number | undefined): Promise<void> {
    if (!this.batch) {
      const markers = new Map<string, number | undefined>();
      const done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.batch = undefined;
        return this.endAll(markers);
      });
      this.batch = { markers, done };
    }
    this.batch.markers.set(marker, pid);
    return this.batch.done;
  }

  private async endAll(markers: Map<string, number | undefined>): Promise<void> {
    const prefixes = new Set([...markers.keys()].map((marker) => marker.slice(0, marker.indexOf('/') + 1)));
    const found: FoundProcess[] = [...prefixes].flatMap((prefix) => findMarkedProcesses(prefix)).filter((p) => markers.has(p.marker));
    // A leader that rewrote its environment is still ended through the pid the spawner reported, while that pid
    // still leads its own group (a reused pid would not).
    for (const pid of markers.values()) {
      if (pid !== undefined && !found.some((p) => p.pgid === pid) && leadsItsGroup(pid)) found.push({ pid, pgid: pid, marker: '' });
    }
    await endProcesses(found, this.graceMs);
  }
}

function leadsItsGroup(pid: number): boolean {
  try {
    return isRunning(pid) && processGroupOf(pid) === pid;
  } catch {
    return false;
  }
}
