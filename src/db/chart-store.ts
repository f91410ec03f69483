/**
 * Filled chart history: the `market_chart` points fetched to cover what the bot's own readings do not,
 * and which ranges were fetched. Points are upserted by (coin, time), so an overlapping second range
 * never duplicates a point.
 */
import { and, asc, eq, gte, lte, max } from 'drizzle-orm';
import type { Database } from './open.js';
import { marketChartFills, marketChartPoints } from './schema/index.js';

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
  saveFill(coinId: string, fill: ChartFill, points: readonly ChartPoint[]): void;
  /** Every range fetched for `coinId`. */
  fills(coinId: string): ChartFill[];
  /** Stored points from `sinceMs` to `untilMs` (inclusive), oldest first. */
  points(coinId: string, sinceMs: number, untilMs?: number): ChartPoint[];
  /** Time of the newest stored point, or null. */
  latestAtMs(coinId: string): number | null;
}

export function createChartStore(database: Database): ChartStore {
  const { db } = database;
  return {
    saveFill(coinId, fill, points) {
      db.transaction((tx) => {
        for (const p of points) {
          const values = { priceUsd: p.priceUsd, marketCapUsd: p.marketCapUsd, volume24hUsd: p.volume24hUsd, source: fill.source, fetchedAtMs: fill.fetchedAtMs };
          tx.insert(marketChartPoints)
            .values({ coinId, atMs: p.atMs, ...values })
            .onConflictDoUpdate({ target: [marketChartPoints.coinId, marketChartPoints.atMs], set: values })
            .run();
        }
        tx.insert(marketChartFills)
          .values({ coinId, ...fill })
          .onConflictDoUpdate({ target: [marketChartFills.coinId, marketChartFills.days], set: { source: fill.source, fetchedAtMs: fill.fetchedAtMs, points: fill.points } })
          .run();
      });
    },
    fills(coinId) {
      return db
        .select({ days: marketChartFills.days, source: marketChartFills.source, fetchedAtMs: marketChartFills.fetchedAtMs, points: marketChartFills.points })
        .from(marketChartFills)
        .where(eq(marketChartFills.coinId, coinId))
        .orderBy(asc(marketChartFills.days))
        .all();
    },
    points(coinId, sinceMs, untilMs = Number.MAX_SAFE_INTEGER) {
      return db
        .select({ atMs: marketChartPoints.atMs, priceUsd: marketChartPoints.priceUsd, marketCapUsd: marketChartPoints.marketCapUsd, volume24hUsd: marketChartPoints.volume24hUsd })
        .from(marketChartPoints)
        .where(and(eq(marketChartPoints.coinId, coinId), gte(marketChartPoints.atMs, sinceMs), lte(marketChartPoints.atMs, untilMs)))
        .orderBy(asc(marketChartPoints.atMs))
        .all();
    },
    latestAtMs(coinId) {
      const row = db.select({ atMs: max(marketChartPoints.atMs) }).from(marketChartPoints).where(eq(marketChartPoints.coinId, coinId)).get();
      return row?.atMs ?? null;
    },
  };
}
