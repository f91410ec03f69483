/**
 * Filled chart history: the `market_chart` points fetched to cover what the bot's own readings do not,
 * and which ranges were fetched. Points are upserted by (coin, time), so an overlapping second range
 * never duplicates a point.
 */
import { and, asc, eq, gte, lte, max } from 'drizzle-orm';
import type { ChartPoint, ChartStore } from '../core/market-ports.js';
import type { Database } from './open.js';
import { marketChartFills, marketChartPoints } from './schema/index.js';

export function createChartStore(database: Database): ChartStore {
  const { db, sqlite } = database;
  // SQLite fills bare columns from the row that holds max(): the last reading of each bucket.
  const bucketed = sqlite.prepare<[string, number, number, number], ChartPoint>(
    `select max(fetched_at_ms) as atMs, price_usd as priceUsd, market_cap_usd as marketCapUsd,
            volume_24h_usd as volume24hUsd
       from market_snapshots where coin_id = ? and fetched_at_ms between ? and ?
       group by fetched_at_ms / cast(? as integer) order by atMs`,
  );
  const earliestReading = sqlite.prepare<[string, number], { atMs: number | null }>(
    'select min(fetched_at_ms) as atMs from market_snapshots where coin_id = ? and fetched_at_ms >= ?',
  );
  const earliestPoint = sqlite.prepare<[string, number], { atMs: number | null }>(
    'select min(at_ms) as atMs from market_chart_points where coin_id = ? and at_ms >= ?',
  );
  return {
    async saveFill(coinId, fill, points) {
      db.transaction((tx) => {
        for (const p of points) {
          const values = {
            priceUsd: p.priceUsd,
            marketCapUsd: p.marketCapUsd,
            volume24hUsd: p.volume24hUsd,
            source: fill.source,
            fetchedAtMs: fill.fetchedAtMs,
          };
          tx.insert(marketChartPoints)
            .values({ coinId, atMs: p.atMs, ...values })
            .onConflictDoUpdate({ target: [marketChartPoints.coinId, marketChartPoints.atMs], set: values })
            .run();
        }
        tx.insert(marketChartFills)
          .values({ coinId, ...fill })
          .onConflictDoUpdate({
            target: [marketChartFills.coinId, marketChartFills.days],
            set: { source: fill.source, fetchedAtMs: fill.fetchedAtMs, points: fill.points },
          })
          .run();
      });
    },
    async fills(coinId) {
      return db
        .select({
          days: marketChartFills.days,
          source: marketChartFills.source,
          fetchedAtMs: marketChartFills.fetchedAtMs,
          points: marketChartFills.points,
        })
        .from(marketChartFills)
        .where(eq(marketChartFills.coinId, coinId))
        .orderBy(asc(marketChartFills.days))
        .all();
    },
    async points(coinId, sinceMs, untilMs = Number.MAX_SAFE_INTEGER) {
      return db
        .select({
          atMs: marketChartPoints.atMs,
          priceUsd: marketChartPoints.priceUsd,
          marketCapUsd: marketChartPoints.marketCapUsd,
          volume24hUsd: marketChartPoints.volume24hUsd,
        })
        .from(marketChartPoints)
        .where(
          and(
            eq(marketChartPoints.coinId, coinId),
            gte(marketChartPoints.atMs, sinceMs),
            lte(marketChartPoints.atMs, untilMs),
          ),
        )
        .orderBy(asc(marketChartPoints.atMs))
        .all();
    },
    async earliestAtMs(coinId, sinceMs) {
      return earliestPoint.get(coinId, sinceMs)?.atMs ?? null;
    },
    async readings(coinId, sinceMs, untilMs, bucketMs) {
      return bucketed.all(coinId, Math.floor(sinceMs), Math.floor(untilMs), Math.max(1, Math.floor(bucketMs)));
    },
    async earliestReadingAtMs(coinId, sinceMs) {
      return earliestReading.get(coinId, sinceMs)?.atMs ?? null;
    },
    async latestAtMs(coinId) {
      const row = db
        .select({ atMs: max(marketChartPoints.atMs) })
        .from(marketChartPoints)
        .where(eq(marketChartPoints.coinId, coinId))
        .get();
      return row?.atMs ?? null;
    },
  };
}
