import { isUtf8 } from 'node:buffer';
import { ApiError } from '../core/errors.js';

/**
 * Cuts the body's bytes at line ends, which UTF-8 never has inside a character: complete lines are checked
 * and decoded as a whole (`isUtf8`, then `toString`), three times faster than a streaming `TextDecoder`
 * over 100 MiB. The bytes after the last line end wait, in pieces, for the chunk that ends their line.
 */
export class LineBytes {
  private pending: Buffer[] = [];
  private started = false;

  /** The text of the lines this chunk completes (without the last line end), or undefined when it completes none. */
  completeLines(chunk: Buffer): string | undefined {
    const end = chunk.lastIndexOf(0x0a);
    if (end < 0) {
      this.pending.push(chunk);
      return undefined;
    }
    const bytes = this.pending.length === 0 ? chunk.subarray(0, end) : Buffer.concat([...this.pending, chunk.subarray(0, end)]);
    this.pending = end + 1 < chunk.length ? [chunk.subarray(end + 1)] : [];
    return this.decode(bytes);
  }

  /** The text after the last line end (empty when the body ended with one). */
  last(): string {
    return this.decode(Buffer.concat(this.pending));
  }

  private decode(bytes: Buffer): string {
    if (!isUtf8(bytes)) throw ApiError.badRequest('the request body is not valid UTF-8: send the lines as UTF-8 (a payload is delivered byte for byte)');
    const text = bytes.toString('utf8');
    const first = !this.started;
    this.started = true;
    // A byte order mark is not part of the first line (as TextDecoder drops it).
    return first && text.startsWith('\uFEFF') ? text.slice(1) : text;
  }
}
