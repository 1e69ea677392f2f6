import { randomBytes } from 'node:crypto';
import { SUFFIX_ALPHABET, SUFFIX_LENGTH } from '../core/naming.js';

const POOL_SIZE = 4096;
/** The largest multiple of the alphabet's size below 256: bytes above it are skipped to avoid bias. */
const UNBIASED_LIMIT = 256 - (256 % SUFFIX_ALPHABET.length);

/** Random name suffixes of [a-z0-9], drawn from a pool of random bytes to keep big batches fast. */
export function createSuffixSource(): () => string {
  let pool = randomBytes(POOL_SIZE);
  let offset = 0;
  return () => {
    let out = '';
    while (out.length < SUFFIX_LENGTH) {
      if (offset === pool.length) {
        pool = randomBytes(POOL_SIZE);
        offset = 0;
      }
      const byte = pool[offset++]!;
      if (byte < UNBIASED_LIMIT) out += SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length];
    }
    return out;
  };
}
