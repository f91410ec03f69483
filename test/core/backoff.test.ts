import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/core/backoff.js';

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
