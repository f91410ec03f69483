import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { alertSubscriptions } from './alerts.js';

/**
 * One row per good `/coins/{id}/tickers` reading (`MARKETS_CRON`), with the figures `markets` shows, kept as
 * history. `tickers_json` (the validated tickers) is kept on the newest row only, so a restart answers
 * `markets` at once without a year of hourly ticker lists in the file.
 */
export const marketTickerReadings = sqliteTable(
  'market_ticker_readings',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    coinId: text('coin_id').notNull(),
    fetchedAtMs: integer('fetched_at_ms').notNull(),
    source: text('source').notNull(),
    pages: integer('pages').notNull(),
    truncated: integer('truncated').notNull(),
    markets: integer('markets').notNull(),
    venues: integer('venues').notNull(),
    volumeUsd: real('volume_usd').notNull(),
    busiestSharePct: real('busiest_share_pct'),
    herfindahl: real('herfindahl'),
    depthUsd: real('depth_usd').notNull(),
    turnover: real('turnover'),
    spreadMedianPct: real('spread_median_pct'),
    excludedTickers: integer('excluded_tickers').notNull(),
    excludedVolumeUsd: real('excluded_volume_usd').notNull(),
    tickersJson: text('tickers_json'),
  },
  (t) => [index('market_ticker_readings_coin_time').on(t.coinId, t.fetchedAtMs)],
);

/** Each counted venue's 24h volume at each reading, for `chart venues`. */
export const marketVenueVolumes = sqliteTable(
  'market_venue_volumes',
  {
    readingId: integer('reading_id')
      .notNull()
      .references(() => marketTickerReadings.id, { onDelete: 'cascade' }),
    coinId: text('coin_id').notNull(),
    atMs: integer('at_ms').notNull(),
    venueId: text('venue_id').notNull(),
    venueName: text('venue_name').notNull(),
    markets: integer('markets').notNull(),
    volumeUsd: real('volume_usd'),
    depthUsd: real('depth_usd'),
  },
  (t) => [
    primaryKey({ columns: [t.readingId, t.venueId] }),
    index('market_venue_volumes_coin_time').on(t.coinId, t.atMs),
  ],
);

/** Every venue ever counted for a coin: when the bot first and last saw it. */
export const marketVenues = sqliteTable(
  'market_venues',
  {
    coinId: text('coin_id').notNull(),
    venueId: text('venue_id').notNull(),
    venueName: text('venue_name').notNull(),
    firstSeenAtMs: integer('first_seen_at_ms').notNull(),
    lastSeenAtMs: integer('last_seen_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.coinId, t.venueId] })],
);

/** A venue appearing (`listed`) or leaving (`gone`) between two readings; digests read the `gone` ones. */
export const marketVenueEvents = sqliteTable(
  'market_venue_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    coinId: text('coin_id').notNull(),
    venueId: text('venue_id').notNull(),
    venueName: text('venue_name').notNull(),
    kind: text('kind').notNull(),
    atMs: integer('at_ms').notNull(),
  },
  (t) => [index('market_venue_events_coin_time').on(t.coinId, t.atMs)],
);

/**
 * Whether a subscription gets new-listing alerts. No row means on, so every subscription made before this
 * table existed keeps what it had and gains listings; the row goes with its subscription.
 */
export const alertListingPrefs = sqliteTable('alert_listing_prefs', {
  subscriptionId: integer('subscription_id')
    .primaryKey()
    .references(() => alertSubscriptions.id, { onDelete: 'cascade' }),
  listingsOn: integer('listings_on').notNull(),
});
