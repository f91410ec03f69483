import type { Clock } from './clock.js';

/**
 * The one backoff rule every retry in the bot uses (HTTP sources, the indexer, the Telegram front end, the
 * alert dispatcher): the wait before retry `attempt` (1 for the first retry) starts at `baseMs` and doubles,
 * never past `maxMs`. Loops that retry within one call go through `retry` below (as the dispatcher's write of
 * what became of a send does, within the row's lease); the dispatcher reschedules a failed send in the store
 * instead and uses `backoffMs` alone. A wait the other side asked for (HTTP `Retry-After`,
 * Telegram's `retry_after`) is honoured on top, since what to do with a long one differs: a source gives up
 * within one call, the indexer waits at most `maxMs`, the dispatcher keeps the row for later.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function backoffMs(attempt: number, policy: BackoffPolicy): number {
  const doublings = Math.max(0, Math.min(attempt - 1, 52));
  return Math.min(policy.maxMs, policy.baseMs * 2 ** doublings);
}

export interface RetryOptions extends BackoffPolicy {
  /** Calls in all, the first included; the first call is always made. */
  attempts: number;
  /**
   * Whether the failure of call `attempt` is worth another call: false ends at once with that error. Only
   * asked while attempts remain. Where the caller draws the line (which statuses, a stop signal, a server
   * wait too long to sit out within one call) stays with the caller.
   */
  shouldRetry(err: unknown, attempt: number): boolean;
  /**
   * A wait the other side named for this failure (a `Retry-After`, a rate limit's `retryAfterMs`), or
   * undefined. The wait is the longer of it and the backoff, still never past `maxMs`: a caller that must not
   * sit out a long one refuses it in `shouldRetry`.
   */
  waitFor?(err: unknown, attempt: number): number | undefined;
  /** Told before each wait (for the log line): the failure, the attempt that failed, and the wait. */
  onRetry?(err: unknown, attempt: number, waitMs: number): void;
  /** Waits between attempts: the injected clock, so a test's clock sees every wait and nothing sleeps. */
  clock: Pick<Clock, 'sleep'>;
}

/**
 * Calls `attempt(1)`, `attempt(2)`, … until one resolves, a failure is not worth retrying, or `attempts` are
 * spent; then the last error is thrown as it came. Between calls it waits `backoffMs(n)` after the failure of
 * call `n` (or longer, for a wait the server named; see `waitFor`). It holds no state between runs, and it
 * neither logs nor watches a stop signal itself: the caller says what a failure means through the options.
 * The shape follows grammY's own `withRetries` in `bot.ts`.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= options.attempts || !options.shouldRetry(err, n)) throw err;
      const named = options.waitFor?.(err, n) ?? 0;
      const waitMs = Math.min(options.maxMs, Math.max(backoffMs(n, options), named));
      options.onRetry?.(err, n, waitMs);
      await options.clock.sleep(waitMs);
    }
  }
}

export interface RetryUntilStoppedOptions extends BackoffPolicy {
  /** A failure no further try can mend (an invalid token): the tries end with it. Default: none is. */
  isFatal?(err: unknown): boolean;
  /** Told before each wait (for the log line): the failure, the try that failed, and the wait. */
  onRetry?(err: unknown, attempt: number, waitMs: number): void;
  /** Waits between tries and ends early once `signal` aborts. Default a timer that `stop()` clears. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

export interface RetryUntilStopped<T> {
  /**
   * The value of the try that worked; undefined when `stop()` came first and no try in flight then worked; a
   * rejection with a fatal failure. A try in flight when `stop()` came may still work: its value comes here,
   * and undoing it (a connection made) is the caller's, who checks `stopped()`.
   */
  readonly result: Promise<T | undefined>;
  /** No further try starts, and the wait in progress ends. */
  stop(): void;
  stopped(): boolean;
}

/**
 * `retry` for something that must come up in the background for as long as its owner runs (a gateway login,
 * a webhook to set): tried at once, then after each failure with the bounded backoff, forever, until a try
 * works, a failure is fatal, or `stop()` is called. `attempt` is given the stop signal.
 */
export function retryUntilStopped<T>(
  attempt: (n: number, signal: AbortSignal) => Promise<T>,
  options: RetryUntilStoppedOptions,
): RetryUntilStopped<T> {
  const controller = new AbortController();
  const { signal } = controller;
  const sleep = options.sleep ?? abortableSleep;
  const result = retry(
    async (n) => {
      if (signal.aborted) throw signal.reason;
      return attempt(n, signal);
    },
    {
      baseMs: options.baseMs,
      maxMs: options.maxMs,
      attempts: Number.POSITIVE_INFINITY,
      shouldRetry: (err) => !signal.aborted && !(options.isFatal?.(err) ?? false),
      onRetry: (err, n, waitMs) => options.onRetry?.(err, n, waitMs),
      clock: { sleep: (ms) => sleep(ms, signal) },
    },
  ).catch((err: unknown) => {
    if (signal.aborted) return undefined;
    throw err;
  });
  return { result, stop: () => controller.abort(), stopped: () => signal.aborted };
}

/** A timer that ends early when `signal` aborts, and is cleared then, so it holds no process open. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
