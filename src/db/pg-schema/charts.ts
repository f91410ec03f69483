import { bigint, doublePrecision, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** PostgreSQL mirror of `schema/charts.ts`. */
export const marketChartPoints = pgTable(
  'market_chart_points',
  {
    coinId: text('coin_id').notNull(),
    atMs: bigint('at_ms', { mode: 'number' }).notNull(),
    priceUsd: doublePrecision('price_usd'),
    marketCapUsd: doublePrecision('market_cap_usd'),
    volume24hUsd: doublePrecision('volume_24h_usd'),
    source: text('source').notNull(),
    fetchedAtMs: bigint('fetched_at_ms', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.coinId, t.atMs] })],
);

export const marketChartFills = pgTable(
  'market_chart_fills',
  {
    coinId: text('coin_id').notNull(),
    days: integer('days').notNull(),
    source: text('source').notNull(),
    fetchedAtMs: bigint('fetched_at_ms', { mode: 'number' }).notNull(),
    points: bigint('points', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.coinId, t.days] })],
);
