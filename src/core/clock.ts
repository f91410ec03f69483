/**
 * Time, injected. Production uses the system clock; tests use a clock they move by hand, so nothing in a
 * test sleeps for real and every "3 min ago" is reproducible.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
