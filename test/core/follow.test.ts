import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/db/store.js';
import { refreshIfOlderThan } from '../../src/core/buttons.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { replyText } from '../../src/core/reply.js';
import { member, testChat } from '../helpers/app.js';
import { until } from '../helpers/bot-process.js';
import { marketItem, startCoinGeckoServer, type CoinGeckoServer } from '../helpers/coingecko-server.js';
import { fixtureTickers } from '../helpers/tickers.js';
import { tempDbPath } from '../helpers/temp-dir.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from '../helpers/postgres.js';

type Backend = 'sqlite' | 'postgres';

/** Where two instances share their store: one SQLite file, or one database on the real PostgreSQL server. */
async function sharedStore(backend: Backend): Promise<Record<string, string>> {
  if (backend === 'sqlite') return { DATABASE_PATH: tempDbPath() };
  return { DATABASE_URL: await emptyServerDatabase(), DATABASE_PATH: tempDbPath() };
}

/** One instance on the shared store, with its own CoinGecko stand-in so its calls are counted apart. */
async function instance(where: Record<string, string>): Promise<{ app: App; cg: CoinGeckoServer }> {
  const cg = await startCoinGeckoServer([marketItem()]);
  onTestFinished(() => cg.close());
  const config = loadConfig({
    ...where,
    COINGECKO_API_URL: cg.url,
    OG_RPC_URL: 'http://127.0.0.1:9',
    OG_EXPLORER_API_URL: 'http://127.0.0.1:9/api/v2',
  });
  const store = await openStore(config);
  const app = createApp({ config, store, logger: silentLogger, clock: systemClock, httpTimeoutMs: 1_000 });
  onTestFinished(() => app.close());
  return { app, cg };
}

/** A leader and a standby on one shared store; on PostgreSQL, skipped with the reason when no server is given. */
async function twoInstances(backend: Backend, skip: (condition: boolean, note?: string) => void) {
  skip(backend === 'postgres' && !TEST_DATABASE_URL, NO_SERVER);
  const where = await sharedStore(backend);
  return { leader: await instance(where), standby: await instance(where) };
}

// PGlite serves one process, so two instances share PostgreSQL only on a real server.
describe.each(['sqlite', 'postgres'] as const)(
  'a standby following the shared store (%s)',
  { timeout: 30_000 },
  (backend) => {
    it("shows the leader's latest figures within a second of their refresh and never calls CoinGecko itself", async ({
      skip,
    }) => {
      const { leader, standby } = await twoInstances(backend, skip);
      const following = standby.app.core.follow();
      onTestFinished(() => following.stop());

      // Nothing stored yet: the standby says so (figures n/a) rather than fetching.
      const cold = await standby.app.runText('/opg stats', testChat, member);
      expect(cold.notices.join(' ')).toMatch(/Market data unavailable/);
      expect(standby.cg.marketCalls()).toBe(0);

      await leader.app.core.refresh();
      await until(
        'the first reading on the standby',
        () => (standby.app.core.snapshot().market.data?.priceUsd === 0.04123 ? true : undefined),
        undefined,
        1_000,
      );
      expect(replyText(await standby.app.runText('/opg stats', testChat, member))).toContain('$0.04123');

      leader.cg.setMarkets([marketItem({ current_price: 0.05555 })]);
      await leader.app.core.refresh();
      const secondAt = Date.now();
      await until(
        'the second reading on the standby',
        () => (standby.app.core.snapshot().market.data?.priceUsd === 0.05555 ? true : undefined),
        undefined,
        1_000,
      );
      expect(Date.now() - secondAt).toBeLessThan(1_000);
      const shown = await standby.app.runText('/opg stats', testChat, member);
      expect(replyText(shown)).toContain('$0.05555');

      // A Refresh tap on the standby reads the store again; it never fetches.
      await refreshIfOlderThan(standby.app.core, 0);
      await standby.app.core.ready();

      // A failed refresh on the leader keeps the last good figures, and the standby shows the failure too.
      leader.cg.fail((_req, res) => {
        res.statusCode = 500;
        res.end('{"error":"internal"}');
      });
      await leader.app.core.refresh();
      await until(
        'the failure on the standby',
        () => (standby.app.core.snapshot().market.error !== null ? true : undefined),
        undefined,
        1_000,
      );
      expect(standby.app.core.snapshot().market.data?.priceUsd).toBe(0.05555);
      expect(standby.cg.marketCalls()).toBe(0);

      // Back to fetching (it became leader): now a refresh is its own call.
      following.stop();
      await standby.app.core.refresh();
      expect(standby.cg.marketCalls()).toBe(1);
    });

    it("runs no refresh listener (alert evaluation is the leader's) and reads at once when poked", async ({ skip }) => {
      const { leader, standby } = await twoInstances(backend, skip);
      let heard = 0;
      standby.app.core.onRefresh(() => void (heard += 1));
      // A slow poll: only the poke can bring the reading in time.
      const following = standby.app.core.follow({ intervalMs: 60_000 });
      onTestFinished(() => following.stop());
      await following.poke();
      await leader.app.core.refresh();
      const snapshot = await following.poke();
      expect(snapshot.market.data?.priceUsd).toBe(0.04123);
      await standby.app.core.refresh();
      expect(heard).toBe(0);
      expect(standby.cg.marketCalls()).toBe(0);
    });

    it("shows the leader's latest tickers reading (markets) within a second, without reading tickers itself", async ({
      skip,
    }) => {
      const { leader, standby } = await twoInstances(backend, skip);
      leader.cg.setTickers(fixtureTickers());
      standby.cg.setTickers(fixtureTickers());
      const following = standby.app.markets.follow();
      onTestFinished(() => following.stop());
      expect(standby.app.markets.current().data).toBeNull();

      expect((await leader.app.markets.refresh()).status).toBe('ok');
      await until(
        'the tickers reading on the standby',
        () => (standby.app.markets.current().data !== null ? true : undefined),
        undefined,
        1_000,
      );
      expect(standby.app.markets.current().data?.structure.venues).toBe(5);
      expect(replyText(await standby.app.runText('/opg markets', testChat, member))).toContain('Binance');
      // Its scheduled reading, were one to run, reads the store.
      expect((await standby.app.markets.refresh()).status).toBe('skipped');
      expect(standby.cg.tickerCalls()).toBe(0);
      following.stop();
      expect((await standby.app.markets.refresh()).status).toBe('ok');
      expect(standby.cg.tickerCalls()).toBeGreaterThan(0);
    });
  },
);
