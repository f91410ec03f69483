/**
 * The markets service over each backend's stores (a SQLite file, PGlite, the real server when
 * TEST_DATABASE_URL is set): the same readings give the same outcomes, listing alerts, digest departures,
 * and the same reading restored after a restart or followed by a standby.
 */
import { describe, expect, it } from 'vitest';
import type { NewSubscription } from '../../src/core/alert-ports.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Ticker } from '../../src/core/market-structure.js';
import { createMarkets, type TickersSource } from '../../src/core/markets.js';
import { UpstreamError } from '../../src/core/errors.js';
import { createTestClock } from '../helpers/clock.js';
import { STORE_BACKENDS, storesOn, type BackendStores } from '../helpers/store-backends.js';

const H = 3_600_000;
const COIN = 'opengradient';

function ticker(venueId: string, venueName: string, volumeUsd: number): Ticker {
  return {
    venueId,
    venueName,
    base: 'OPG',
    target: 'USDT',
    volumeUsd,
    trust: 'green',
    spreadPct: 0.1,
    depthUpUsd: 2_000,
    depthDownUsd: 3_000,
    anomaly: false,
    stale: false,
    lastTradedAtMs: null,
  };
}

const binance = ticker('binance', 'Binance', 600_000);
const kraken = ticker('kraken', 'Kraken', 40_000);

function chat(chatId: string): NewSubscription {
  return { platform: 'telegram', chatId, threadId: null, guildId: null, createdBy: 'tester', thresholds: [1] };
}

/** A tickers source answering what the test sets, or failing with `failure`. */
function tickersSource() {
  const state: { tickers: Ticker[]; failure: Error | null } = { tickers: [binance], failure: null };
  const source: TickersSource = {
    name: 'CoinGecko tickers',
    fetchTickers: async () => {
      if (state.failure) throw state.failure;
      return { tickers: state.tickers, pages: 1, truncated: false };
    },
  };
  return { state, source };
}

function service(stores: BackendStores, source: TickersSource, clock: ReturnType<typeof createTestClock>) {
  return createMarkets({ source, store: stores.markets, coinId: COIN, clock, logger: silentLogger, staleAfterMs: H });
}

describe.each(STORE_BACKENDS)('the markets service on %s', { timeout: 60_000 }, (backend) => {
  it(
    'records venues first, alerts a new one once to the chats taking listings, ' +
      'and names one that left for the digest',
    async ({ skip }) => {
      const stores = await storesOn(backend, skip);
      const clock = createTestClock();
      const t0 = clock.now();
      await stores.alerts.subscriptions.subscribe(chat('a'), t0);
      await stores.alerts.subscriptions.subscribe(chat('b'), t0);
      await stores.listings.setListings({ platform: 'telegram', chatId: 'b', kind: 'group' }, false);
      const { state, source } = tickersSource();
      const markets = service(stores, source, clock);

      expect(await markets.refresh()).toEqual({ status: 'ok', listed: ['Binance'], gone: [], alerts: 0 });
      state.tickers = [binance, kraken];
      clock.advance(H);
      expect(await markets.refresh()).toEqual({ status: 'ok', listed: ['Kraken'], gone: [], alerts: 1 });
      const [head, ...more] = await stores.alerts.outbox.heads('telegram', 10);
      expect(more).toEqual([]);
      expect([head!.chatId, head!.kind, head!.nextAttemptAtMs]).toEqual(['a', 'listing', t0 + H]);
      // Kraken: $40,000 of $640,000 = 6.25%; depth 2,000 + 3,000.
      expect(await stores.alerts.outbox.payload(head!.payloadId)).toMatchObject({
        title: 'OPG now trades on Kraken',
        lines: ['Kraken: OPG/USDT, 24h volume $40K (6.25% of all), ±2% depth $5K'],
      });

      state.tickers = [binance];
      clock.advance(H);
      expect(await markets.refresh()).toEqual({ status: 'ok', listed: [], gone: ['Kraken'], alerts: 0 });
      expect(await markets.goneSince(t0)).toEqual([
        { venueId: 'kraken', venueName: 'Kraken', kind: 'gone', atMs: t0 + 2 * H, lastSeenAtMs: t0 + H },
      ]);
      expect(await markets.goneSince(t0 + 2 * H + 1)).toEqual([]);
      expect((await markets.venueVolumes(t0)).map((v) => [v.atMs - t0, v.venueId, v.volumeUsd])).toEqual([
        [0, 'binance', 600_000],
        [H, 'binance', 600_000],
        [H, 'kraken', 40_000],
        [2 * H, 'binance', 600_000],
      ]);

      // Back after an hour: neither news nor still gone.
      state.tickers = [binance, kraken];
      clock.advance(H);
      expect(await markets.refresh()).toEqual({ status: 'ok', listed: [], gone: [], alerts: 0 });
      expect(await markets.goneSince(t0)).toEqual([]);
    },
  );

  it('restores the last reading and the failure after it on a restart, and a standby follows the store', async ({
    skip,
  }) => {
    const stores = await storesOn(backend, skip);
    const clock = createTestClock();
    const t0 = clock.now();
    const { state, source } = tickersSource();
    const leader = service(stores, source, clock);
    expect((await leader.refresh()).status).toBe('ok');
    clock.advance(H);
    state.failure = new UpstreamError('CoinGecko tickers', 'HTTP 503');
    expect((await leader.refresh()).status).toBe('failed');
    const failedError = leader.current().error;
    expect(failedError).toContain('503');

    const restarted = service(stores, source, clock);
    const restored = await restarted.restored();
    expect(restored).toMatchObject({ fetchedAtMs: t0, error: failedError, failedAtMs: t0 + H });
    expect(restored.data?.structure.venues).toBe(1);

    const following = restarted.follow({ intervalMs: 60_000 });
    try {
      state.failure = null;
      state.tickers = [binance, kraken];
      clock.advance(H);
      expect(await leader.refresh()).toMatchObject({ status: 'ok', listed: ['Kraken'] });
      const followed = await following.poke();
      expect(followed).toMatchObject({ fetchedAtMs: t0 + 2 * H, error: null, failedAtMs: null });
      expect(followed.data?.structure.venues).toBe(2);
      // Following, a scheduled reading reads the store and announces nothing.
      expect(await restarted.refresh()).toEqual({ status: 'skipped', listed: [], gone: [], alerts: 0 });
    } finally {
      following.stop();
    }
  });
});
