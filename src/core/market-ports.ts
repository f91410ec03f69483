/**
 * Market readings and chart history as the core needs them: where readings come from (`MarketSource`,
 * `ChartHistorySource`) and where they are kept (`MarketStore`, `ChartStore`). `src/sources/` and
 * `src/db/` implement these; `src/app.ts` wires them. The stores answer with Promises, so a store over an
 * asynchronous driver (PostgreSQL) fits the same ports.
 */
import type { MarketData } from './snapshot.js';

/** Where market figures come from: anything that can produce one validated `MarketData`. */
export interface MarketSource {
  readonly name: string;
  fetchMarket(): Promise<MarketData>;
}

export interface StoredMarket {
  data: MarketData;
  fetchedAtMs: number;
  source: string;
}

export interface RatioStats {
  low: number;
  high: number;
  average: number;
  samples: number;
  firstAtMs: number;
}

export interface MarketPoint {
  atMs: number;
  priceUsd: number | null;
  marketCapUsd: number | null;
  volume24hUsd: number | null;
  circulatingSupply: number | null;
}

export interface SourceFailure {
  error: string;
  failedAtMs: number;
}

export interface MarketStore {
  insert(reading: StoredMarket): Promise<void>;
  latest(coinId: string): Promise<StoredMarket | null>;
  /** Low, high and average of volume / market cap for readings at or after `sinceMs`. */
  ratioStats(coinId: string, sinceMs: number): Promise<RatioStats | null>;
  /** The last reading at or before `atMs`, for "change over N days". */
  at(coinId: string, atMs: number): Promise<StoredMarket | null>;
  /** The first reading ever kept, to say how much history there is. */
  first(coinId: string): Promise<StoredMarket | null>;
  /** Readings from `sinceMs` on, oldest first, for charts. */
  series(coinId: string, sinceMs: number): Promise<MarketPoint[]>;
  saveFailure(source: string, failure: SourceFailure | null): Promise<void>;
  loadFailure(source: string): Promise<SourceFailure | null>;
}

/** Where chart history comes from when the bot's own readings do not reach back far enough. */
export interface ChartHistorySource {
  readonly name: string;
  /** Points for the last `days` days, oldest first. */
  marketChart(coinId: string, days: number): Promise<ChartPoint[]>;
}

/** One point of CoinGecko's `market_chart`: price, market cap and rolling 24h volume at `atMs`. */
export interface ChartPoint {
  atMs: number;
  priceUsd: number | null;
  marketCapUsd: number | null;
  volume24hUsd: number | null;
}

export interface ChartFill {
  days: number;
  source: string;
  fetchedAtMs: number;
  points: number;
}

export interface ChartStore {
  /** Stores a fetched range's points and records the range as fetched, in one transaction. */
  saveFill(coinId: string, fill: ChartFill, points: readonly ChartPoint[]): Promise<void>;
  /** Every range fetched for `coinId`. */
  fills(coinId: string): Promise<ChartFill[]>;
  /** Stored points from `sinceMs` to `untilMs` (inclusive), oldest first. */
  points(coinId: string, sinceMs: number, untilMs?: number): Promise<ChartPoint[]>;
  /** Time of the newest stored point, or null. */
  latestAtMs(coinId: string): Promise<number | null>;
  /** Time of the oldest stored point at or after `sinceMs`, or null. */
  earliestAtMs(coinId: string, sinceMs: number): Promise<number | null>;
  /**
   * The bot's own readings (`market_snapshots`, read only) from `sinceMs` to `untilMs`, thinned in SQL to
   * the last reading of each `bucketMs`, oldest first: 90 days of five-minute readings come back as 2,160.
   */
  readings(coinId: string, sinceMs: number, untilMs: number, bucketMs: number): Promise<ChartPoint[]>;
  /** Time of the bot's oldest reading at or after `sinceMs`, or null. */
  earliestReadingAtMs(coinId: string, sinceMs: number): Promise<number | null>;
}
