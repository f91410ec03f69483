import { bigint, doublePrecision, index, integer, pgTable, text } from 'drizzle-orm/pg-core';

/** PostgreSQL mirror of `schema/market.ts`. */
export const marketSnapshots = pgTable(
  'market_snapshots',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    coinId: text('coin_id').notNull(),
    fetchedAtMs: bigint('fetched_at_ms', { mode: 'number' }).notNull(),
    source: text('source').notNull(),
    symbol: text('symbol').notNull(),
    name: text('name').notNull(),
    priceUsd: doublePrecision('price_usd'),
    priceChange24hPct: doublePrecision('price_change_24h_pct'),
    marketCapUsd: doublePrecision('market_cap_usd'),
    marketCapRank: integer('market_cap_rank'),
    fdvUsd: doublePrecision('fdv_usd'),
    volume24hUsd: doublePrecision('volume_24h_usd'),
    high24hUsd: doublePrecision('high_24h_usd'),
    low24hUsd: doublePrecision('low_24h_usd'),
    circulatingSupply: doublePrecision('circulating_supply'),
    totalSupply: doublePrecision('total_supply'),
    maxSupply: doublePrecision('max_supply'),
    sourceUpdatedAtMs: bigint('source_updated_at_ms', { mode: 'number' }),
  },
  (t) => [index('market_snapshots_coin_time').on(t.coinId, t.fetchedAtMs)],
);

export const sourceStatus = pgTable('source_status', {
  source: text('source').primaryKey(),
  error: text('error'),
  failedAtMs: bigint('failed_at_ms', { mode: 'number' }),
});
