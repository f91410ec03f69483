import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { sendJson, startLoopbackServer } from './helpers/http-server.js';
import { expectedTotals, testChain } from './helpers/og-chain.js';
import { startOgNode } from './helpers/og-rpc-server.js';
import { marketItem, startCoinGeckoServer, tickerItem } from './helpers/coingecko-server.js';
import { createTestApp } from './helpers/app.js';
import { createTestClock } from './helpers/clock.js';
import { runEntry } from './helpers/spawn.js';
import { tempDbPath, tempDir } from './helpers/temp-dir.js';

describe('npm run opg (one-shot CLI)', () => {
  it('prints stats with every figure and its as-of time, and exits 0', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const r = await runEntry('src/cli.ts', ['stats'], {
      COINGECKO_API_URL: cg.url,
      DATABASE_PATH: tempDbPath(),
      COINGECKO_API_KEY: 'CG-cli-secret',
    });
    expect(r.code).toBe(0);
    for (const part of [
      'OPG stats',
      'Price',
      '$0.04123',
      '+3.41% 24h',
      '$41.7M',
      'FDV',
      '$412M',
      '$196M',
      '4.7x',
      '137M OPG circulating',
      'CoinGecko · as of',
    ]) {
      expect(r.stdout).toContain(part);
    }
    expect(r.stdout + r.stderr).not.toContain('CG-cli-secret');
    expect(cg.marketCalls()).toBe(1);
  });

  it('runs one refresh and one indexing pass for sync, then answers from the store without another call', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const node = await startOgNode(testChain(300));
    const explorer = await startLoopbackServer((_req, res) =>
      sendJson(res, 200, { total_transactions: '81234', transactions_today: '512' }),
    );
    onTestFinished(() => node.close());
    onTestFinished(() => explorer.close());
    const env = {
      COINGECKO_API_URL: cg.url,
      DATABASE_PATH: tempDbPath(),
      OG_RPC_URL: node.url,
      OG_EXPLORER_API_URL: explorer.url,
    };
    const sync = await runEntry('src/cli.ts', ['sync'], env);
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/Market: CoinGecko as of /);
    const expected = expectedTotals(0, 300 - 12);
    expect(sync.stdout).toContain(
      `Inferences: ${expected.total.toLocaleString('en-US')} counted, indexed to block 288 (head 300)`,
    );
    const volume = await runEntry('src/cli.ts', ['volume'], env);
    expect(volume.code).toBe(0);
    expect(volume.stdout).toContain('Volume / market cap');
    const inferences = await runEntry('src/cli.ts', ['inferences'], env);
    expect(inferences.code).toBe(0);
    expect(inferences.stdout).toContain(expected.total.toLocaleString('en-US'));
    expect(inferences.stdout).toContain(`${expected.tee.toLocaleString('en-US')}`);
    expect(cg.marketCalls()).toBe(1);
    // Tickers are the bot's to read: sync says none is stored rather than reading them.
    expect(sync.stdout).toContain(
      'Venues: no CoinGecko tickers reading stored yet (the bot reads them on MARKETS_CRON)',
    );
    expect(cg.tickerCalls()).toBe(0);
  });

  it('shows the stored tickers reading with its age for markets and sync, and never reads tickers', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    cg.setTickers([tickerItem('binance', 'Binance')]);
    const databasePath = tempDbPath();
    // The bot's reading, three hours old: stale for the hourly schedule.
    const bot = createTestApp({
      databasePath,
      clock: createTestClock(Date.now() - 3 * 3_600_000),
      env: { COINGECKO_API_URL: cg.url },
    });
    expect((await bot.markets.refresh()).status).toBe('ok');
    bot.close();
    // sync also indexes: a local chain, so nothing reaches for the real devnet.
    const node = await startOgNode(testChain(30));
    onTestFinished(() => node.close());
    const env = { COINGECKO_API_URL: cg.url, DATABASE_PATH: databasePath, OG_RPC_URL: node.url };
    const markets = await runEntry('src/cli.ts', ['markets'], env);
    expect(markets.code).toBe(0);
    expect(markets.stdout).toContain('1 market on 1 venue');
    expect(markets.stdout).toMatch(/Stale: venue data last read 3 h (\d+ min )?ago/);
    const sync = await runEntry('src/cli.ts', ['sync'], env);
    expect(sync.stdout).toMatch(
      /Venues: CoinGecko tickers as of .* \(3 h (\d+ min )?ago\) \(read by the bot\), 1 market on 1 venue/,
    );
    expect(cg.tickerCalls()).toBe(1);
  });

  it('answers an unknown command with a short usage reply and exit 2', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const r = await runEntry('src/cli.ts', ['moon'], { COINGECKO_API_URL: cg.url, DATABASE_PATH: tempDbPath() });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Unknown command: moon. Try /opg help.');
  });
});

describe('npm start', () => {
  it('without a token and without a terminal says which variables to set and exits 1', async () => {
    const r = await runEntry('src/main.ts', [], { DATABASE_PATH: tempDbPath() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Set TELEGRAM_BOT_TOKEN and\/or DISCORD_TOKEN/);
  });

  it('refuses a bad configuration with one error listing every bad variable, starting nothing', async () => {
    const dir = tempDir();
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const r = await runEntry('src/main.ts', [], {
      REFRESH_CRON: 'often',
      COINGECKO_API_PLAN: 'gold',
      TELEGRAM_BOT_TOKEN: 'fake-test-token:never-echoed-in-an-error',
      DATABASE_PATH: join(file, 'db.sqlite'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Invalid configuration:\n/);
    expect(r.stderr).toMatch(/\n {2}- REFRESH_CRON: expected a cron expression/);
    expect(r.stderr).toMatch(/COINGECKO_API_PLAN: expected 'demo' or 'pro'/);
    expect(r.stderr).not.toContain('never-echoed');
  });

  it('refuses an unwritable DATABASE_PATH with one clear error', async () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    const r = await runEntry('src/main.ts', [], {
      TELEGRAM_BOT_TOKEN: '1:abc',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      DATABASE_PATH: join(file, 'db.sqlite'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DATABASE_PATH: cannot create, open or migrate/);
  });
});
