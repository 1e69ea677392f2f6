import type { FileHandle } from 'node:fs/promises';

/** The first line served when the cap dropped older output (and the first line of a compacted log file). */
export function truncationMark(dropped: number): string {
  return `[job-scheduler: ${dropped} earlier bytes dropped]\n`;
}

const MARK = /^\[job-scheduler: (\d{1,16}) earlier bytes dropped\]\n/;
/** Room for the mark line: a log at most this much over the cap is served whole, so a compacted file is never cut again. */
export const MARK_ROOM = 64;
const CHUNK = 64 * 1024;

/** The part of a log file that is served: bytes `start` to `end`, after `dropped` bytes the cap took away. */
export interface LogWindow {
  start: number;
  end: number;
  dropped: number;
}

/**
 * The newest `cap` bytes of a log file. A file an attempt still writes (or one a crash left uncompacted) is cut
 * here; a compacted file (see `compactLog`) starts with its mark and is served after it.
 */
export async function windowOf(handle: FileHandle, cap: number): Promise<LogWindow> {
  const { size } = await handle.stat();
  if (size > cap + MARK_ROOM) return { start: size - cap, end: size, dropped: size - cap };
  const head = Buffer.alloc(Math.min(size, MARK_ROOM));
  await handle.read(head, 0, head.length, 0);
  const mark = MARK.exec(head.toString('latin1'));
  return mark ? { start: mark[0].length, end: size, dropped: Number(mark[1]) } : { start: 0, end: size, dropped: 0 };
}

/** Where the last `lines` lines of the window begin (a final newline ends the last line, it does not start one). */
export async function tailStart(handle: FileHandle, window: LogWindow, lines: number): Promise<number> {
  if (lines <= 0) return window.end;
  const buffer = Buffer.alloc(CHUNK);
  let position = window.end;
  let found = 0;
  let last = true;
  while (position > window.start) {
    const length = Math.min(CHUNK, position - window.start);
    position -= length;
    await handle.read(buffer, 0, length, position);
    for (let i = length - 1; i >= 0; i--) {
      if (buffer[i] !== 0x0a) continue;
      if (last && position + i === window.end - 1) continue;
      if (++found === lines) return position + i + 1;
    }
    last = false;
  }
  return window.start;
}

export interface FollowOptions {
  /** Sent first (the truncation mark, or nothing). */
  mark: string;
  /** Keep reading until `isLive` answers false, then read what is left and end. */
  follow: boolean;
  isLive: () => boolean;
  signal: AbortSignal;
  pollMs: number;
  cap: number;
}

/**
 * The bytes of a log from `from` on: up to `end` when not following; when following, everything the attempt
 * writes until it ends. A reader that falls more than the cap behind skips ahead (with a mark), as the trimmer
 * may have freed what it skipped. The caller closes the file.
 */
export async function* logChunks(handle: FileHandle, from: number, end: number, options: FollowOptions): AsyncGenerator<Buffer> {
  if (options.mark) yield Buffer.from(options.mark);
  let position = from;
  for (;;) {
    const live = options.follow && options.isLive();
    const size = options.follow ? (await handle.stat()).size : end;
    if (options.follow && size - position > options.cap + MARK_ROOM) {
      yield Buffer.from(truncationMark(size - options.cap - position));
      position = size - options.cap;
    }
    while (position < size) {
      const buffer = Buffer.alloc(Math.min(CHUNK, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
    if (!live || options.signal.aborted) return;
    await pause(options.pollMs, options.signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
