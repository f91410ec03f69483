/**
 * The market-structure service: on its own schedule (`MARKETS_CRON`, hourly by default) it reads every page
 * of CoinGecko's tickers, stores the reading with its figures as history, and compares the venues with the
 * ones seen before. A venue that appears is alerted to every subscribed chat with listings on (through the
 * alert outbox, under each chat's cooldown); one that disappears is recorded for the next digest. The first
 * reading after start only records venues: a restart never announces what was already there.
 *
 * Commands read `current()` from memory and never cause a call; a failed reading keeps the last good one.
 */
import type { Clock } from './clock.js';
import type { ChatRef } from './chat.js';
import { describeError, RateLimitedError } from './errors.js';
import type { Logger } from './logger.js';
import { listingReply } from './listing-messages.js';
import { summarizeMarkets, type MarketStructure, type Ticker, type VenueShare } from './market-structure.js';
import { DEFAULT_FOLLOW_INTERVAL_MS, type FollowOptions } from './core.js';
import type { Reading } from './snapshot.js';

/** What one tickers reading holds: the tickers, and how many pages were read. */
export interface TickersFetch {
  tickers: Ticker[];
  pages: number;
  /** More pages may exist than were read. */
  truncated: boolean;
}

export interface TickersSource {
  /** Shown in footers: `CoinGecko tickers`. */
  readonly name: string;
  fetchTickers(): Promise<TickersFetch>;
}

export interface StoredTickers extends TickersFetch {
  fetchedAtMs: number;
  source: string;
}

export interface KnownVenue {
  venueId: string;
  venueName: string;
  firstSeenAtMs: number;
  lastSeenAtMs: number;
}

export interface VenueEvent {
  venueId: string;
  venueName: string;
  kind: 'listed' | 'gone';
  atMs: number;
}

/** One venue's 24h volume at one reading, for the venues chart. */
export interface VenueVolumeRow {
  atMs: number;
  venueId: string;
  venueName: string;
  volumeUsd: number | null;
}

/** Storage for tickers readings and venues (src/db/markets-store.ts implements it). */
export interface MarketsStore {
  transaction<T>(fn: () => T): T;
  latest(coinId: string): StoredTickers | null;
  /** Time of the newest reading, without reading its tickers. */
  latestAtMs(coinId: string): number | null;
  insert(coinId: string, reading: StoredTickers, structure: MarketStructure): void;
  knownVenues(coinId: string): KnownVenue[];
  /** Marks `venues` seen at `atMs`, adding the new ones. */
  seeVenues(coinId: string, venues: ReadonlyArray<Pick<VenueShare, 'venueId' | 'venueName'>>, atMs: number): void;
  addEvents(coinId: string, events: readonly VenueEvent[]): void;
  /** Events at or after `sinceMs`, oldest first. */
  eventsSince(coinId: string, sinceMs: number): VenueEvent[];
  /** Per-venue volume of every reading from `sinceMs` on, oldest first. */
  venueVolumes(coinId: string, sinceMs: number): VenueVolumeRow[];
  saveFailure(source: string, failure: { error: string; failedAtMs: number } | null): void;
  loadFailure(source: string): { error: string; failedAtMs: number } | null;
}

/** Writes one listing alert to the outbox of every chat that takes them (src/db/listing-alert-store.ts). */
export interface ListingOutbox {
  /** @returns outbox rows written. */
  enqueueListing(replyJson: string, nowMs: number): number;
}

/** A chat's choice to take new-listing alerts; both null / false when the chat has no subscription. */
export interface ListingSettings {
  listingsOn(chat: ChatRef): boolean | null;
  setListings(chat: ChatRef, on: boolean): boolean;
}

export interface MarketsView {
  structure: MarketStructure;
  pages: number;
  truncated: boolean;
}

export interface RefreshOutcome {
  status: 'ok' | 'failed' | 'skipped';
  /** Venues new to this bot in this reading. */
  listed: string[];
  gone: string[];
  /** Outbox rows written for listing alerts. */
  alerts: number;
}

export interface MarketsService {
  /** The last good reading, from memory. */
  current(): Reading<MarketsView>;
  isStale(reading: Reading<unknown>): boolean;
  /** Reads every page of tickers once; concurrent calls share one reading. Never throws. */
  refresh(): Promise<RefreshOutcome>;
  /** Venues that left since `sinceMs` and have not come back, for the digest. */
  goneSince(sinceMs: number): VenueEvent[];
  venueVolumes(sinceMs: number): VenueVolumeRow[];
  /**
   * Follows the store instead of CoinGecko (a standby): the latest stored reading is read every `intervalMs`
   * (default 500) and on `poke()`; while following, `refresh()` reads the store, never the source, and
   * announces nothing (listings are the leader's).
   */
  follow(options?: FollowOptions): MarketsFollowHandle;
}

export interface MarketsFollowHandle {
  /** Reads the store now. */
  poke(): Reading<MarketsView>;
  /** Back to reading CoinGecko on `refresh()`. */
  stop(): void;
}

export interface MarketsOptions {
  source: TickersSource;
  store: MarketsStore;
  listings: ListingOutbox;
  coinId: string;
  clock: Clock;
  logger: Logger;
  /** A reading older than this is shown as stale. */
  staleAfterMs: number;
  /** A venue absent from stored readings for longer than this is announced again when it comes back. */
  relistAfterMs?: number;
  /** Called after listing alerts were written (wakes the dispatcher). */
  onAlerts?: () => void;
}

const DAY_MS = 86_400_000;

export function createMarkets(options: MarketsOptions): MarketsService {
  const { source, store, listings, coinId, clock, logger, staleAfterMs } = options;
  const relistAfterMs = options.relistAfterMs ?? 7 * DAY_MS;

  function toView(t: TickersFetch): MarketsView {
    return { structure: summarizeMarkets(t.tickers), pages: t.pages, truncated: t.truncated };
  }

  let current: Reading<MarketsView> = {
    source: source.name,
    data: null,
    fetchedAtMs: null,
    error: null,
    failedAtMs: null,
  };

  /** The latest stored reading and the failure after it; null when none is stored. */
  function readStored(): Reading<MarketsView> | null {
    const stored = store.latest(coinId);
    if (!stored) return null;
    const failure = store.loadFailure(source.name);
    const since = failure && failure.failedAtMs > stored.fetchedAtMs ? failure : null;
    return {
      source: stored.source,
      data: toView(stored),
      fetchedAtMs: stored.fetchedAtMs,
      error: since?.error ?? null,
      failedAtMs: since?.failedAtMs ?? null,
    };
  }
  current = readStored() ?? current;

  /** Non-null while following the store. */
  let following: object | null = null;
  /** Reads the store when it holds something newer than `current` (the newest reading's time first: cheap). */
  function readFollowed(): Reading<MarketsView> {
    try {
      const atMs = store.latestAtMs(coinId);
      if (atMs === null) return current;
      if (atMs > (current.fetchedAtMs ?? -Infinity)) {
        current = readStored() ?? current;
      } else if (atMs === current.fetchedAtMs) {
        // The same reading: only its failure may have changed.
        const failure = store.loadFailure(source.name);
        const since = failure && failure.failedAtMs > atMs ? failure : null;
        if ((since?.failedAtMs ?? null) !== current.failedAtMs)
          current = { ...current, error: since?.error ?? null, failedAtMs: since?.failedAtMs ?? null };
      }
    } catch (err) {
      logger.warn({ err }, 'the stored markets reading could not be read; showing the last one read');
    }
    return current;
  }

  /** Until a reading succeeds in this process, venues are recorded and never announced. */
  let firstReading = true;
  let notBeforeMs = 0;
  let inFlight: Promise<RefreshOutcome> | null = null;

  /** Records the reading, its venue changes and any listing alerts in one transaction. */
  function record(fetched: TickersFetch, fetchedAtMs: number): RefreshOutcome {
    const view = toView(fetched);
    const venues = view.structure.venueShares;
    return store.transaction(() => {
      const known = new Map(store.knownVenues(coinId).map((v) => [v.venueId, v]));
      const previousAtMs = store.latestAtMs(coinId);
      store.insert(coinId, { ...fetched, fetchedAtMs, source: source.name }, view.structure);
      const nowIds = new Set(venues.map((v) => v.venueId));
      // New to the bot, or back after a long absence; a venue that blinked out for a reading or two is not news.
      const listed = venues.filter((v) => {
        const k = known.get(v.venueId);
        return (
          !k || (previousAtMs !== null && k.lastSeenAtMs < previousAtMs && fetchedAtMs - k.lastSeenAtMs > relistAfterMs)
        );
      });
      const gone =
        previousAtMs === null
          ? []
          : [...known.values()].filter((k) => k.lastSeenAtMs >= previousAtMs && !nowIds.has(k.venueId));
      store.seeVenues(coinId, venues, fetchedAtMs);
      store.addEvents(coinId, [
        ...listed.map((v) => ({
          venueId: v.venueId,
          venueName: v.venueName,
          kind: 'listed' as const,
          atMs: fetchedAtMs,
        })),
        ...gone.map((k) => ({ venueId: k.venueId, venueName: k.venueName, kind: 'gone' as const, atMs: fetchedAtMs })),
      ]);
      let alerts = 0;
      if (!firstReading && listed.length > 0) {
        alerts = listings.enqueueListing(
          JSON.stringify(listingReply(listed, view.structure, source.name, fetchedAtMs)),
          clock.now(),
        );
      }
      current = { source: source.name, data: view, fetchedAtMs, error: null, failedAtMs: null };
      store.saveFailure(source.name, null);
      return {
        status: 'ok' as const,
        listed: listed.map((v) => v.venueName),
        gone: gone.map((k) => k.venueName),
        alerts,
      };
    });
  }

  async function run(): Promise<RefreshOutcome> {
    const startedAtMs = clock.now();
    if (startedAtMs < notBeforeMs) return { status: 'skipped', listed: [], gone: [], alerts: 0 };
    try {
      const fetched = await source.fetchTickers();
      const outcome = record(fetched, clock.now());
      const wasFirst = firstReading;
      firstReading = false;
      logger.info(
        {
          pages: fetched.pages,
          tickers: fetched.tickers.length,
          listed: outcome.listed,
          gone: outcome.gone,
          alerts: outcome.alerts,
          firstReading: wasFirst,
        },
        'markets refreshed',
      );
      if (fetched.truncated)
        logger.warn(
          { pages: fetched.pages },
          'more ticker pages than the bot reads; figures cover the busiest markets only',
        );
      if (outcome.alerts > 0) options.onAlerts?.();
      return outcome;
    } catch (err) {
      const failedAtMs = clock.now();
      const error = describeError(err);
      if (err instanceof RateLimitedError) notBeforeMs = failedAtMs + err.retryAfterMs;
      store.saveFailure(source.name, { error, failedAtMs });
      current = { ...current, error, failedAtMs };
      logger.warn({ source: source.name, err }, 'markets refresh failed; keeping the last good reading');
      return { status: 'failed', listed: [], gone: [], alerts: 0 };
    }
  }

  return {
    current: () => current,
    isStale(reading) {
      if (reading.data === null || reading.fetchedAtMs === null || reading.error !== null) return true;
      return clock.now() - reading.fetchedAtMs > staleAfterMs;
    },
    refresh() {
      if (following) {
        readFollowed();
        return Promise.resolve({ status: 'skipped' as const, listed: [], gone: [], alerts: 0 });
      }
      inFlight ??= run().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    goneSince(sinceMs) {
      const lastSeen = new Map(store.knownVenues(coinId).map((v) => [v.venueId, v.lastSeenAtMs]));
      const gone = store
        .eventsSince(coinId, sinceMs)
        .filter((e) => e.kind === 'gone' && (lastSeen.get(e.venueId) ?? 0) < e.atMs);
      // A venue that left twice is named once, at its latest departure.
      return [...new Map(gone.map((e) => [e.venueId, e])).values()];
    },
    venueVolumes: (sinceMs) => store.venueVolumes(coinId, sinceMs),
    follow(followOptions = {}) {
      const f = {};
      following = f;
      const timer = setInterval(() => {
        if (following === f) readFollowed();
      }, followOptions.intervalMs ?? DEFAULT_FOLLOW_INTERVAL_MS);
      timer.unref();
      readFollowed();
      return {
        poke: () => (following === f ? readFollowed() : current),
        stop() {
          clearInterval(timer);
          if (following === f) following = null;
        },
      };
    },
  };
}
