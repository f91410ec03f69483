/**
 * Derived figures. Each returns null rather than a number that would mislead: a ratio over a zero or
 * missing denominator is "not available", never Infinity or NaN.
 */
import type { MarketData } from './snapshot.js';

export function safeDivide(
  numerator: number | null | undefined,
  denominator: number | null | undefined,
): number | null {
  if (typeof numerator !== 'number' || typeof denominator !== 'number') return null;
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator <= 0) return null;
  const value = numerator / denominator;
  return Number.isFinite(value) ? value : null;
}

/** 24h volume over current market cap: how many times the market cap changed hands in a day. */
export function volumeToMarketCap(m: MarketData | null): number | null {
  return m ? safeDivide(m.volume24hUsd, m.marketCapUsd) : null;
}

/** Circulating supply as a percentage of total supply (of max supply when total is not reported). */
export function circulatingPct(m: MarketData | null): number | null {
  if (!m) return null;
  const share = safeDivide(m.circulatingSupply, m.totalSupply ?? m.maxSupply);
  return share === null ? null : share * 100;
}

/** Fully diluted valuation over market cap: how much supply is still to come, in value terms. */
export function fdvToMarketCap(m: MarketData | null): number | null {
  return m ? safeDivide(m.fdvUsd, m.marketCapUsd) : null;
}

/** Percentage change from `before` to `after`, or null when either is missing or `before` is zero. */
export function changePct(before: number | null | undefined, after: number | null | undefined): number | null {
  const share = safeDivide(typeof after === 'number' && typeof before === 'number' ? after - before : null, before);
  return share === null ? null : share * 100;
}
