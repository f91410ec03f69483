import { describe, expect, it } from 'vitest';
import { backoffMs, retry, retryUntilStopped, type RetryOptions } from '../../src/core/backoff.js';
import { createTestClock } from '../helpers/clock.js';

describe('backoffMs', () => {
  it('starts at the base, doubles per attempt and stops at the cap', () => {
    const policy = { baseMs: 1_000, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(a, policy))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });

  it('stays finite however many attempts', () => {
    expect(backoffMs(10_000, { baseMs: 1, maxMs: Number.POSITIVE_INFINITY })).toBe(2 ** 52);
    expect(backoffMs(0, { baseMs: 50, maxMs: 100 })).toBe(50);
  });
});

/** An attempt that fails with `failures[n - 1]` on call n, then answers `done`; it keeps the calls it saw. */
function failing(failures: unknown[]) {
  const calls: number[] = [];
  const attempt = async (n: number): Promise<string> => {
    calls.push(n);
    if (n <= failures.length) throw failures[n - 1];
    return 'done';
  };
  return { attempt, calls };
}

function options(overrides: Partial<RetryOptions> = {}) {
  const clock = createTestClock();
  const retried: [unknown, number, number][] = [];
  const opts: RetryOptions = {
    attempts: 5,
    baseMs: 100,
    maxMs: 1_000,
    clock,
    shouldRetry: () => true,
    onRetry: (err, attempt, waitMs) => retried.push([err, attempt, waitMs]),
    ...overrides,
  };
  return { opts, clock, retried };
}

describe('retry', () => {
  it('calls again after each failure with doubling waits, and answers with the first success', async () => {
    const { attempt, calls } = failing([new Error('a'), new Error('b'), new Error('c')]);
    const { opts, clock } = options();
    await expect(retry(attempt, opts)).resolves.toBe('done');
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(clock.sleeps).toEqual([100, 200, 400]);
  });

  it('makes no wait when the first call succeeds', async () => {
    const { attempt, calls } = failing([]);
    const { opts, clock, retried } = options();
    await expect(retry(attempt, opts)).resolves.toBe('done');
    expect(calls).toEqual([1]);
    expect(clock.sleeps).toEqual([]);
    expect(retried).toEqual([]);
  });

  it('stops after `attempts` calls and throws the last error as it came, with no wait after it', async () => {
    const errors = [new Error('1'), new Error('2'), new Error('3'), new Error('4')];
    const { attempt, calls } = failing(errors);
    const { opts, clock, retried } = options({ attempts: 3 });
    await expect(retry(attempt, opts)).rejects.toBe(errors[2]);
    expect(calls).toEqual([1, 2, 3]);
    expect(clock.sleeps).toEqual([100, 200]);
    expect(retried.map(([err, n]) => [err, n])).toEqual([
      [errors[0], 1],
      [errors[1], 2],
    ]);
  });

  it('makes the first call even when no attempts are allowed', async () => {
    const first = new Error('first');
    const { attempt, calls } = failing([first]);
    const { opts, clock } = options({ attempts: 0 });
    await expect(retry(attempt, opts)).rejects.toBe(first);
    expect(calls).toEqual([1]);
    expect(clock.sleeps).toEqual([]);
  });

  it('throws at once, with no wait, when shouldRetry refuses the failure', async () => {
    const final = new Error('final');
    const { attempt, calls } = failing([new Error('transient'), final, new Error('never')]);
    const seen: [string, number][] = [];
    const { opts, clock, retried } = options({
      shouldRetry: (err, n) => {
        seen.push([(err as Error).message, n]);
        return err !== final;
      },
    });
    await expect(retry(attempt, opts)).rejects.toBe(final);
    expect(calls).toEqual([1, 2]);
    expect(seen).toEqual([
      ['transient', 1],
      ['final', 2],
    ]);
    expect(clock.sleeps).toEqual([100]);
    expect(retried).toHaveLength(1);
  });

  it('never grows the wait past maxMs', async () => {
    const { attempt } = failing(Array.from({ length: 6 }, (_, i) => new Error(String(i))));
    const { opts, clock } = options({ attempts: 10, baseMs: 300, maxMs: 1_000 });
    await retry(attempt, opts);
    expect(clock.sleeps).toEqual([300, 600, 1_000, 1_000, 1_000, 1_000]);
  });

  it('waits what the server named when it is longer than the backoff, still never past maxMs', async () => {
    const named = [50, 700, 5_000, undefined];
    const { attempt } = failing(named.map((ms) => ({ retryAfterMs: ms })));
    const { opts, clock, retried } = options({
      waitFor: (err) => (err as { retryAfterMs?: number }).retryAfterMs,
    });
    await retry(attempt, opts);
    // backoff 100, 200, 400, 800 against the named 50, 700, 5,000 (capped at 1,000) and none
    expect(clock.sleeps).toEqual([100, 700, 1_000, 800]);
    expect(retried.map(([, , waitMs]) => waitMs)).toEqual(clock.sleeps);
  });

  it('tells onRetry about each failure before it waits', async () => {
    const errors = [new Error('x'), new Error('y')];
    const { attempt } = failing(errors);
    const clock = createTestClock();
    const events: string[] = [];
    await retry(attempt, {
      attempts: 3,
      baseMs: 10,
      maxMs: 1_000,
      shouldRetry: () => true,
      onRetry: (err, n, waitMs) => events.push(`retry ${(err as Error).message} ${n} ${waitMs}`),
      clock: {
        sleep: async (ms) => {
          events.push(`sleep ${ms}`);
          await clock.sleep(ms);
        },
      },
    });
    expect(events).toEqual(['retry x 1 10', 'sleep 10', 'retry y 2 20', 'sleep 20']);
  });
});

describe('retryUntilStopped', () => {
  /** A sleep that records its waits and resolves at once, or when aborted if `hold` is set. */
  function sleeps(hold = false) {
    const waits: number[] = [];
    const sleep = (ms: number, signal: AbortSignal) => {
      waits.push(ms);
      if (!hold) return Promise.resolve();
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    };
    return { waits, sleep };
  }

  it('tries past any number of failures, with the bounded backoff, until one works', async () => {
    const { attempt, calls } = failing(Array.from({ length: 12 }, (_, i) => new Error(`down ${i}`)));
    const { waits, sleep } = sleeps();
    const tries = retryUntilStopped(attempt, { baseMs: 1_000, maxMs: 60_000, sleep });
    await expect(tries.result).resolves.toBe('done');
    expect(calls).toHaveLength(13);
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('ends with a fatal failure at once, with no wait', async () => {
    const refused = Object.assign(new Error('refused'), { fatal: true });
    const { attempt, calls } = failing([new Error('down'), refused]);
    const { waits, sleep } = sleeps();
    const tries = retryUntilStopped(attempt, {
      baseMs: 10,
      maxMs: 100,
      sleep,
      isFatal: (err) => (err as { fatal?: boolean }).fatal === true,
    });
    await expect(tries.result).rejects.toBe(refused);
    expect(calls).toEqual([1, 2]);
    expect(waits).toEqual([10]);
  });

  it('stop() ends the wait in progress and starts no further try; the result is undefined', async () => {
    const { attempt, calls } = failing([new Error('down'), new Error('down')]);
    const { waits, sleep } = sleeps(true);
    const tries = retryUntilStopped(attempt, { baseMs: 10, maxMs: 100, sleep });
    await new Promise((r) => setTimeout(r, 10));
    expect(waits).toEqual([10]);
    expect(tries.stopped()).toBe(false);
    tries.stop();
    await expect(tries.result).resolves.toBeUndefined();
    expect(tries.stopped()).toBe(true);
    expect(calls).toEqual([1]);
  });

  it('by default waits on a timer that stop() clears, so nothing is left holding the process', async () => {
    const { attempt, calls } = failing([new Error('down')]);
    const tries = retryUntilStopped(attempt, { baseMs: 60_000, maxMs: 60_000 });
    await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    tries.stop();
    await expect(tries.result).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toEqual([1]);
  });
});
