import type { Timers } from '../../src/store/write-health.js';

/** Timers that fire only when the test moves the clock; `delays` records every delay asked for. */
export class FakeTimers implements Timers {
  private clock = 0;
  private queue: Array<{ at: number; callback: () => void }> = [];
  readonly delays: number[] = [];

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.clock + ms, callback };
    this.queue.push(timer);
    this.delays.push(ms);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((timer) => timer !== handle);
  }

  /** How many timers are armed. */
  get armed(): number {
    return this.queue.length;
  }

  /** Moves the clock, firing every timer that falls due, in order (including ones armed meanwhile). */
  advance(ms: number): void {
    const target = this.clock + ms;
    for (;;) {
      const due = this.queue.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.queue = this.queue.filter((timer) => timer !== due);
      this.clock = due.at;
      due.callback();
    }
    this.clock = target;
  }
}
