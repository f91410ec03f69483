import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Every good CoinGecko reading, kept as history for trends, charts and 7/30-day changes. */
export const marketSnapshots = sqliteTable(
  'market_snapshots',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    coinId: text('coin_id').notNull(),
    fetchedAtMs: integer('fetched_at_ms').notNull(),
    source: text('source').notNull(),
    symbol: text('symbol').notNull(),
    name: text('name').notNull(),
    priceUsd: real('price_usd'),
    priceChange24hPct: real('price_change_24h_pct'),
    marketCapUsd: real('market_cap_usd'),
    marketCapRank: integer('market_cap_rank'),
    fdvUsd: real('fdv_usd'),
    volume24hUsd: real('volume_24h_usd'),
    high24hUsd: real('high_24h_usd'),
    low24hUsd: real('low_24h_usd'),
    circulatingSupply: real('circulating_supply'),
    totalSupply: real('total_supply'),
    maxSupply: real('max_supply'),
    sourceUpdatedAtMs: integer('source_updated_at_ms'),
  },
  (t) => [index('market_snapshots_coin_time').on(t.coinId, t.fetchedAtMs)],
);

/** The last failure per source, so a restarted bot still knows its figures were stale. */
export const sourceStatus = sqliteTable('source_status', {
  source: text('source').primaryKey(),
  error: text('error'),
  failedAtMs: integer('failed_at_ms'),
});
