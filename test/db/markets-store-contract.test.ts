/**
 * The markets and listing stores' contract on every backend (a SQLite file, PGlite, the real PostgreSQL
 * server when TEST_DATABASE_URL is set): the same calls through the ports, the same answers. Listing alerts
 * are read back as the dispatcher reads the outbox (`OutboxStore.heads` and `payload`), so a listing written
 * by the markets store is shown to land where delivery looks for it on each dialect.
 */
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { NewSubscription, OutboxHead } from '../../src/core/alert-ports.js';
import { crossingsAt, downBoundOf } from '../../src/core/alerts.js';
import type { ChatRef } from '../../src/core/command.js';
import { summarizeMarkets, type Ticker } from '../../src/core/market-structure.js';
import type { ReadingChanges, StoredTickers, VenueEvent, VenueHistory } from '../../src/core/markets.js';
import type { Reply } from '../../src/core/reply.js';
import { createPgMarketsStore } from '../../src/db/pg-markets-store.js';
import { openPostgres } from '../../src/db/postgres.js';
import { ADVISORY_LOCK_NAMESPACE, EVALUATION_LOCK_KEY, MARKETS_LOCK_KEY } from '../../src/db/postgres-settings.js';
import { createPgAlertStores } from '../../src/db/pg-alert-stores.js';
import { NO_SERVER, serverDatabase, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { STORE_BACKENDS, storesOn, type BackendStores } from '../helpers/store-backends.js';

const MIN = 60_000;
const H = 60 * MIN;
const T0 = Date.UTC(2026, 0, 1);
const COIN = 'opengradient';
const SOURCE = 'CoinGecko tickers';

function ticker(venueId: string, venueName: string, target: string, volumeUsd: number | null): Ticker {
  return {
    venueId,
    venueName,
    base: 'OPG',
    target,
    volumeUsd,
    trust: 'green',
    spreadPct: 0.1,
    depthUpUsd: 2_000,
    depthDownUsd: 3_000,
    anomaly: false,
    stale: false,
    lastTradedAtMs: T0 - MIN,
  };
}

function reading(fetchedAtMs: number, tickers: Ticker[]): StoredTickers {
  return { tickers, pages: 1, truncated: false, fetchedAtMs, source: SOURCE };
}

const event = (venueId: string, venueName: string, kind: VenueEvent['kind'], atMs: number): VenueEvent => ({
  venueId,
  venueName,
  kind,
  atMs,
});

/**
 * Records `tickers` at `atMs` with `changes` (marking seen every venue with a ticker unless `changes.seen` says
 * otherwise); returns what the store showed `decide` and what it answered.
 */
async function record(
  stores: BackendStores,
  atMs: number,
  tickers: Ticker[],
  given: Omit<ReadingChanges, 'seen'> & Partial<Pick<ReadingChanges, 'seen'>> = { events: [], listing: null },
) {
  const changes: ReadingChanges = { ...given, seen: given.seen ?? summarizeMarkets(tickers).presentVenues };
  const seen: VenueHistory[] = [];
  const result = await stores.markets.recordReading(
    COIN,
    reading(atMs, tickers),
    summarizeMarkets(tickers),
    (before) => {
      seen.push(before);
      return changes;
    },
  );
  expect(seen).toHaveLength(1);
  expect(result.changes).toBe(changes);
  return { before: seen[0]!, alerts: result.alerts };
}

const byVenue = <T extends { venueId: string }>(rows: T[]) =>
  [...rows].sort((a, b) => a.venueId.localeCompare(b.venueId));

// The first PGlite of a worker compiles and migrates PostgreSQL: seconds, more on a busy machine.
describe.each(STORE_BACKENDS)('markets store on %s', { timeout: 60_000 }, (backend) => {
  it('records a reading with its venues and events, and shows the next one the venues and time before it', async ({
    skip,
  }) => {
    const stores = await storesOn(backend, skip);
    const { markets } = stores;
    expect(await markets.latest(COIN)).toBeNull();
    expect(await markets.latestAtMs(COIN)).toBeNull();
    expect(await markets.knownVenues(COIN)).toEqual([]);
    expect(await markets.eventsSince(COIN, 0)).toEqual([]);
    expect(await markets.venueVolumes(COIN, 0)).toEqual([]);

    const first = [
      ticker('binance', 'Binance', 'USDT', 600_000),
      ticker('binance', 'Binance', 'USD', 100_000),
      ticker('kraken', 'Kraken', 'USD', 40_000),
      ticker('dex-x', 'DEX “X”', 'WETH', null),
    ];
    const listedFirst = [
      event('binance', 'Binance', 'listed', T0),
      event('kraken', 'Kraken', 'listed', T0),
      event('dex-x', 'DEX “X”', 'listed', T0),
    ];
    expect(await record(stores, T0, first, { events: listedFirst, listing: null })).toEqual({
      before: { known: [], previousAtMs: null },
      alerts: 0,
    });
    expect(await markets.latest(COIN)).toEqual(reading(T0, first));
    expect(await markets.latestAtMs(COIN)).toBe(T0);

    // An hour on: Binance renamed, Kraken and the DEX gone, Uniswap new.
    const second = [
      ticker('binance', 'Binance ✓', 'USDT', 500_000),
      ticker('uniswap-v3-base', 'Uniswap', 'USDC', 50_000),
    ];
    const changedSecond = [
      event('kraken', 'Kraken', 'gone', T0 + H),
      event('dex-x', 'DEX “X”', 'gone', T0 + H),
      event('uniswap-v3-base', 'Uniswap', 'listed', T0 + H),
    ];
    const { before } = await record(stores, T0 + H, second, { events: changedSecond, listing: null });
    expect(before.previousAtMs).toBe(T0);
    expect(byVenue(before.known)).toEqual([
      { venueId: 'binance', venueName: 'Binance', firstSeenAtMs: T0, lastSeenAtMs: T0 },
      { venueId: 'dex-x', venueName: 'DEX “X”', firstSeenAtMs: T0, lastSeenAtMs: T0 },
      { venueId: 'kraken', venueName: 'Kraken', firstSeenAtMs: T0, lastSeenAtMs: T0 },
    ]);

    expect(await markets.latest(COIN)).toEqual(reading(T0 + H, second));
    expect(await markets.latestAtMs(COIN)).toBe(T0 + H);
    expect(byVenue(await markets.knownVenues(COIN))).toEqual([
      { venueId: 'binance', venueName: 'Binance ✓', firstSeenAtMs: T0, lastSeenAtMs: T0 + H },
      { venueId: 'dex-x', venueName: 'DEX “X”', firstSeenAtMs: T0, lastSeenAtMs: T0 },
      { venueId: 'kraken', venueName: 'Kraken', firstSeenAtMs: T0, lastSeenAtMs: T0 },
      { venueId: 'uniswap-v3-base', venueName: 'Uniswap', firstSeenAtMs: T0 + H, lastSeenAtMs: T0 + H },
    ]);
    expect(await markets.eventsSince(COIN, 0)).toEqual([...listedFirst, ...changedSecond]);
    expect(await markets.eventsSince(COIN, T0 + 1)).toEqual(changedSecond);
    // Binance: $600,000 + $100,000 over its two markets; the DEX reports no volume.
    expect(await markets.venueVolumes(COIN, 0)).toEqual([
      { atMs: T0, venueId: 'binance', venueName: 'Binance', volumeUsd: 700_000 },
      { atMs: T0, venueId: 'dex-x', venueName: 'DEX “X”', volumeUsd: null },
      { atMs: T0, venueId: 'kraken', venueName: 'Kraken', volumeUsd: 40_000 },
      { atMs: T0 + H, venueId: 'binance', venueName: 'Binance ✓', volumeUsd: 500_000 },
      { atMs: T0 + H, venueId: 'uniswap-v3-base', venueName: 'Uniswap', volumeUsd: 50_000 },
    ]);
    expect((await markets.venueVolumes(COIN, T0 + H)).map((v) => v.venueId)).toEqual(['binance', 'uniswap-v3-base']);

    // Another coin shares nothing.
    expect(await markets.latest('other')).toBeNull();
    expect(await markets.latestAtMs('other')).toBeNull();
    expect(await markets.knownVenues('other')).toEqual([]);
    expect(await markets.eventsSince('other', 0)).toEqual([]);
    expect(await markets.venueVolumes('other', 0)).toEqual([]);
  });

  it('marks seen the venues decide names, anomalous or stale ones too; only counted venues get a volume row', async ({
    skip,
  }) => {
    const stores = await storesOn(backend, skip);
    const { markets } = stores;
    const stale = { ...ticker('kraken', 'Kraken', 'USD', 40_000), stale: true };
    const anomalous = { ...ticker('gate', 'Gate', 'USDT', 900_000), anomaly: true };
    await record(stores, T0, [ticker('binance', 'Binance', 'USDT', 600_000), stale, anomalous]);
    await record(stores, T0 + H, [ticker('binance', 'Binance', 'USDT', 500_000), stale]);
    expect(byVenue(await markets.knownVenues(COIN))).toEqual([
      { venueId: 'binance', venueName: 'Binance', firstSeenAtMs: T0, lastSeenAtMs: T0 + H },
      { venueId: 'gate', venueName: 'Gate', firstSeenAtMs: T0, lastSeenAtMs: T0 },
      { venueId: 'kraken', venueName: 'Kraken', firstSeenAtMs: T0, lastSeenAtMs: T0 + H },
    ]);
    expect(await markets.venueVolumes(COIN, 0)).toEqual([
      { atMs: T0, venueId: 'binance', venueName: 'Binance', volumeUsd: 600_000 },
      { atMs: T0 + H, venueId: 'binance', venueName: 'Binance', volumeUsd: 500_000 },
    ]);
  });

  it(
    'keeps nothing of a reading whose recording failed part way, ' + 'and clears the source failure with the next one',
    async ({ skip }) => {
      const stores = await storesOn(backend, skip);
      const { markets } = stores;
      await markets.saveFailure(SOURCE, { error: 'HTTP 429', failedAtMs: T0 - 2 * MIN });
      await markets.saveFailure(SOURCE, { error: 'HTTP 503', failedAtMs: T0 - MIN });
      expect(await markets.loadFailure(SOURCE)).toEqual({ error: 'HTTP 503', failedAtMs: T0 - MIN });
      expect(await markets.loadFailure('CoinGecko')).toBeNull();

      // The events are written after the reading and its venues; a refused one undoes them all.
      const tickers = [ticker('binance', 'Binance', 'USDT', 600_000)];
      const refused = { events: [event('binance', null as unknown as string, 'listed', T0)], listing: null };
      await expect(record(stores, T0, tickers, refused)).rejects.toThrow();
      expect(await markets.latest(COIN)).toBeNull();
      expect(await markets.latestAtMs(COIN)).toBeNull();
      expect(await markets.knownVenues(COIN)).toEqual([]);
      expect(await markets.eventsSince(COIN, 0)).toEqual([]);
      expect(await markets.venueVolumes(COIN, 0)).toEqual([]);
      expect(await markets.loadFailure(SOURCE)).toEqual({ error: 'HTTP 503', failedAtMs: T0 - MIN });

      await record(stores, T0, tickers);
      expect(await markets.loadFailure(SOURCE)).toBeNull();
      expect(await markets.latestAtMs(COIN)).toBe(T0);
      await markets.saveFailure(SOURCE, { error: 'HTTP 502', failedAtMs: T0 + MIN });
      expect(await markets.loadFailure(SOURCE)).toEqual({ error: 'HTTP 502', failedAtMs: T0 + MIN });
      await markets.saveFailure(SOURCE, null);
      expect(await markets.loadFailure(SOURCE)).toBeNull();
    },
  );
});

function chat(chatId: string, platform: 'telegram' | 'discord' = 'telegram'): NewSubscription {
  return { platform, chatId, threadId: null, guildId: null, createdBy: 'tester', thresholds: [1] };
}

const ref = (chatId: string, platform: 'telegram' | 'discord' = 'telegram'): ChatRef => ({
  platform,
  chatId,
  kind: 'group',
});

function round(ratio: number, nowMs: number) {
  return {
    ratio,
    nowMs,
    fetchedAtMs: nowMs,
    downBound: downBoundOf(ratio, 0.1),
    crossingsOf: crossingsAt(ratio, nowMs, 0.1),
    message: (): Reply => ({ title: 'ratio alert' }) as Reply,
  };
}

/** What the dispatcher sees on `platform`: each chat's oldest undelivered row, with its payload's title. */
async function heads(stores: BackendStores, platform: 'telegram' | 'discord') {
  const rows: Array<[string, OutboxHead['kind'], number, string | undefined]> = [];
  for (const head of await stores.alerts.outbox.heads(platform, 100)) {
    const payload = await stores.alerts.outbox.payload(head.payloadId);
    rows.push([head.chatId, head.kind, head.nextAttemptAtMs, payload?.title]);
  }
  return rows;
}

/** Delivers every undelivered row on `platform` at `nowMs`, as the dispatcher settles them. */
async function deliverAll(stores: BackendStores, platform: 'telegram' | 'discord', nowMs: number): Promise<void> {
  for (;;) {
    const waiting = await stores.alerts.outbox.heads(platform, 100);
    if (waiting.length === 0) return;
    for (const head of waiting) {
      const lease = await stores.alerts.outbox.claim(head.id, nowMs, MIN);
      expect(lease).toBe(nowMs + MIN);
      expect(await stores.alerts.outbox.markSent(head.id, lease, nowMs)).toBe(true);
    }
  }
}

const listing = (title: string, nowMs: number) => ({
  events: [],
  listing: { replyJson: JSON.stringify({ title, lines: [] }), nowMs },
});

describe.each(STORE_BACKENDS)('listing alerts on %s', { timeout: 60_000 }, (backend) => {
  it(
    'writes a listing to the outbox the dispatcher reads, ' +
      'for every active chat with listings on, under each chat cooldown',
    async ({ skip }) => {
      const stores = await storesOn(backend, skip);
      const subs = stores.alerts.subscriptions;
      const a = await subs.subscribe(chat('a'), T0);
      await subs.subscribe(chat('b'), T0);
      await subs.subscribe(chat('c'), T0);
      await subs.subscribe(chat('d', 'discord'), T0);
      const e = await subs.subscribe(chat('e'), T0);
      const f = await subs.subscribe(chat('f'), T0);
      expect(await stores.listings.setListings(ref('c'), false)).toBe(true);
      await subs.setCooldown(f.id, 0);
      await subs.pause(e.id, 'The bot was removed from this chat', T0);
      // Every active chat holds the threshold 1: a ratio alert at T0 + 1 min starts their cooldowns (60 min, f none).
      await stores.alerts.evaluation.evaluate(round(0.5, T0));
      await stores.alerts.evaluation.evaluate(round(1.5, T0 + MIN));
      await deliverAll(stores, 'telegram', T0 + MIN);
      await deliverAll(stores, 'discord', T0 + MIN);
      expect((await subs.byId(a.id))!.lastAlertAtMs).toBe(T0 + MIN);

      const at = T0 + 10 * MIN;
      expect((await record(stores, at, [], listing('OPG now trades on Kraken', at))).alerts).toBe(4);
      expect(await heads(stores, 'telegram')).toEqual([
        ['a', 'listing', T0 + 61 * MIN, 'OPG now trades on Kraken'],
        ['b', 'listing', T0 + 61 * MIN, 'OPG now trades on Kraken'],
        ['f', 'listing', at, 'OPG now trades on Kraken'],
      ]);
      expect(await heads(stores, 'discord')).toEqual([['d', 'listing', T0 + 61 * MIN, 'OPG now trades on Kraken']]);
      // The time each chat gets it counts as its last alert; c (listings off) and e (paused) keep theirs.
      const lastAlert = async (chatId: string, platform: 'telegram' | 'discord' = 'telegram') =>
        (await subs.byChat(platform, chatId))!.lastAlertAtMs;
      expect(await lastAlert('a')).toBe(T0 + 61 * MIN);
      expect(await lastAlert('d', 'discord')).toBe(T0 + 61 * MIN);
      expect(await lastAlert('f')).toBe(at);
      expect(await lastAlert('c')).toBe(T0 + MIN);
      expect(await lastAlert('e')).toBeNull();

      // Three hours on every cooldown is over: the next listing goes out at once, to the same chats.
      await deliverAll(stores, 'telegram', T0 + 61 * MIN);
      await deliverAll(stores, 'discord', T0 + 61 * MIN);
      const later = T0 + 3 * H;
      expect((await record(stores, later, [], listing('OPG now trades on Uniswap', later))).alerts).toBe(4);
      expect(await heads(stores, 'telegram')).toEqual([
        ['a', 'listing', later, 'OPG now trades on Uniswap'],
        ['b', 'listing', later, 'OPG now trades on Uniswap'],
        ['f', 'listing', later, 'OPG now trades on Uniswap'],
      ]);
      // A third within the hour waits for each chat's cooldown (none for f).
      await deliverAll(stores, 'telegram', later);
      const third = later + 5 * MIN;
      expect((await record(stores, third, [], listing('OPG now trades on MEXC', third))).alerts).toBe(4);
      expect((await heads(stores, 'telegram')).map(([chatId, , atMs]) => [chatId, atMs])).toEqual([
        ['a', later + H],
        ['b', later + H],
        ['f', third],
      ]);
    },
  );

  it('writes nothing to the outbox when no chat takes listings, and no listing when there is none', async ({
    skip,
  }) => {
    const stores = await storesOn(backend, skip);
    expect((await record(stores, T0, [], listing('OPG now trades on Kraken', T0))).alerts).toBe(0);
    await stores.alerts.subscriptions.subscribe(chat('a'), T0);
    expect((await record(stores, T0 + H, [])).alerts).toBe(0);
    expect(await heads(stores, 'telegram')).toEqual([]);
    await stores.listings.setListings(ref('a'), false);
    expect((await record(stores, T0 + 2 * H, [], listing('OPG now trades on Kraken', T0 + 2 * H))).alerts).toBe(0);
    expect(await heads(stores, 'telegram')).toEqual([]);
  });

  it('keeps a chat choice to take listings only while it has a subscription', async ({ skip }) => {
    const { alerts, listings } = await storesOn(backend, skip);
    expect(await listings.listingsOn(ref('a'))).toBeNull();
    expect(await listings.setListings(ref('a'), false)).toBe(false);
    expect(await listings.listingsOn(ref('a'))).toBeNull();

    const a = await alerts.subscriptions.subscribe(chat('a'), T0);
    expect(await listings.listingsOn(ref('a'))).toBe(true);
    expect(await listings.listingsOn(ref('a', 'discord'))).toBeNull();
    expect(await listings.setListings(ref('a'), false)).toBe(true);
    expect(await listings.listingsOn(ref('a'))).toBe(false);
    expect(await listings.setListings(ref('a'), false)).toBe(true);
    expect(await listings.listingsOn(ref('a'))).toBe(false);
    expect(await listings.setListings(ref('a'), true)).toBe(true);
    expect(await listings.listingsOn(ref('a'))).toBe(true);

    // The choice goes with the subscription: a new one starts with listings on.
    await listings.setListings(ref('a'), false);
    await alerts.subscriptions.unsubscribe(a.id);
    expect(await listings.listingsOn(ref('a'))).toBeNull();
    await alerts.subscriptions.subscribe(chat('a'), T0 + H);
    expect(await listings.listingsOn(ref('a'))).toBe(true);
  });
});

describe('markets store across connections on a real PostgreSQL', { timeout: 60_000 }, () => {
  it('records overlapping readings one at a time, so the second sees the venues of the first', async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const one = await serverDatabase();
    const other = await openPostgres(one.url);
    onTestFinished(() => other.close());
    const holder = new pg.Client({ connectionString: one.url });
    await holder.connect();
    onTestFinished(() => holder.end());
    const stores = [createPgMarketsStore(one.db), createPgMarketsStore(other.db)];

    // Another connection holds the readings' lock: neither reading is recorded until it lets go.
    await holder.query('SELECT pg_advisory_lock($1, $2)', [ADVISORY_LOCK_NAMESPACE, MARKETS_LOCK_KEY]);
    const seen: VenueHistory[] = [];
    const recordings = stores.map((store, i) => {
      const tickers = [ticker(i === 0 ? 'binance' : 'kraken', i === 0 ? 'Binance' : 'Kraken', 'USDT', 1_000)];
      const structure = summarizeMarkets(tickers);
      return store.recordReading(COIN, reading(T0, tickers), structure, (before) => {
        seen.push(before);
        return { events: [], listing: null, seen: structure.presentVenues };
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual([]);
    expect(await stores[0]!.latestAtMs(COIN)).toBeNull();
    await holder.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_LOCK_NAMESPACE, MARKETS_LOCK_KEY]);
    await Promise.all(recordings);

    expect(seen).toHaveLength(2);
    expect(seen[0]).toEqual({ known: [], previousAtMs: null });
    expect(seen[1]!.previousAtMs).toBe(T0);
    expect(seen[1]!.known.map((v) => v.venueId)).toHaveLength(1);
    expect(byVenue(await stores[1]!.knownVenues(COIN)).map((v) => v.venueId)).toEqual(['binance', 'kraken']);
  });

  it('writes a listing after any alert evaluation in flight, as both set the chats cooldowns', async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const one = await serverDatabase();
    const holder = new pg.Client({ connectionString: one.url });
    await holder.connect();
    onTestFinished(() => holder.end());
    const markets = createPgMarketsStore(one.db);
    await createPgAlertStores(one.db).subscriptions.subscribe(chat('a'), T0);

    // Another connection holds the evaluation's lock: a reading without a listing is recorded, one with waits.
    await holder.query('SELECT pg_advisory_lock($1, $2)', [ADVISORY_LOCK_NAMESPACE, EVALUATION_LOCK_KEY]);
    const quiet = [ticker('binance', 'Binance', 'USDT', 1_000)];
    await markets.recordReading(COIN, reading(T0, quiet), summarizeMarkets(quiet), () => ({
      events: [],
      listing: null,
      seen: [],
    }));
    const listed = markets.recordReading(COIN, reading(T0 + H, quiet), summarizeMarkets(quiet), () => ({
      ...listing('OPG now trades on Kraken', T0 + H),
      seen: [],
    }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await markets.latestAtMs(COIN)).toBe(T0);
    await holder.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_LOCK_NAMESPACE, EVALUATION_LOCK_KEY]);
    expect((await listed).alerts).toBe(1);
    expect(await markets.latestAtMs(COIN)).toBe(T0 + H);
  });
});
