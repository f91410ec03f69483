/**
 * The snapshot: everything a command may show, as last fetched by the core. Each source keeps its own
 * reading with its source name and as-of time, so one failing source leaves the others' figures in place
 * and a reply can say exactly which figure is how old.
 */

/** OPG market figures from one `/coins/markets` answer. A figure the API did not give is `null`, never 0. */
export interface MarketData {
  coinId: string;
  symbol: string;
  name: string;
  priceUsd: number | null;
  priceChange24hPct: number | null;
  marketCapUsd: number | null;
  marketCapRank: number | null;
  fdvUsd: number | null;
  volume24hUsd: number | null;
  high24hUsd: number | null;
  low24hUsd: number | null;
  circulatingSupply: number | null;
  totalSupply: number | null;
  maxSupply: number | null;
  /** CoinGecko's own `last_updated`, when it gave one. */
  sourceUpdatedAtMs: number | null;
}

/** One source's last good data, and what happened on the attempts since. */
export interface Reading<T> {
  /** Human name of the source, shown in footers: `CoinGecko`. */
  source: string;
  /** The last good data, or null if the source never answered well. */
  data: T | null;
  /** When the last good data was fetched. */
  fetchedAtMs: number | null;
  /** The last failure, if it happened after the last success. */
  error: string | null;
  failedAtMs: number | null;
}

export interface Snapshot {
  market: Reading<MarketData>;
}

export function emptyReading<T>(source: string): Reading<T> {
  return { source, data: null, fetchedAtMs: null, error: null, failedAtMs: null };
}

/**
 * A reading is stale when its last refresh failed or it is older than `staleAfterMs`.
 * A reading with no data at all is "missing", which callers check separately.
 */
export function isStale(reading: Reading<unknown>, nowMs: number, staleAfterMs: number): boolean {
  if (reading.data === null || reading.fetchedAtMs === null) return true;
  if (reading.error !== null) return true;
  return nowMs - reading.fetchedAtMs > staleAfterMs;
}
