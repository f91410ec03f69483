/** Pieces several commands share: the footer with sources and as-of time, and stale or missing notices. */
import type { Core } from '../src/core/core.js';
import { asOfText, age } from '../src/core/format.js';
import type { MarketData, Reading } from '../src/core/snapshot.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * How far a stored market reading may be from the moment a change over days stands for (its window's start or
 * end) and still stand for it: the bot reads CoinGecko every few minutes (`REFRESH_CRON`), and windows of
 * counted chain data end at a whole hour up to 2 h before now. Past this, a figure says the span it covers, or
 * is not shown.
 */
export const READING_WITHIN_MS = 2 * HOUR_MS;

/** `CoinGecko · as of 2026-11-22 03:15 UTC (3 min ago)`. */
export function sourceFooter(core: Core, readings: ReadonlyArray<Reading<unknown>>): string {
  const now = core.clock.now();
  return readings
    .filter((r) => r.fetchedAtMs !== null)
    .map((r) => `${r.source} · as of ${asOfText(r.fetchedAtMs, now)}`)
    .join('\n');
}

/** What a reader must know about a reading: that it is missing, or stale and how old. */
export function readingNotices(core: Core, reading: Reading<unknown>, what: string): string[] {
  const now = core.clock.now();
  if (reading.data === null || reading.fetchedAtMs === null) {
    const why = reading.error ? `: ${reading.error}` : '';
    return [`${what} unavailable: ${reading.source} has not answered yet${why}.`];
  }
  if (!core.isStale(reading)) return [];
  const failed =
    reading.error && reading.failedAtMs !== null
      ? ` Last refresh failed ${age(reading.failedAtMs, now)} (${reading.error}).`
      : '';
  return [`Stale: ${what.toLowerCase()} last updated ${age(reading.fetchedAtMs, now)}.${failed}`];
}

const FIELD_NAMES: ReadonlyArray<[keyof MarketData, string]> = [
  ['priceUsd', 'price'],
  ['priceChange24hPct', '24h change'],
  ['marketCapUsd', 'market cap'],
  ['fdvUsd', 'FDV'],
  ['volume24hUsd', '24h volume'],
  ['circulatingSupply', 'circulating supply'],
  ['totalSupply', 'total supply'],
  ['maxSupply', 'max supply'],
];

/** `CoinGecko does not report: market cap, FDV.` when some figures came back empty. */
export function missingNotice(reading: Reading<MarketData>, keys: ReadonlyArray<keyof MarketData>): string[] {
  const data = reading.data;
  if (!data) return [];
  const missing = FIELD_NAMES.filter(([key]) => keys.includes(key) && data[key] === null).map(([, label]) => label);
  return missing.length > 0 ? [`${reading.source} does not report: ${missing.join(', ')}.`] : [];
}
