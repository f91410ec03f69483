import { describe, expect, it } from 'vitest';
import {
  age,
  asOfText,
  compact,
  count,
  duration,
  pct,
  ratio,
  signedPct,
  tokens,
  usd,
  utc,
} from '../../src/core/format.js';

describe('format', () => {
  it('writes dollars the way people do', () => {
    expect(usd(41_700_000)).toBe('$41.7M');
    expect(usd(636_400_000)).toBe('$636M');
    expect(usd(1_000_000_000)).toBe('$1B');
    expect(usd(999_950)).toBe('$1M');
    expect(usd(12_345)).toBe('$12.3K');
    expect(usd(3.5)).toBe('$3.50');
    expect(usd(0.04123)).toBe('$0.04123');
    expect(usd(0.000012346)).toBe('$0.00001235');
    expect(usd(0)).toBe('$0');
  });

  it('writes ratios, percentages and counts', () => {
    expect(ratio(4.7)).toBe('4.7x');
    expect(ratio(13.2)).toBe('13.2x');
    expect(ratio(13)).toBe('13x');
    expect(ratio(0.85)).toBe('0.85x');
    expect(ratio(0.0042)).toBe('0.0042x');
    expect(ratio(250.4)).toBe('250x');
    expect(pct(18.25)).toBe('18.25%');
    expect(signedPct(3.41)).toBe('+3.41%');
    expect(signedPct(-12)).toBe('-12.00%');
    expect(count(2_104_331)).toBe('2,104,331');
    expect(tokens(137_000_000)).toBe('137M OPG');
    expect(compact(950)).toBe('950');
  });

  it('never writes NaN, Infinity, undefined or null', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity, null, undefined]) {
      for (const f of [usd, ratio, pct, signedPct, count, tokens, compact]) expect(f(bad)).toBe('n/a');
    }
    expect(asOfText(null, 0)).toBe('n/a');
    expect(duration(Number.NaN)).toBe('n/a');
  });

  it('writes times in UTC with their age', () => {
    const now = Date.parse('2026-11-22T12:00:00Z');
    expect(utc(now)).toBe('2026-11-22 12:00 UTC');
    expect(age(now - 3 * 60_000, now)).toBe('3 min ago');
    expect(age(now - 20_000, now)).toBe('just now');
    expect(age(now - 125 * 60_000, now)).toBe('2 h 5 min ago');
    expect(age(now - 4 * 86_400_000, now)).toBe('4 days ago');
    expect(asOfText(now - 3 * 60_000, now)).toBe('2026-11-22 11:57 UTC (3 min ago)');
    expect(duration(2 * 86_400_000)).toBe('2 days');
  });
});
