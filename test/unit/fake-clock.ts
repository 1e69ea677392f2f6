import type { ScheduleClock } from '../../src/scheduler/schedules.js';

/** A wall clock and its timers that move only when the test moves them. */
export class FakeClock implements ScheduleClock {
  private ms: number;
  private queue: Array<{ at: number; callback: () => void }> = [];

  constructor(start: Date | string) {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.ms + ms, callback };
    this.queue.push(timer);
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
    this.advanceTo(new Date(this.ms + ms));
  }

  advanceTo(at: Date | string): void {
    const target = new Date(at).getTime();
    for (;;) {
      const due = this.queue.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.queue = this.queue.filter((timer) => timer !== due);
      this.ms = due.at;
      due.callback();
    }
    this.ms = target;
  }
}
