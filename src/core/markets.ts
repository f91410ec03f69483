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
import { summarizeMarkets, type MarketStructure, type Ticker } from './market-structure.js';
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

/** A venue no longer listed: its latest departure, and the last reading that had it (null if none did). */
export interface GoneVenue extends VenueEvent {
  lastSeenAtMs: number | null;
}

/** One venue's 24h volume at one reading, for the venues chart. */
export interface VenueVolumeRow {
  atMs: number;
  venueId: string;
  venueName: string;
  volumeUsd: number | null;
}

/** What the store held before a reading: every venue seen so far, and the time of the previous reading. */
export interface VenueHistory {
  known: KnownVenue[];
  previousAtMs: number | null;
}

/** What a reading changes besides its own rows, decided from the `VenueHistory` before it. */
export interface ReadingChanges {
  events: VenueEvent[];
  /** The venues this reading marks seen now (new ones are added to the known venues). */
  seen: ReadonlyArray<{ venueId: string; venueName: string }>;
  /** One listing alert for the outbox of every active chat that takes them (`ListingSettings`), or none. */
  listing: { replyJson: string; nowMs: number } | null;
}

/**
 * Storage for tickers readings and venues (src/db/markets-store.ts, pg-markets-store.ts implement it). The
 * stores answer with Promises, so a store over an asynchronous driver (PostgreSQL) fits the same port.
 */
export interface MarketsStore {
  latest(coinId: string): Promise<StoredTickers | null>;
  /** Time of the newest reading, without reading its tickers. */
  latestAtMs(coinId: string): Promise<number | null>;
  /**
   * Records one reading in one transaction: reads the venue history, asks `decide` (synchronous, pure)
   * what changes, then stores the reading with its figures and per-venue volumes, marks the venues `decide`
   * names (`seen`) seen at `reading.fetchedAtMs` (adding the new ones), adds the events, writes the listing
   * alert to the alert outbox (under each chat's cooldown, as ratio alerts) and clears the source's failure.
   * Readings of one coin are recorded one at a time, so two overlapping leaders never both announce a venue.
   * @returns what `decide` answered, and how many outbox rows the listing alert wrote.
   */
  recordReading<C extends ReadingChanges>(
    coinId: string,
    reading: StoredTickers,
    structure: MarketStructure,
    decide: (before: VenueHistory) => C,
  ): Promise<{ changes: C; alerts: number }>;
  knownVenues(coinId: string): Promise<KnownVenue[]>;
  /** Events at or after `sinceMs`, oldest first. */
  eventsSince(coinId: string, sinceMs: number): Promise<VenueEvent[]>;
  /** Per-venue volume of every reading from `sinceMs` on, oldest first (by venue id within a reading). */
  venueVolumes(coinId: string, sinceMs: number): Promise<VenueVolumeRow[]>;
  saveFailure(source: string, failure: { error: string; failedAtMs: number } | null): Promise<void>;
  loadFailure(source: string): Promise<{ error: string; failedAtMs: number } | null>;
}

/** A chat's choice to take new-listing alerts (src/db/listing-alert-store.ts, pg-listing-alert-store.ts). */
export interface ListingSettings {
  /** Null when the chat has no subscription; on unless a moderator turned them off. */
  listingsOn(chat: ChatRef): Promise<boolean | null>;
  /** @returns false when the chat has no subscription (nothing is stored). */
  setListings(chat: ChatRef, on: boolean): Promise<boolean>;
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
  /** The last good reading, from memory. Never blocks; empty until `restored()` resolves. */
  current(): Reading<MarketsView>;
  /** The reading the store kept across a restart (and the failure after it), once it has been read. */
  restored(): Promise<Reading<MarketsView>>;
  isStale(reading: Reading<unknown>): boolean;
  /**
   * Reads every page of tickers once; concurrent calls share one reading. Never throws. Only the leader calls
   * it (src/leader-work.ts): a reading marks venues seen, and the first one in a process announces nothing, so a
   * reading by any other process (the CLI) would swallow a listing the leader has yet to announce.
   */
  refresh(): Promise<RefreshOutcome>;
  /**
   * Venues that left since `sinceMs` and have not come back, for the digest and `markets`. A venue back in the
   * latest reading with only anomalous or stale markets is not among them (it is there, if not counted).
   */
  goneSince(sinceMs: number): Promise<GoneVenue[]>;
  venueVolumes(sinceMs: number): Promise<VenueVolumeRow[]>;
  /**
   * Follows the store instead of CoinGecko (a standby): the latest stored reading is read every `intervalMs`
   * (default 500) and on `poke()`; while following, `refresh()` reads the store, never the source, and
   * announces nothing (listings are the leader's).
   */
  follow(options?: FollowOptions): MarketsFollowHandle;
}

export interface MarketsFollowHandle {
  /** Reads the store now: after any read already in flight, so it sees what was stored before the call. */
  poke(): Promise<Reading<MarketsView>>;
  /** Back to reading CoinGecko on `refresh()`. */
  stop(): void;
}

export interface MarketsOptions {
  source: TickersSource;
  /** Readings, venues, and the listing alerts written with them. */
  store: MarketsStore;
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
  const { source, store, coinId, clock, logger, staleAfterMs } = options;
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

  /** The failure stored for the source when it came after the reading at `atMs`, else null. */
  async function failureAfter(atMs: number): Promise<{ error: string; failedAtMs: number } | null> {
    const failure = await store.loadFailure(source.name);
    return failure && failure.failedAtMs > atMs ? failure : null;
  }

  /** The latest stored reading and the failure after it; null when none is stored. */
  async function readStored(): Promise<Reading<MarketsView> | null> {
    const stored = await store.latest(coinId);
    if (!stored) return null;
    const since = await failureAfter(stored.fetchedAtMs);
    return {
      source: stored.source,
      data: toView(stored),
      fetchedAtMs: stored.fetchedAtMs,
      error: since?.error ?? null,
      failedAtMs: since?.failedAtMs ?? null,
    };
  }

  // The last good reading, as the store kept it across a restart. A refresh waits for this, so a restored
  // reading never replaces a newer one.
  const restoring = (async () => {
    try {
      current = (await readStored()) ?? current;
    } catch (err) {
      logger.warn({ err }, 'stored markets reading not restored; starting empty');
    }
  })();

  /**
   * Non-null while following the store: `reading` is the read in flight, shared by its callers; `next` the
   * one a poke during that read waits for, which starts after it (so it sees what was written before the poke).
   */
  let following: { reading: Promise<Reading<MarketsView>> | null; next: Promise<Reading<MarketsView>> | null } | null =
    null;
  function readFollowed(f: NonNullable<typeof following>, fresh: boolean): Promise<Reading<MarketsView>> {
    if (f.reading) {
      if (!fresh) return f.reading;
      f.next ??= f.reading.then(() => {
        f.next = null;
        return readFollowed(f, false);
      });
      return f.next;
    }
    f.reading = readStoreOnce(f).finally(() => {
      f.reading = null;
    });
    return f.reading;
  }
  /** Reads the store when it holds something newer than `current` (the newest reading's time first: cheap). */
  async function readStoreOnce(f: NonNullable<typeof following>): Promise<Reading<MarketsView>> {
    await restoring;
    try {
      const atMs = await store.latestAtMs(coinId);
      if (atMs === null || following !== f) return current;
      if (atMs > (current.fetchedAtMs ?? -Infinity)) {
        const stored = await readStored();
        if (stored && following === f && (stored.fetchedAtMs ?? -Infinity) > (current.fetchedAtMs ?? -Infinity))
          current = stored;
      } else if (atMs === current.fetchedAtMs) {
        // The same reading: only its failure may have changed.
        const since = await failureAfter(atMs);
        if (following === f && atMs === current.fetchedAtMs && (since?.failedAtMs ?? null) !== current.failedAtMs)
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
  async function record(fetched: TickersFetch, fetchedAtMs: number): Promise<RefreshOutcome> {
    const view = toView(fetched);
    const venues = view.structure.venueShares;
    const announce = !firstReading;
    const { changes, alerts } = await store.recordReading(
      coinId,
      { ...fetched, fetchedAtMs, source: source.name },
      view.structure,
      ({ known: knownList, previousAtMs }) => {
        const known = new Map(knownList.map((v) => [v.venueId, v]));
        // Presence counts every ticker, anomalous or stale too: a venue whose only market turns stale and
        // fresh again has not left and come back. Only a venue absent from the previous reading altogether
        // (new to the bot, or back after a long absence) and now with a counted market is news; one that
        // blinked out for a reading or two is not. A venue that arrives with only anomalous or stale markets is
        // not marked seen until one counts (then it is announced), nor is one back from an absence that way.
        const presentIds = new Set(view.structure.presentVenues.map((v) => v.venueId));
        const countedIds = new Set(venues.map((v) => v.venueId));
        const stayed = (venueId: string) =>
          previousAtMs !== null && (known.get(venueId)?.lastSeenAtMs ?? -Infinity) >= previousAtMs;
        // The first reading after a start announces nothing and records every venue there, as it found them.
        const seen = announce
          ? view.structure.presentVenues.filter((v) => countedIds.has(v.venueId) || stayed(v.venueId))
          : view.structure.presentVenues;
        const listed = venues.filter((v) => {
          const k = known.get(v.venueId);
          return (
            !k ||
            (previousAtMs !== null && k.lastSeenAtMs < previousAtMs && fetchedAtMs - k.lastSeenAtMs > relistAfterMs)
          );
        });
        const gone =
          previousAtMs === null
            ? []
            : [...known.values()].filter((k) => k.lastSeenAtMs >= previousAtMs && !presentIds.has(k.venueId));
        return {
          listed,
          gone,
          seen,
          events: [
            ...listed.map((v) => ({
              venueId: v.venueId,
              venueName: v.venueName,
              kind: 'listed' as const,
              atMs: fetchedAtMs,
            })),
            ...gone.map((k) => ({
              venueId: k.venueId,
              venueName: k.venueName,
              kind: 'gone' as const,
              atMs: fetchedAtMs,
            })),
          ],
          listing:
            announce && listed.length > 0
              ? {
                  replyJson: JSON.stringify(listingReply(listed, view.structure, source.name, fetchedAtMs)),
                  nowMs: clock.now(),
                }
              : null,
        };
      },
    );
    current = { source: source.name, data: view, fetchedAtMs, error: null, failedAtMs: null };
    return {
      status: 'ok' as const,
      listed: changes.listed.map((v) => v.venueName),
      gone: changes.gone.map((k) => k.venueName),
      alerts,
    };
  }

  async function run(): Promise<RefreshOutcome> {
    await restoring;
    const startedAtMs = clock.now();
    if (startedAtMs < notBeforeMs) return { status: 'skipped', listed: [], gone: [], alerts: 0 };
    try {
      const fetched = await source.fetchTickers();
      const outcome = await record(fetched, clock.now());
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
      current = { ...current, error, failedAtMs };
      logger.warn({ source: source.name, err }, 'markets refresh failed; keeping the last good reading');
      try {
        await store.saveFailure(source.name, { error, failedAtMs });
      } catch (saveErr) {
        logger.warn({ err: saveErr }, 'the markets failure could not be stored');
      }
      return { status: 'failed', listed: [], gone: [], alerts: 0 };
    }
  }

  return {
    current: () => current,
    async restored() {
      await restoring;
      return current;
    },
    isStale(reading) {
      if (reading.data === null || reading.fetchedAtMs === null || reading.error !== null) return true;
      return clock.now() - reading.fetchedAtMs > staleAfterMs;
    },
    async refresh() {
      if (following) {
        await readFollowed(following, false);
        return { status: 'skipped' as const, listed: [], gone: [], alerts: 0 };
      }
      inFlight ??= run().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    async goneSince(sinceMs) {
      await restoring;
      const [known, events] = await Promise.all([store.knownVenues(coinId), store.eventsSince(coinId, sinceMs)]);
      const lastSeen = new Map(known.map((v) => [v.venueId, v.lastSeenAtMs]));
      // Back with only anomalous or stale markets: present in the latest reading, though not marked seen again.
      const latest = current;
      const presentNow = new Set(latest.data?.structure.presentVenues.map((v) => v.venueId) ?? []);
      const backAfter = (e: VenueEvent) => presentNow.has(e.venueId) && (latest.fetchedAtMs ?? -Infinity) > e.atMs;
      const gone = events.filter((e) => e.kind === 'gone' && (lastSeen.get(e.venueId) ?? 0) < e.atMs && !backAfter(e));
      // A venue that left twice is named once, at its latest departure.
      return [
        ...new Map(gone.map((e) => [e.venueId, { ...e, lastSeenAtMs: lastSeen.get(e.venueId) ?? null }])).values(),
      ];
    },
    venueVolumes: (sinceMs) => store.venueVolumes(coinId, sinceMs),
    follow(followOptions = {}) {
      const f: NonNullable<typeof following> = { reading: null, next: null };
      following = f;
      const timer = setInterval(
        () => void readFollowed(f, false),
        followOptions.intervalMs ?? DEFAULT_FOLLOW_INTERVAL_MS,
      );
      timer.unref();
      void readFollowed(f, false);
      return {
        poke: () => (following === f ? readFollowed(f, true) : Promise.resolve(current)),
        stop() {
          clearInterval(timer);
          if (following === f) following = null;
        },
      };
    },
  };
}
