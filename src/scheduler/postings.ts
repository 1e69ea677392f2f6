import { OrderedSet } from './ordered-set.js';

/** A set of keys in ascending order; a single key is kept as a bare number (most jobIds name one job). */
type Posting = number | OrderedSet;

/**
 * Secondary indexes: for each indexed value (a status, a jobId, a label), the ordered keys of the items that
 * have it. A list filtered on a value reads only that value's keys.
 */
export class Postings {
  private readonly postings = new Map<string, Posting>();

  add(term: string, key: number): void {
    const posting = this.postings.get(term);
    if (posting === undefined) this.postings.set(term, key);
    else if (typeof posting === 'number') {
      if (posting === key) return;
      const set = new OrderedSet();
      set.add(posting);
      set.add(key);
      this.postings.set(term, set);
    } else posting.add(key);
  }

  delete(term: string, key: number): void {
    const posting = this.postings.get(term);
    if (posting === undefined) return;
    if (typeof posting === 'number') {
      if (posting === key) this.postings.delete(term);
    } else if (posting.delete(key) && posting.size === 0) this.postings.delete(term);
  }

  size(term: string): number {
    const posting = this.postings.get(term);
    return posting === undefined ? 0 : typeof posting === 'number' ? 1 : posting.size;
  }

  /** The keys of `term` greater than `after`, ascending. */
  *after(term: string, after: number): Generator<number> {
    const posting = this.postings.get(term);
    if (posting === undefined) return;
    if (typeof posting === 'number') {
      if (posting > after) yield posting;
    } else yield* posting.after(after);
  }

  /** Whether `term` has a key in [from, to). */
  hasBetween(term: string, from: number, to: number): boolean {
    const first = this.after(term, from - 1).next().value as number | undefined;
    return first !== undefined && first < to;
  }
}

/** A source of keys for a list: its size (to choose the cheapest) and its keys after a given one. */
export interface KeySource {
  size: number;
  after(after: number): Iterator<number>;
}

/** The union of several terms' keys, in ascending order, each key once. */
export function union(postings: Postings, terms: readonly string[]): KeySource {
  const unique = [...new Set(terms)];
  return {
    size: unique.reduce((sum, term) => sum + postings.size(term), 0),
    after(after) {
      return merge(unique.map((term) => postings.after(term, after)));
    },
  };
}

function* merge(iterators: Array<Iterator<number>>): Generator<number> {
  const heads = iterators.map((iterator) => iterator.next());
  let last = -Infinity;
  for (;;) {
    let min = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (!head.done && (min < 0 || head.value < (heads[min]!.value as number))) min = i;
    }
    if (min < 0) return;
    const value = heads[min]!.value as number;
    heads[min] = iterators[min]!.next();
    if (value !== last) yield value;
    last = value;
  }
}

/** The keys from `from` up to (not including) `to`: a batch's positions when nothing better narrows them. */
export function range(from: number, to: number): KeySource {
  return {
    size: to - from,
    *after(after) {
      for (let key = Math.max(from, Math.floor(after) + 1); key < to; key++) yield key;
    },
  };
}

export interface Page<T> {
  items: T[];
  /** The key of the last item, when more items may follow. */
  last?: number;
}

export function cheapest(sources: KeySource[]): KeySource {
  return sources.reduce((best, source) => (source.size < best.size ? source : best));
}

/**
 * Reads keys until `limit` items match, then one more match to know whether another page follows. `pick`
 * answers the item, undefined to skip the key, or null when no later key can match.
 */
export function collect<T>(keys: Iterator<number>, limit: number, pick: (key: number) => T | undefined | null): Page<T> {
  const items: T[] = [];
  let lastKey = -1;
  for (let next = keys.next(); !next.done; next = keys.next()) {
    const item = pick(next.value);
    if (item === null) break;
    if (item === undefined) continue;
    if (items.length === limit) return { items, last: lastKey };
    items.push(item);
    lastKey = next.value;
  }
  return { items };
}
