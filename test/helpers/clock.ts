import type { Clock } from '../../src/core/clock.js';

export interface TestClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
  /** Every sleep asked for, in order: lets tests check backoff without waiting. */
  readonly sleeps: number[];
}

/** A clock that only moves when told to; `sleep` moves it at once instead of waiting. */
export function createTestClock(startMs = Date.parse('2026-11-22T12:00:00Z')): TestClock {
  let now = startMs;
  const sleeps: number[] = [];
  return {
    now: () => now,
    async sleep(ms) {
      sleeps.push(ms);
      now += ms;
    },
    advance(ms) {
      now += ms;
    },
    set(ms) {
      now = ms;
    },
    sleeps,
  };
}
