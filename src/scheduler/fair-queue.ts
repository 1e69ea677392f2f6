/** A first-in first-out list with O(1) amortised push and shift (the consumed head is cut off in bulk). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

interface Lane {
  key: string;
  items: Fifo<string>;
}

/** The lanes of one priority that hold items, in the order they take their next turn. */
type Level = Fifo<Lane>;

/**
 * Items (job names) waiting in lanes (batches), taken highest priority first and, within a priority, one
 * item per lane in turn (round robin), each lane first in first out. A lane that gets items while it has
 * none joins the end of its priority's turn order, so an item at position k of its lane, with L lanes of
 * its priority holding items, is taken within k × L takes of that priority: a small lane is never starved
 * by a large one. A push and a take are O(1) amortised, plus O(log P) for the P distinct priorities when a
 * priority gains its first item or loses its last; pushing many items of one lane costs one array push each.
 */
export class FairQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly levels = new Map<number, Level>();
  /** Priorities that hold items, as a max-heap. */
  private readonly heap: number[] = [];
  private count = 0;
  private last: { lane: string; priority: number; value: Lane } | undefined;

  get size(): number {
    return this.count;
  }

  push(item: string, lane: string, priority: number): void {
    let value = this.last?.lane === lane && this.last.priority === priority ? this.last.value : undefined;
    if (!value) {
      const key = `${priority}\u0000${lane}`;
      value = this.lanes.get(key);
      if (!value) {
        value = { key, items: new Fifo() };
        this.lanes.set(key, value);
      }
      this.last = { lane, priority, value };
    }
    if (value.items.size === 0) this.levelOf(priority).push(value);
    value.items.push(item);
    this.count++;
  }

  /** The next item, or undefined when none waits. */
  shift(): string | undefined {
    const priority = this.heap[0];
    if (priority === undefined) return undefined;
    const level = this.levels.get(priority)!;
    const lane = level.shift()!;
    const item = lane.items.shift()!;
    this.count--;
    if (lane.items.size > 0) {
      level.push(lane);
    } else {
      this.lanes.delete(lane.key);
      if (this.last?.value === lane) this.last = undefined;
    }
    if (level.size === 0) {
      this.levels.delete(priority);
      popHeap(this.heap);
    }
    return item;
  }

  private levelOf(priority: number): Level {
    let level = this.levels.get(priority);
    if (!level) {
      level = new Fifo();
      this.levels.set(priority, level);
      pushHeap(this.heap, priority);
    }
    return level;
  }
}

function pushHeap(heap: number[], value: number): void {
  let i = heap.push(value) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! >= value) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = value;
}

function popHeap(heap: number[]): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const child = left + 1 < heap.length && heap[left + 1]! > heap[left]! ? left + 1 : left;
    if (heap[child]! <= last) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
}
