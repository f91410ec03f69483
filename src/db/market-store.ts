/**
 * Market history: one row per good CoinGecko reading. Reads are the queries the commands need (latest
 * reading, the ratio's range over a window, the supply at a past moment), each one indexed on
 * (coin, time) so they stay fast across years of five-minute rows.
 */
import { and, asc, desc, eq, gte, lte, sql } from 'drizzle-orm';
import type { MarketStore, StoredMarket } from '../core/market-ports.js';
import type { Database } from './open.js';
import { marketSnapshots, sourceStatus } from './schema/index.js';

type Row = typeof marketSnapshots.$inferSelect;

function toStored(row: Row): StoredMarket {
  const { id: _id, fetchedAtMs, source, ...data } = row;
  return { data, fetchedAtMs, source };
}

export function createMarketStore(database: Database): MarketStore {
  const { db } = database;
  return {
    async insert({ data, fetchedAtMs, source }) {
      db.insert(marketSnapshots)
        .values({ ...data, fetchedAtMs, source })
        .run();
    },
    async latest(coinId) {
      const row = db
        .select()
        .from(marketSnapshots)
        .where(eq(marketSnapshots.coinId, coinId))
        .orderBy(desc(marketSnapshots.fetchedAtMs))
        .limit(1)
        .get();
      return row ? toStored(row) : null;
    },
    async ratioStats(coinId, sinceMs) {
      const ratio = sql<number>`${marketSnapshots.volume24hUsd} / ${marketSnapshots.marketCapUsd}`;
      const row = db
        .select({
          low: sql<number | null>`min(${ratio})`,
          high: sql<number | null>`max(${ratio})`,
          average: sql<number | null>`avg(${ratio})`,
          samples: sql<number>`count(*)`,
          firstAtMs: sql<number | null>`min(${marketSnapshots.fetchedAtMs})`,
        })
        .from(marketSnapshots)
        .where(
          and(
            eq(marketSnapshots.coinId, coinId),
            gte(marketSnapshots.fetchedAtMs, sinceMs),
            sql`${marketSnapshots.marketCapUsd} > 0`,
            sql`${marketSnapshots.volume24hUsd} is not null`,
          ),
        )
        .get();
      if (
        !row ||
        row.samples === 0 ||
        row.low === null ||
        row.high === null ||
        row.average === null ||
        row.firstAtMs === null
      )
        return null;
      return { low: row.low, high: row.high, average: row.average, samples: row.samples, firstAtMs: row.firstAtMs };
    },
    async at(coinId, atMs) {
      const row = db
        .select()
        .from(marketSnapshots)
        .where(and(eq(marketSnapshots.coinId, coinId), lte(marketSnapshots.fetchedAtMs, atMs)))
        .orderBy(desc(marketSnapshots.fetchedAtMs))
        .limit(1)
        .get();
      return row ? toStored(row) : null;
    },
    async first(coinId) {
      const row = db
        .select()
        .from(marketSnapshots)
        .where(eq(marketSnapshots.coinId, coinId))
        .orderBy(asc(marketSnapshots.fetchedAtMs))
        .limit(1)
        .get();
      return row ? toStored(row) : null;
    },
    async series(coinId, sinceMs) {
      return db
        .select({
          atMs: marketSnapshots.fetchedAtMs,
          priceUsd: marketSnapshots.priceUsd,
          marketCapUsd: marketSnapshots.marketCapUsd,
          volume24hUsd: marketSnapshots.volume24hUsd,
          circulatingSupply: marketSnapshots.circulatingSupply,
        })
        .from(marketSnapshots)
        .where(and(eq(marketSnapshots.coinId, coinId), gte(marketSnapshots.fetchedAtMs, sinceMs)))
        .orderBy(asc(marketSnapshots.fetchedAtMs))
        .all();
    },
    async saveFailure(source, failure) {
      db.insert(sourceStatus)
        .values({ source, error: failure?.error ?? null, failedAtMs: failure?.failedAtMs ?? null })
        .onConflictDoUpdate({
          target: sourceStatus.source,
          set: { error: failure?.error ?? null, failedAtMs: failure?.failedAtMs ?? null },
        })
        .run();
    },
    async loadFailure(source) {
      const row = db.select().from(sourceStatus).where(eq(sourceStatus.source, source)).get();
      return row?.error && row.failedAtMs !== null ? { error: row.error, failedAtMs: row.failedAtMs } : null;
    },
  };
}
