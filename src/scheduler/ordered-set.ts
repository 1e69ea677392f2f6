/** Most numbers one block holds: inserting or removing moves at most this many, and finding a block is a binary search. */
const BLOCK = 512;

/**
 * A set of numbers kept in ascending order, in blocks of at most `BLOCK` sorted numbers: adding at the end
 * (the usual case: keys grow) is O(1), adding or removing elsewhere O(log n + BLOCK), and reading the numbers
 * after a given one starts with a binary search, so a page costs what it returns, not what it skips.
 */
export class OrderedSet {
  private readonly blocks: number[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(value: number): void {
    const last = this.blocks.at(-1);
    if (!last || value > last[last.length - 1]!) {
      if (!last || last.length >= BLOCK) this.blocks.push([value]);
      else last.push(value);
      this.count++;
      return;
    }
    const b = this.blockFor(value);
    const block = this.blocks[b]!;
    const i = lowerBound(block, value);
    if (block[i] === value) return;
    block.splice(i, 0, value);
    this.count++;
    if (block.length > BLOCK) this.blocks.splice(b + 1, 0, block.splice(BLOCK / 2));
  }

  delete(value: number): boolean {
    if (this.count === 0) return false;
    const b = this.blockFor(value);
    const block = this.blocks[b]!;
    const i = lowerBound(block, value);
    if (block[i] !== value) return false;
    block.splice(i, 1);
    this.count--;
    if (block.length === 0) this.blocks.splice(b, 1);
    return true;
  }

  has(value: number): boolean {
    if (this.count === 0) return false;
    const block = this.blocks[this.blockFor(value)]!;
    return block[lowerBound(block, value)] === value;
  }

  /** The numbers greater than `after`, in ascending order (`after` -Infinity for all). */
  *after(after: number): Generator<number> {
    if (this.count === 0) return;
    let b = this.blockFor(after);
    let i = upperBound(this.blocks[b]!, after);
    for (; b < this.blocks.length; b++, i = 0) {
      const block = this.blocks[b]!;
      for (; i < block.length; i++) yield block[i]!;
    }
  }

  /** The smallest number greater than `after`, or undefined. */
  firstAfter(after: number): number | undefined {
    return this.after(after).next().value as number | undefined;
  }

  /** The last block whose first number is at most `value` (the first block when none is). */
  private blockFor(value: number): number {
    let low = 0;
    let high = this.blocks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.blocks[mid]![0]! <= value) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

function lowerBound(block: number[], value: number): number {
  let low = 0;
  let high = block.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (block[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function upperBound(block: number[], value: number): number {
  let low = 0;
  let high = block.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (block[mid]! <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}
