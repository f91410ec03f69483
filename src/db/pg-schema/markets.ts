import { bigint, doublePrecision, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { alertSubscriptions } from './alerts.js';

/** PostgreSQL mirror of `schema/markets.ts`. */
export const marketTickerReadings = pgTable(
  'market_ticker_readings',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    coinId: text('coin_id').notNull(),
    fetchedAtMs: bigint('fetched_at_ms', { mode: 'number' }).notNull(),
    source: text('source').notNull(),
    pages: integer('pages').notNull(),
    truncated: integer('truncated').notNull(),
    markets: integer('markets').notNull(),
    venues: integer('venues').notNull(),
    volumeUsd: doublePrecision('volume_usd').notNull(),
    busiestSharePct: doublePrecision('busiest_share_pct'),
    herfindahl: doublePrecision('herfindahl'),
    depthUsd: doublePrecision('depth_usd').notNull(),
    turnover: doublePrecision('turnover'),
    spreadMedianPct: doublePrecision('spread_median_pct'),
    excludedTickers: integer('excluded_tickers').notNull(),
    excludedVolumeUsd: doublePrecision('excluded_volume_usd').notNull(),
    tickersJson: text('tickers_json'),
  },
  (t) => [index('market_ticker_readings_coin_time').on(t.coinId, t.fetchedAtMs)],
);

export const marketVenueVolumes = pgTable(
  'market_venue_volumes',
  {
    readingId: bigint('reading_id', { mode: 'number' })
      .notNull()
      .references(() => marketTickerReadings.id, { onDelete: 'cascade' }),
    coinId: text('coin_id').notNull(),
    atMs: bigint('at_ms', { mode: 'number' }).notNull(),
    venueId: text('venue_id').notNull(),
    venueName: text('venue_name').notNull(),
    markets: integer('markets').notNull(),
    volumeUsd: doublePrecision('volume_usd'),
    depthUsd: doublePrecision('depth_usd'),
  },
  (t) => [
    primaryKey({ columns: [t.readingId, t.venueId] }),
    index('market_venue_volumes_coin_time').on(t.coinId, t.atMs),
  ],
);

export const marketVenues = pgTable(
  'market_venues',
  {
    coinId: text('coin_id').notNull(),
    venueId: text('venue_id').notNull(),
    venueName: text('venue_name').notNull(),
    firstSeenAtMs: bigint('first_seen_at_ms', { mode: 'number' }).notNull(),
    lastSeenAtMs: bigint('last_seen_at_ms', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.coinId, t.venueId] })],
);

export const marketVenueEvents = pgTable(
  'market_venue_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    coinId: text('coin_id').notNull(),
    venueId: text('venue_id').notNull(),
    venueName: text('venue_name').notNull(),
    kind: text('kind').notNull(),
    atMs: bigint('at_ms', { mode: 'number' }).notNull(),
  },
  (t) => [index('market_venue_events_coin_time').on(t.coinId, t.atMs)],
);

export const alertListingPrefs = pgTable('alert_listing_prefs', {
  subscriptionId: bigint('subscription_id', { mode: 'number' })
    .primaryKey()
    .references(() => alertSubscriptions.id, { onDelete: 'cascade' }),
  listingsOn: integer('listings_on').notNull(),
});
