/**
 * Filled chart history: the `market_chart` points fetched to cover what the bot's own readings do not,
 * and which ranges were fetched. Points are upserted by (coin, time), so an overlapping second range
 * never duplicates a point.
 */
import { and, asc, eq, gte, lte, max, sql } from 'drizzle-orm';
import type { ChartPoint, ChartStore } from '../core/market-ports.js';
import type { Database } from './open.js';
import { marketChartFills, marketChartPoints, marketSnapshots } from './schema/index.js';
import { param, sqlText } from './statement.js';

export function createChartStore(database: Database): ChartStore {
  const { db, sqlite } = database;
  const m = marketSnapshots;
  const cp = marketChartPoints;
  // SQLite fills bare columns from the row that holds max(): the last reading of each bucket.
  const bucketed = sqlite.prepare<[string, number, number, number], ChartPoint>(
    sqlText(sql`select max(${m.fetchedAtMs}) as atMs, ${m.priceUsd} as priceUsd, ${m.marketCapUsd} as marketCapUsd,
            ${m.volume24hUsd} as volume24hUsd
       from ${m} where ${m.coinId} = ${param} and ${m.fetchedAtMs} between ${param} and ${param}
       group by ${m.fetchedAtMs} / cast(${param} as integer) order by atMs`),
  );
  const earliestReading = sqlite.prepare<[string, number], { atMs: number | null }>(
    sqlText(
      sql`select min(${m.fetchedAtMs}) as atMs from ${m} where ${m.coinId} = ${param} and ${m.fetchedAtMs} >= ${param}`,
    ),
  );
  const earliestPoint = sqlite.prepare<[string, number], { atMs: number | null }>(
    sqlText(sql`select min(${cp.atMs}) as atMs from ${cp} where ${cp.coinId} = ${param} and ${cp.atMs} >= ${param}`),
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
