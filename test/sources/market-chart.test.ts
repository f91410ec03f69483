import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/core/errors.js';
import { parseMarketChart } from '../../src/sources/market-chart.js';

describe('market_chart parsing', () => {
  it('joins prices, market caps and volumes by time, oldest first, with a zero market cap as missing', () => {
    const points = parseMarketChart({
      prices: [
        [2000, 0.05],
        [1000, 0.04],
      ],
      market_caps: [
        [1000, 0],
        [2000, 41e6],
      ],
      total_volumes: [
        [1000, 9e7],
        [2000, null],
      ],
    });
    expect(points).toEqual([
      { atMs: 1000, priceUsd: 0.04, marketCapUsd: null, volume24hUsd: 9e7 },
      { atMs: 2000, priceUsd: 0.05, marketCapUsd: 41e6, volume24hUsd: null },
    ]);
  });

  it('refuses a body that is not the documented shape, naming the field', () => {
    expect(() => parseMarketChart({ prices: 'nope', market_caps: [], total_volumes: [] })).toThrow(UpstreamError);
    expect(() => parseMarketChart({ prices: [[1, -5]], market_caps: [], total_volumes: [] })).toThrow(
      /field 'prices.0.1'/,
    );
  });
});
