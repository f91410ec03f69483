/**
 * Tickers readings, venues and venue events in PostgreSQL: the `MarketsStore` of markets-store.ts (read its
 * comment) on the pg schema. A reading is recorded under a transaction-scoped advisory lock, so two leaders
 * overlapping for a moment record one reading after the other and the second sees the first's venues.
 */
import { and, asc, desc, eq, gte, lt, ne, sql } from 'drizzle-orm';
import type { KnownVenue, MarketsStore, StoredTickers, VenueEvent } from '../core/markets.js';
import type { MarketStructure, Ticker } from '../core/market-structure.js';
import type { PgQueries } from './pg-alert-subscriptions.js';
import { writePgListing } from './pg-listing-alert-store.js';
import {
  marketTickerReadings,
  marketVenueEvents,
  marketVenues,
  marketVenueVolumes,
  sourceStatus,
} from './pg-schema/index.js';
import { ADVISORY_LOCK_NAMESPACE, MARKETS_LOCK_KEY } from './postgres-settings.js';
import type { PgStoreDb } from './postgres.js';

const r = marketTickerReadings;

async function latestAtMs(q: PgQueries, coinId: string): Promise<number | null> {
  const [row] = await q
    .select({ atMs: r.fetchedAtMs })
    .from(r)
    .where(eq(r.coinId, coinId))
    .orderBy(desc(r.fetchedAtMs))
    .limit(1);
  return row?.atMs ?? null;
}

async function knownVenues(q: PgQueries, coinId: string): Promise<KnownVenue[]> {
  return q
    .select({
      venueId: marketVenues.venueId,
      venueName: marketVenues.venueName,
      firstSeenAtMs: marketVenues.firstSeenAtMs,
      lastSeenAtMs: marketVenues.lastSeenAtMs,
    })
    .from(marketVenues)
    .where(eq(marketVenues.coinId, coinId));
}

/** Stores the reading and its per-venue volumes; only the newest reading keeps its tickers. */
async function insert(q: PgQueries, coinId: string, reading: StoredTickers, s: MarketStructure): Promise<void> {
  const [row] = await q
    .insert(r)
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
    .returning({ id: r.id });
  const id = row!.id;
  await q
    .update(r)
    .set({ tickersJson: null })
    .where(and(eq(r.coinId, coinId), ne(r.id, id), lt(r.fetchedAtMs, reading.fetchedAtMs + 1)));
  if (s.venueShares.length > 0)
    await q.insert(marketVenueVolumes).values(
      s.venueShares.map((v) => ({
        readingId: id,
        coinId,
        atMs: reading.fetchedAtMs,
        venueId: v.venueId,
        venueName: v.venueName,
        markets: v.markets,
        volumeUsd: v.volumeUsd,
        depthUsd: v.depthUsd,
      })),
    );
}

async function saveFailure(
  q: PgQueries,
  source: string,
  failure: { error: string; failedAtMs: number } | null,
): Promise<void> {
  const values = { error: failure?.error ?? null, failedAtMs: failure?.failedAtMs ?? null };
  await q
    .insert(sourceStatus)
    .values({ source, ...values })
    .onConflictDoUpdate({ target: sourceStatus.source, set: values });
}

export function createPgMarketsStore(db: PgStoreDb): MarketsStore {
  const v = marketVenues;
  const e = marketVenueEvents;
  const vv = marketVenueVolumes;
  return {
    async latest(coinId) {
      const [row] = await db
        .select()
        .from(r)
        .where(eq(r.coinId, coinId))
        .orderBy(desc(r.fetchedAtMs), desc(r.id))
        .limit(1);
      if (!row || row.tickersJson === null) return null;
      return {
        tickers: JSON.parse(row.tickersJson) as Ticker[],
        pages: row.pages,
        truncated: row.truncated === 1,
        fetchedAtMs: row.fetchedAtMs,
        source: row.source,
      };
    },
    latestAtMs: (coinId) => latestAtMs(db, coinId),
    recordReading(coinId, reading, structure, decide) {
      return db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_NAMESPACE}, ${MARKETS_LOCK_KEY})`);
        const changes = decide({ known: await knownVenues(tx, coinId), previousAtMs: await latestAtMs(tx, coinId) });
        await insert(tx, coinId, reading, structure);
        if (changes.seen.length > 0)
          await tx
            .insert(v)
            .values(
              changes.seen.map((venue) => ({
                coinId,
                venueId: venue.venueId,
                venueName: venue.venueName,
                firstSeenAtMs: reading.fetchedAtMs,
                lastSeenAtMs: reading.fetchedAtMs,
              })),
            )
            .onConflictDoUpdate({
              target: [v.coinId, v.venueId],
              set: { venueName: sql`excluded.${sql.identifier(v.venueName.name)}`, lastSeenAtMs: reading.fetchedAtMs },
            });
        if (changes.events.length > 0) await tx.insert(e).values(changes.events.map((event) => ({ coinId, ...event })));
        const alerts = changes.listing ? await writePgListing(tx, changes.listing.replyJson, changes.listing.nowMs) : 0;
        await saveFailure(tx, reading.source, null);
        return { changes, alerts };
      });
    },
    knownVenues: (coinId) => knownVenues(db, coinId),
    async eventsSince(coinId, sinceMs) {
      const rows = await db
        .select({ venueId: e.venueId, venueName: e.venueName, kind: e.kind, atMs: e.atMs })
        .from(e)
        .where(and(eq(e.coinId, coinId), gte(e.atMs, sinceMs)))
        .orderBy(asc(e.atMs), asc(e.id));
      return rows as VenueEvent[];
    },
    venueVolumes(coinId, sinceMs) {
      return db
        .select({ atMs: vv.atMs, venueId: vv.venueId, venueName: vv.venueName, volumeUsd: vv.volumeUsd })
        .from(vv)
        .where(and(eq(vv.coinId, coinId), gte(vv.atMs, sinceMs)))
        .orderBy(asc(vv.atMs), asc(vv.venueId));
    },
    saveFailure: (source, failure) => saveFailure(db, source, failure),
    async loadFailure(source) {
      const [row] = await db.select().from(sourceStatus).where(eq(sourceStatus.source, source));
      return row?.error && row.failedAtMs !== null ? { error: row.error, failedAtMs: row.failedAtMs } : null;
    },
  };
}
