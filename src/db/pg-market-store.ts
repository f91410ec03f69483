/** Market history in PostgreSQL: the `MarketStore` of market-store.ts (read its comment) on the pg schema. */
import { and, asc, desc, eq, gte, lte, sql } from 'drizzle-orm';
import type { MarketStore, StoredMarket } from '../core/market-ports.js';
import { marketSnapshots, sourceStatus } from './pg-schema/index.js';
import type { PgStoreDb } from './postgres.js';

type Row = typeof marketSnapshots.$inferSelect;

function toStored(row: Row | undefined): StoredMarket | null {
  if (!row) return null;
  const { id: _id, fetchedAtMs, source, ...data } = row;
  return { data, fetchedAtMs, source };
}

export function createPgMarketStore(db: PgStoreDb): MarketStore {
  const m = marketSnapshots;
  return {
    async insert({ data, fetchedAtMs, source }) {
      await db.insert(m).values({ ...data, fetchedAtMs, source });
    },
    async latest(coinId) {
      const [row] = await db.select().from(m).where(eq(m.coinId, coinId)).orderBy(desc(m.fetchedAtMs)).limit(1);
      return toStored(row);
    },
    async ratioStats(coinId, sinceMs) {
      const ratio = sql`${m.volume24hUsd} / ${m.marketCapUsd}`;
      const [row] = await db
        .select({
          low: sql<number | null>`min(${ratio})`.mapWith(Number),
          high: sql<number | null>`max(${ratio})`.mapWith(Number),
          average: sql<number | null>`avg(${ratio})`.mapWith(Number),
          samples: sql<number>`count(*)`.mapWith(Number),
          firstAtMs: sql<number | null>`min(${m.fetchedAtMs})`.mapWith(Number),
        })
        .from(m)
        .where(
          and(
            eq(m.coinId, coinId),
            gte(m.fetchedAtMs, sinceMs),
            sql`${m.marketCapUsd} > 0`,
            sql`${m.volume24hUsd} is not null`,
          ),
        );
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
      const [row] = await db
        .select()
        .from(m)
        .where(and(eq(m.coinId, coinId), lte(m.fetchedAtMs, atMs)))
        .orderBy(desc(m.fetchedAtMs))
        .limit(1);
      return toStored(row);
    },
    async first(coinId) {
      const [row] = await db.select().from(m).where(eq(m.coinId, coinId)).orderBy(asc(m.fetchedAtMs)).limit(1);
      return toStored(row);
    },
    async series(coinId, sinceMs) {
      return db
        .select({
          atMs: m.fetchedAtMs,
          priceUsd: m.priceUsd,
          marketCapUsd: m.marketCapUsd,
          volume24hUsd: m.volume24hUsd,
          circulatingSupply: m.circulatingSupply,
        })
        .from(m)
        .where(and(eq(m.coinId, coinId), gte(m.fetchedAtMs, sinceMs)))
        .orderBy(asc(m.fetchedAtMs));
    },
    async saveFailure(source, failure) {
      const values = { error: failure?.error ?? null, failedAtMs: failure?.failedAtMs ?? null };
      await db
        .insert(sourceStatus)
        .values({ source, ...values })
        .onConflictDoUpdate({ target: sourceStatus.source, set: values });
    },
    async loadFailure(source) {
      const [row] = await db.select().from(sourceStatus).where(eq(sourceStatus.source, source));
      return row?.error && row.failedAtMs !== null ? { error: row.error, failedAtMs: row.failedAtMs } : null;
    },
  };
}
