import { describe, expect, it } from 'vitest';
import {
  gapThresholdMs,
  mergeSamples,
  metricValue,
  segments,
  type MarketSample,
} from '../../../src/core/charts/series.js';

const H = 3_600_000;
const sample = (atMs: number, over: Partial<MarketSample> = {}): MarketSample => ({
  atMs,
  priceUsd: 0.04,
  marketCapUsd: 40e6,
  volume24hUsd: 80e6,
  ...over,
});

describe('chart series', () => {
  it('prefers the bot’s own reading over a filled point in the same bucket', () => {
    const merged = mergeSamples(
      [sample(H + 60_000, { priceUsd: 0.05 })],
      [sample(H, { priceUsd: 0.01 }), sample(2 * H, { priceUsd: 0.02 })],
      H,
    );
    expect(merged.map((s) => s.priceUsd)).toEqual([0.05, 0.02]);
  });

  it('keeps one sample per bucket, the latest', () => {
    const merged = mergeSamples(
      [sample(0, { priceUsd: 1 }), sample(10 * 60_000, { priceUsd: 2 }), sample(H, { priceUsd: 3 })],
      [],
      H,
    );
    expect(merged.map((s) => s.priceUsd)).toEqual([2, 3]);
  });

  it('treats a ratio over a zero or missing market cap as missing, never Infinity', () => {
    expect(metricValue(sample(0, { marketCapUsd: 0 }), 'ratio')).toBeNull();
    expect(metricValue(sample(0, { marketCapUsd: null }), 'ratio')).toBeNull();
    expect(metricValue(sample(0, { marketCapUsd: 0 }), 'mcap')).toBeNull();
    expect(metricValue(sample(0), 'ratio')).toBe(2);
  });

  it('splits a series at a step longer than three times its usual spacing, and at missing values', () => {
    const points = [0, 1, 2, 3, 10, 11, 12].map((h) => ({ atMs: h * H, value: h }));
    points.splice(6, 0, { atMs: 11.5 * H, value: null as unknown as number });
    const gapMs = gapThresholdMs(points, H);
    expect(gapMs).toBe(3 * H);
    expect(segments(points, gapMs).map((run) => run.map((p) => p.value))).toEqual([[0, 1, 2, 3], [10, 11], [12]]);
  });

  it('joins readings taken less often than the bucket, as a 15-minute schedule gives', () => {
    const points = [0, 15, 30, 45, 60].map((m) => ({ atMs: m * 60_000, value: m }));
    expect(segments(points, gapThresholdMs(points, 5 * 60_000))).toHaveLength(1);
  });
});
