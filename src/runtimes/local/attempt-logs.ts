import { closeSync, fstatSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Logger } from '../../logger.js';
import type { LogRequest } from '../runtime.js';
import type { JobFiles } from './job-files.js';
import { LogTrimmer } from './log-trimmer.js';
import { logChunks, MARK_ROOM, tailStart, truncationMark, windowOf } from './log-window.js';

/** The default cap on one attempt's log: the newest 10 MiB are kept. */
export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;

export interface AttemptLogsOptions {
  files: JobFiles;
  /** Bytes kept per attempt (the newest). */
  maxBytes: number;
  logger: Logger;
  /** How often the logs of running attempts are trimmed (default 1 s). */
  trimIntervalMs?: number;
  /** How often a followed log is read again (default 200 ms). */
  pollMs?: number;
}

/**
 * The log files of job attempts, capped per attempt: trimmed while the attempt runs (`LogTrimmer`), rewritten
 * as the truncation mark plus the newest bytes when it ends (`compact`), and read back with the cap applied.
 */
export class AttemptLogs {
  private readonly trimmer: LogTrimmer;

  constructor(private readonly options: AttemptLogsOptions) {
    this.trimmer = new LogTrimmer({ cap: options.maxBytes, intervalMs: options.trimIntervalMs ?? 1000, logger: options.logger });
  }

  /** An attempt's process writes its log from now on. */
  started(jobName: string, attempt: number): void {
    this.trimmer.watch(this.options.files.logPath(jobName, attempt));
  }

  /** An attempt's process is gone: its log is final and is cut to the cap (read only when `bytes`, if known, are over it). */
  ended(jobName: string, attempt: number, bytes?: number | null): void {
    const file = this.options.files.logPath(jobName, attempt);
    this.trimmer.unwatch(file);
    if (typeof bytes === 'number' && bytes <= this.options.maxBytes + MARK_ROOM) return;
    this.compact(jobName, attempt);
  }

  /**
   * Rewrites a log over the cap as the truncation mark and its newest bytes (a new file renamed over the old
   * one, so a reader holding the old one reads on undisturbed). At most `maxBytes` are read and written.
   */
  compact(jobName: string, attempt: number): void {
    const { files, maxBytes, logger } = this.options;
    const file = files.logPath(jobName, attempt);
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      const size = fstatSync(fd).size;
      if (size <= maxBytes + MARK_ROOM) return;
      const tail = Buffer.alloc(maxBytes);
      const read = readSync(fd, tail, 0, maxBytes, size - maxBytes);
      const temporary = `${file}.compacting`;
      const out = openSync(temporary, 'w', 0o600);
      try {
        writeSync(out, truncationMark(size - maxBytes));
        writeSync(out, tail, 0, read);
      } finally {
        closeSync(out);
      }
      renameSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      logger.warn('could not cut an attempt log to its cap', { jobName, attempt, error: (error as Error).message });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /**
   * The attempt's log, cap applied: the truncation mark first when older bytes were dropped (and the part asked
   * for reaches back to them). Undefined when the attempt has written no log file (it has not started).
   */
  async read(jobName: string, request: LogRequest, isLive: () => boolean): Promise<Readable | undefined> {
    const cap = this.options.maxBytes;
    let handle;
    try {
      handle = await open(this.options.files.logPath(jobName, request.attempt), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const window = await windowOf(handle, cap);
      const start = request.tail === undefined ? window.start : await tailStart(handle, window, request.tail);
      const mark = start === window.start && window.dropped > 0 ? truncationMark(window.dropped) : '';
      const chunks = logChunks(handle, start, window.end, { mark, follow: request.follow, isLive, signal: request.signal, pollMs: this.options.pollMs ?? 200, cap });
      const stream = Readable.from(chunks, { objectMode: false });
      // Closed however the stream ends: read to its end, failed, or left by its reader (even before a first read).
      stream.once('close', () => void handle.close().catch(() => undefined));
      return stream;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  close(): void {
    this.trimmer.close();
  }
}
