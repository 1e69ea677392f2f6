import { randomBytes, randomInt } from 'node:crypto';
import { SUFFIX_ALPHABET, SUFFIX_LENGTH } from '../core/naming.js';

const POOL_SIZE = 4096;
/** The largest multiple of the alphabet's size below 256: bytes above it are skipped to avoid bias. */
const UNBIASED_LIMIT = 256 - (256 % SUFFIX_ALPHABET.length);
/** The alphabet in byte order, the order in which SQLite (and `<` on strings) compares names. */
const SORTED = [...SUFFIX_ALPHABET].sort().join('');
/** Leading characters that count up from one suffix to the next; the rest are random. */
const ORDERED_LENGTH = 3;
const ORDERED_SPACE = SORTED.length ** ORDERED_LENGTH;

/**
 * Name suffixes of [a-z0-9]: 3 characters that count up from a random start (so that names made in the same
 * second increase, and the store's name indexes take each new batch at their end instead of at a random page:
 * a page written per index per request), then 5 random ones (60 million values), drawn from a pool of random
 * bytes to keep big batches fast. Names stay distinct by the check of the caller (`taken`, `used`).
 */
export function createSuffixSource(): () => string {
  let pool = randomBytes(POOL_SIZE);
  let offset = 0;
  let counter = randomInt(ORDERED_SPACE);
  return () => {
    let out = '';
    let value = counter;
    counter = (counter + 1) % ORDERED_SPACE;
    for (let i = 0; i < ORDERED_LENGTH; i++) {
      out = SORTED[value % SORTED.length]! + out;
      value = Math.floor(value / SORTED.length);
    }
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
