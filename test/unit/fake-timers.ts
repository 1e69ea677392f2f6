import type { Timers } from '../../src/store/write-health.js';
import { FakeClock } from './fake-clock.js';

/** Timers that fire only when the test moves the clock (which starts at the epoch); `delays` records every delay asked for. */
export class FakeTimers extends FakeClock implements Timers {
  readonly delays: number[] = [];

  constructor() {
    super(new Date(0));
  }

  override setTimeout(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    return super.setTimeout(callback, ms);
  }
}
