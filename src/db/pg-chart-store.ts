/** Filled chart history in PostgreSQL: the `ChartStore` of chart-store.ts (read its comment) on the pg schema. */
import { and, asc, eq, gte, lte, min, sql } from 'drizzle-orm';
import type { ChartPoint, ChartStore } from '../core/market-ports.js';
import { excluded } from './column-sql.js';
import { marketChartFills, marketChartPoints, marketSnapshots } from './pg-schema/index.js';
import { pgRows } from './pg-statement.js';
import type { PgStoreDb } from './postgres.js';

export function createPgChartStore(db: PgStoreDb): ChartStore {
  const p = marketChartPoints;
  const f = marketChartFills;
  const m = marketSnapshots;
  return {
    async saveFill(coinId, fill, points) {
      await db.transaction(async (tx) => {
        // One statement per 1,000 points: PostgreSQL binds at most 65,535 values per statement.
        for (let i = 0; i < points.length; i += 1_000) {
          await tx
            .insert(p)
            .values(
              points.slice(i, i + 1_000).map((x) => ({
                coinId,
                atMs: x.atMs,
                priceUsd: x.priceUsd,
                marketCapUsd: x.marketCapUsd,
                volume24hUsd: x.volume24hUsd,
                source: fill.source,
                fetchedAtMs: fill.fetchedAtMs,
              })),
            )
            .onConflictDoUpdate({
              target: [p.coinId, p.atMs],
              set: {
                priceUsd: excluded(p.priceUsd),
                marketCapUsd: excluded(p.marketCapUsd),
                volume24hUsd: excluded(p.volume24hUsd),
                source: excluded(p.source),
                fetchedAtMs: excluded(p.fetchedAtMs),
              },
            });
        }
        await tx
          .insert(f)
          .values({ coinId, ...fill })
          .onConflictDoUpdate({
            target: [f.coinId, f.days],
            set: { source: fill.source, fetchedAtMs: fill.fetchedAtMs, points: fill.points },
          });
      });
    },
    async fills(coinId) {
      return db
        .select({ days: f.days, source: f.source, fetchedAtMs: f.fetchedAtMs, points: f.points })
        .from(f)
        .where(eq(f.coinId, coinId))
        .orderBy(asc(f.days));
    },
    async points(coinId, sinceMs, untilMs = Number.MAX_SAFE_INTEGER) {
      return db
        .select({ atMs: p.atMs, priceUsd: p.priceUsd, marketCapUsd: p.marketCapUsd, volume24hUsd: p.volume24hUsd })
        .from(p)
        .where(and(eq(p.coinId, coinId), gte(p.atMs, sinceMs), lte(p.atMs, untilMs)))
        .orderBy(asc(p.atMs));
    },
    async earliestAtMs(coinId, sinceMs) {
      const [row] = await db
        .select({ atMs: min(p.atMs) })
        .from(p)
        .where(and(eq(p.coinId, coinId), gte(p.atMs, sinceMs)));
      return row?.atMs === null || row?.atMs === undefined ? null : Number(row.atMs);
    },
    // The last reading of each bucket (DISTINCT ON keeps the first row per bucket in the ORDER BY).
    async readings(coinId, sinceMs, untilMs, bucketMs) {
      // A literal integer, not a bound value: DISTINCT ON and ORDER BY must name the same expression.
      const bucket = sql.raw(String(Math.max(1, Math.floor(bucketMs))));
      return pgRows<ChartPoint>(
        db,
        sql`SELECT "atMs", "priceUsd", "marketCapUsd", "volume24hUsd" FROM (
              SELECT DISTINCT ON (${m.fetchedAtMs} / ${bucket})
                ${m.fetchedAtMs}::float8 AS "atMs", ${m.priceUsd} AS "priceUsd", ${m.marketCapUsd} AS "marketCapUsd",
                ${m.volume24hUsd} AS "volume24hUsd"
              FROM ${m}
              WHERE ${m.coinId} = ${coinId}
                AND ${m.fetchedAtMs} BETWEEN ${Math.floor(sinceMs)} AND ${Math.floor(untilMs)}
              ORDER BY ${m.fetchedAtMs} / ${bucket}, ${m.fetchedAtMs} DESC) last
            ORDER BY "atMs"`,
      );
    },
    async earliestReadingAtMs(coinId, sinceMs) {
      const [row] = await db
        .select({ atMs: min(m.fetchedAtMs) })
        .from(m)
        .where(and(eq(m.coinId, coinId), gte(m.fetchedAtMs, sinceMs)));
      return row?.atMs === null || row?.atMs === undefined ? null : Number(row.atMs);
    },
    async latestAtMs(coinId) {
      const [row] = await db
        .select({ atMs: sql<number | null>`max(${p.atMs})`.mapWith(Number) })
        .from(p)
        .where(eq(p.coinId, coinId));
      return row?.atMs ?? null;
    },
  };
}
