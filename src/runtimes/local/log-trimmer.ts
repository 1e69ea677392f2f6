import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Logger } from '../../logger.js';
import { MARK_ROOM } from './log-window.js';

export interface LogTrimmerOptions {
  /** Bytes kept per attempt. */
  cap: number;
  intervalMs: number;
  logger: Logger;
  /** Frees the first `length` bytes of a file without moving the rest (default: `fallocate --punch-hole`). */
  punch?: (file: string, length: number) => Promise<void>;
}

const BLOCK = 4096;

/**
 * Keeps the disk used by logs of running attempts near the cap. A job writes its log file directly (nothing
 * between it and the disk, so the service never slows it and a busy event loop loses none of its output), so
 * the file only grows; every interval, the part of a file older than the cap is punched out (a hole: it takes
 * no space, the newest bytes stay where they are and the job's appends go on). The file's size keeps counting
 * what was written, which is how a reader knows how much was dropped. When the attempt ends, `compactLog`
 * rewrites the file small.
 */
export class LogTrimmer {
  private readonly files = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private working = false;
  private disabled = false;
  private readonly punch: (file: string, length: number) => Promise<void>;

  constructor(private readonly options: LogTrimmerOptions) {
    this.punch = options.punch ?? punchHole;
  }

  watch(file: string): void {
    if (this.disabled) return;
    this.files.set(file, 0);
    this.timer ??= setInterval(() => void this.trim(), this.options.intervalMs).unref();
  }

  unwatch(file: string): void {
    this.files.delete(file);
    if (this.files.size === 0) this.stop();
  }

  close(): void {
    this.files.clear();
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Punches each file once its freeable part has grown by a quarter of the cap (at least 1 MiB) since the last time. */
  private async trim(): Promise<void> {
    if (this.working) return;
    this.working = true;
    const { cap, logger } = this.options;
    const slack = Math.max(1024 * 1024, Math.floor(cap / 4));
    try {
      for (const [file, punched] of this.files) {
        const size = await stat(file).then((info) => info.size, () => 0);
        const length = Math.floor((size - cap - MARK_ROOM) / BLOCK) * BLOCK;
        if (length - punched < slack) continue;
        try {
          await this.punch(file, length);
          if (this.files.has(file)) this.files.set(file, length);
        } catch (error) {
          // No fallocate, or a file system without holes: logs are then cut when their attempt ends only.
          logger.warn('cannot trim the logs of running jobs; they are capped when each attempt ends', { error: (error as Error).message });
          this.disabled = true;
          this.close();
          return;
        }
      }
    } finally {
      this.working = false;
    }
  }
}

function punchHole(file: string, length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('fallocate', ['--punch-hole', '--offset', '0', '--length', String(length), file], { timeout: 10_000 }, (error) => (error ? reject(error) : resolve()));
  });
}
