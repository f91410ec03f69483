/**
 * Tickers readings, venues and venue events in SQLite (the `MarketsStore` port of src/core/markets.ts).
 * Every reading keeps its figures and each venue's volume as history; only the newest keeps its tickers.
 * A reading is recorded in one transaction with its venues, events and listing alert (SQLite has one
 * writer at a time, so nothing else runs between its reads and its writes).
 */
import { and, asc, desc, eq, gte, lt, ne } from 'drizzle-orm';
import type { KnownVenue, MarketsStore, ReadingChanges, StoredTickers, VenueEvent } from '../core/markets.js';
import type { MarketStructure, Ticker } from '../core/market-structure.js';
import { listingOutboxWrite } from './listing-alert-store.js';
import type { Database } from './open.js';
import {
  marketTickerReadings,
  marketVenueEvents,
  marketVenues,
  marketVenueVolumes,
  sourceStatus,
} from './schema/index.js';

export function createMarketsStore(database: Database): MarketsStore {
  const { db, sqlite } = database;
  const writeListing = listingOutboxWrite(database);

  function latestAtMs(coinId: string): number | null {
    const row = db
      .select({ atMs: marketTickerReadings.fetchedAtMs })
      .from(marketTickerReadings)
      .where(eq(marketTickerReadings.coinId, coinId))
      .orderBy(desc(marketTickerReadings.fetchedAtMs))
      .limit(1)
      .get();
    return row?.atMs ?? null;
  }

  function knownVenues(coinId: string): KnownVenue[] {
    return db
      .select({
        venueId: marketVenues.venueId,
        venueName: marketVenues.venueName,
        firstSeenAtMs: marketVenues.firstSeenAtMs,
        lastSeenAtMs: marketVenues.lastSeenAtMs,
      })
      .from(marketVenues)
      .where(eq(marketVenues.coinId, coinId))
      .all();
  }

  function insert(coinId: string, reading: StoredTickers, s: MarketStructure): void {
    const { id } = db
      .insert(marketTickerReadings)
      .values({
        coinId,
        fetchedAtMs: reading.fetchedAtMs,
        source: reading.source,
        pages: reading.pages,
        truncated: reading.truncated ? 1 : 0,
        markets: s.markets,
        venues: s.venues,
        volumeUsd: s.volumeUsd,
        busiestSharePct: s.busiestSharePct,
        herfindahl: s.herfindahl,
        depthUsd: s.depth.totalUsd,
        turnover: s.turnover,
        spreadMedianPct: s.spreadMedianPct,
        excludedTickers: s.excluded.tickers,
        excludedVolumeUsd: s.excluded.volumeUsd,
        tickersJson: JSON.stringify(reading.tickers),
      })
      .returning({ id: marketTickerReadings.id })
      .get();
    db.update(marketTickerReadings)
      .set({ tickersJson: null })
      .where(
        and(
          eq(marketTickerReadings.coinId, coinId),
          ne(marketTickerReadings.id, id),
          lt(marketTickerReadings.fetchedAtMs, reading.fetchedAtMs + 1),
        ),
      )
      .run();
    for (const v of s.venueShares) {
      db.insert(marketVenueVolumes)
        .values({
          readingId: id,
          coinId,
          atMs: reading.fetchedAtMs,
          venueId: v.venueId,
          venueName: v.venueName,
          markets: v.markets,
          volumeUsd: v.volumeUsd,
          depthUsd: v.depthUsd,
        })
        .run();
    }
  }

  function seeVenues(coinId: string, venues: ReadingChanges['seen'], atMs: number): void {
    for (const v of venues) {
      db.insert(marketVenues)
        .values({ coinId, venueId: v.venueId, venueName: v.venueName, firstSeenAtMs: atMs, lastSeenAtMs: atMs })
        .onConflictDoUpdate({
          target: [marketVenues.coinId, marketVenues.venueId],
          set: { venueName: v.venueName, lastSeenAtMs: atMs },
        })
        .run();
    }
  }

  function saveFailure(source: string, failure: { error: string; failedAtMs: number } | null): void {
    db.insert(sourceStatus)
      .values({ source, error: failure?.error ?? null, failedAtMs: failure?.failedAtMs ?? null })
      .onConflictDoUpdate({
        target: sourceStatus.source,
        set: { error: failure?.error ?? null, failedAtMs: failure?.failedAtMs ?? null },
      })
      .run();
  }

  return {
    async latest(coinId) {
      const row = db
        .select()
        .from(marketTickerReadings)
        .where(eq(marketTickerReadings.coinId, coinId))
        .orderBy(desc(marketTickerReadings.fetchedAtMs), desc(marketTickerReadings.id))
        .limit(1)
        .get();
      if (!row || row.tickersJson === null) return null;
      const stored: StoredTickers = {
        tickers: JSON.parse(row.tickersJson) as Ticker[],
        pages: row.pages,
        truncated: row.truncated === 1,
        fetchedAtMs: row.fetchedAtMs,
        source: row.source,
      };
      return stored;
    },
    latestAtMs: async (coinId) => latestAtMs(coinId),
    async recordReading(coinId, reading, structure, decide) {
      return sqlite.transaction(() => {
        const changes = decide({ known: knownVenues(coinId), previousAtMs: latestAtMs(coinId) });
        insert(coinId, reading, structure);
        seeVenues(coinId, changes.seen, reading.fetchedAtMs);
        for (const e of changes.events)
          db.insert(marketVenueEvents)
            .values({ coinId, ...e })
            .run();
        const alerts = changes.listing ? writeListing(changes.listing.replyJson, changes.listing.nowMs) : 0;
        saveFailure(reading.source, null);
        return { changes, alerts };
      })();
    },
    knownVenues: async (coinId) => knownVenues(coinId),
    async eventsSince(coinId, sinceMs) {
      return db
        .select({
          venueId: marketVenueEvents.venueId,
          venueName: marketVenueEvents.venueName,
          kind: marketVenueEvents.kind,
          atMs: marketVenueEvents.atMs,
        })
        .from(marketVenueEvents)
        .where(and(eq(marketVenueEvents.coinId, coinId), gte(marketVenueEvents.atMs, sinceMs)))
        .orderBy(asc(marketVenueEvents.atMs), asc(marketVenueEvents.id))
        .all() as VenueEvent[];
    },
    async venueVolumes(coinId, sinceMs) {
      return db
        .select({
          atMs: marketVenueVolumes.atMs,
          venueId: marketVenueVolumes.venueId,
          venueName: marketVenueVolumes.venueName,
          volumeUsd: marketVenueVolumes.volumeUsd,
        })
        .from(marketVenueVolumes)
        .where(and(eq(marketVenueVolumes.coinId, coinId), gte(marketVenueVolumes.atMs, sinceMs)))
        .orderBy(asc(marketVenueVolumes.atMs), asc(marketVenueVolumes.venueId))
        .all();
    },
    saveFailure: async (source, failure) => saveFailure(source, failure),
    async loadFailure(source) {
      const row = db.select().from(sourceStatus).where(eq(sourceStatus.source, source)).get();
      return row?.error && row.failedAtMs !== null ? { error: row.error, failedAtMs: row.failedAtMs } : null;
    },
  };
}
