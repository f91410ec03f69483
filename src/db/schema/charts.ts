import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Points from CoinGecko's `/coins/{id}/market_chart`, fetched once to fill history older than the bot's
 * own readings. Kept apart from `market_snapshots`: these have no supply figures and a different spacing.
 */
export const marketChartPoints = sqliteTable(
  'market_chart_points',
  {
    coinId: text('coin_id').notNull(),
    atMs: integer('at_ms').notNull(),
    priceUsd: real('price_usd'),
    marketCapUsd: real('market_cap_usd'),
    volume24hUsd: real('volume_24h_usd'),
    source: text('source').notNull(),
    fetchedAtMs: integer('fetched_at_ms').notNull(),
  },
  // The primary key (coin, time) is also the index every range query uses.
  (t) => [primaryKey({ columns: [t.coinId, t.atMs] })],
);

/** One row per `market_chart` range ever fetched, so the same range is never fetched twice. */
export const marketChartFills = sqliteTable(
  'market_chart_fills',
  {
    coinId: text('coin_id').notNull(),
    days: integer('days').notNull(),
    source: text('source').notNull(),
    fetchedAtMs: integer('fetched_at_ms').notNull(),
    points: integer('points').notNull(),
  },
  (t) => [primaryKey({ columns: [t.coinId, t.days] })],
);
