import { describe, expect, it } from 'vitest';
import type { ChatRef } from '../../src/core/command.js';
import { marketItem, startCoinGeckoServer, tickerItem } from '../helpers/coingecko-server.js';
import { createTestApp, member, moderator } from '../helpers/app.js';
import { outboxOf } from '../helpers/alerts.js';
import { createMarketsStore } from '../../src/db/markets-store.js';

const chatA: ChatRef = { platform: 'telegram', chatId: '-1001', kind: 'supergroup' };
const chatB: ChatRef = { platform: 'discord', chatId: '2002', guildId: '3003', kind: 'guild_text' };
const chatC: ChatRef = { platform: 'telegram', chatId: '-1003', kind: 'supergroup' };
const HOUR = 3_600_000;

const binance = tickerItem('binance', 'Binance');
const kraken = tickerItem('kraken', 'Kraken', {
  target: 'USD',
  converted_volume: { usd: 40_000 },
  trust_score: 'red',
  cost_to_move_up_usd: 2_000,
  cost_to_move_down_usd: 3_000,
});
const dex = tickerItem('uniswap-v3-base', 'Uniswap V3 (Base)', {
  converted_volume: { usd: 50_000 },
  cost_to_move_up_usd: null,
  cost_to_move_down_usd: null,
  trust_score: null,
});

async function setup() {
  const cg = await startCoinGeckoServer([marketItem()]);
  cg.setTickers([binance]);
  const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
  for (const chat of [chatA, chatB, chatC]) await app.alerts.subscribe(chat, 'mod');
  return { cg, app };
}

const listingRows = (app: ReturnType<typeof createTestApp>, chat: ChatRef) =>
  outboxOf(app, chat).filter((r) => r.kind === 'listing');

describe('new-listing alerts', () => {
  it(
    'records venues on the first reading after start, ' +
      'then alerts each chat with listings on once when a venue appears',
    async () => {
      const { cg, app } = await setup();
      expect(await app.runText('/opg alerts listings off', chatC, member)).toMatchObject({ kind: 'refused' });
      expect((await app.runText('/opg alerts listings off', chatC, moderator)).title).toBe('Listing alerts off');
      const status = await app.runText('/opg alerts', chatC, member);
      expect(status.fields.find((f) => f.label === 'New-listing alerts')?.value).toBe('off');

      expect((await app.markets.refresh()).alerts).toBe(0);
      cg.setTickers([binance, kraken]);
      app.clock.advance(HOUR);
      const outcome = await app.markets.refresh();
      expect(outcome).toMatchObject({ status: 'ok', listed: ['Kraken'], alerts: 2 });
      for (const chat of [chatA, chatB]) {
        const rows = listingRows(app, chat);
        expect(rows).toHaveLength(1);
        const reply = JSON.parse(rows[0]!.replyJson);
        expect(reply.title).toBe('OPG now trades on Kraken');
        // Kraken: $40,000 of $640,000 = 6.25%; depth 2,000 + 3,000.
        expect(reply.lines).toEqual(['Kraken: OPG/USD, 24h volume $40K (6.25% of all), ±2% depth $5K']);
      }
      expect(listingRows(app, chatC)).toHaveLength(0);

      // The same venues again: nothing more.
      app.clock.advance(HOUR);
      expect((await app.markets.refresh()).alerts).toBe(0);
      expect(listingRows(app, chatA)).toHaveLength(1);
    },
  );

  it(
    'holds a listing inside a chat cooldown until the cooldown ends, ' + 'and counts it as the chat last alert',
    async () => {
      const { cg, app } = await setup();
      await app.markets.refresh();
      await app.alerts.setCooldown(chatA, 60);
      cg.setTickers([binance, kraken]);
      app.clock.advance(HOUR);
      await app.markets.refresh();
      const firstAt = app.clock.now();
      cg.setTickers([binance, kraken, dex]);
      app.clock.advance(10 * 60_000);
      await app.markets.refresh();
      expect(outboxOf(app, chatA).map((r) => r.nextAttemptAtMs)).toEqual([firstAt, firstAt + HOUR]);
      expect((await app.alerts.view(chatA))!.lastAlertAtMs).toBe(firstAt + HOUR);
      const second = JSON.parse(listingRows(app, chatA)[1]!.replyJson);
      expect(second.lines[0]).toBe(
        'Uniswap V3 (Base): OPG/USDT, 24h volume $50K (7.25% of all), ±2% depth not reported by CoinGecko',
      );
    },
  );

  it('shortens a pair CoinGecko still names by contract address to 0x1234…abcd in the alert', async () => {
    const { cg, app } = await setup();
    await app.markets.refresh();
    const aerodrome = tickerItem('aerodrome-slipstream', 'Aerodrome (Base)', {
      target: '0x833589FCD6EDB6E08F4C7C32D4F71B54BDA02913',
      converted_volume: { usd: 10_000 },
      trust_score: null,
      cost_to_move_up_usd: null,
      cost_to_move_down_usd: null,
    });
    cg.setTickers([binance, aerodrome]);
    app.clock.advance(HOUR);
    expect((await app.markets.refresh()).alerts).toBe(3);
    // $10,000 of $610,000 = 1.639…%.
    expect(JSON.parse(listingRows(app, chatA)[0]!.replyJson).lines).toEqual([
      'Aerodrome (Base): OPG/0x8335…2913, 24h volume $10K (1.64% of all), ±2% depth not reported by CoinGecko',
    ]);
  });

  it('announces nothing on the first reading after a restart, even a venue the stored readings lacked', async () => {
    const { cg, app } = await setup();
    await app.markets.refresh();
    const again = createTestApp({
      databasePath: app.database.path,
      clock: app.clock,
      env: { COINGECKO_API_URL: cg.url },
    });
    cg.setTickers([binance, kraken]);
    app.clock.advance(HOUR);
    expect(await again.markets.refresh()).toMatchObject({ listed: ['Kraken'], alerts: 0 });
    expect(listingRows(again, chatA)).toHaveLength(0);
  });

  it(
    'announces a venue the bot has yet to read even after a second app (the CLI) on the same store ran a sync: ' +
      'only the leader reads tickers',
    async () => {
      const { cg, app } = await setup();
      await app.markets.refresh();
      app.clock.advance(HOUR);
      await app.markets.refresh();
      const cli = createTestApp({
        databasePath: app.database.path,
        clock: app.clock,
        env: { COINGECKO_API_URL: cg.url },
      });
      cg.setTickers([binance, kraken]);
      app.clock.advance(10 * 60_000);
      const tickerCalls = cg.tickerCalls();
      await cli.sync();
      app.clock.advance(50 * 60_000);
      expect(await app.markets.refresh()).toMatchObject({ status: 'ok', listed: ['Kraken'], alerts: 3 });
      for (const chat of [chatA, chatB, chatC]) expect(listingRows(app, chat)).toHaveLength(1);
      // The CLI spent none of the CoinGecko budget on tickers: one page, the bot's.
      expect(cg.tickerCalls()).toBe(tickerCalls + 1);
    },
  );

  it('leaves anomalous or stale tickers out of the venues: they neither list nor alert', async () => {
    const { cg, app } = await setup();
    await app.markets.refresh();
    cg.setTickers([binance, { ...kraken, is_anomaly: true }, { ...dex, is_stale: true }]);
    app.clock.advance(HOUR);
    expect(await app.markets.refresh()).toMatchObject({ listed: [], alerts: 0 });
  });

  it(
    'judges presence on every ticker: a venue whose only market goes stale and fresh again neither lists nor ' +
      'leaves; a venue first seen stale lists once its market counts',
    async () => {
      const { cg, app } = await setup();
      await app.markets.refresh();
      await app.alerts.setDigest(chatA, 16 * 60);
      const krakenStale = { ...kraken, is_stale: true };
      // 13:00: Kraken arrives with a stale market only: kept out of every figure, so not news yet.
      cg.setTickers([binance, krakenStale]);
      app.clock.advance(HOUR);
      expect(await app.markets.refresh()).toMatchObject({ status: 'ok', listed: [], gone: [], alerts: 0 });
      // 14:00: its market counts: announced once, to the three chats that take listings.
      cg.setTickers([binance, kraken]);
      app.clock.advance(HOUR);
      expect(await app.markets.refresh()).toMatchObject({ status: 'ok', listed: ['Kraken'], gone: [], alerts: 3 });
      // 15:00 stale, 16:00 fresh: it never left, so nothing is said.
      for (const tickers of [
        [binance, krakenStale],
        [binance, kraken],
      ]) {
        cg.setTickers(tickers);
        app.clock.advance(HOUR);
        expect(await app.markets.refresh()).toMatchObject({ status: 'ok', listed: [], gone: [], alerts: 0 });
      }
      expect(await app.markets.goneSince(0)).toEqual([]);
      // Kraken is known from the reading its market first counted in, seen at every reading since.
      expect(
        (await createMarketsStore(app.database).knownVenues('opengradient')).find((v) => v.venueId === 'kraken'),
      ).toMatchObject({
        firstSeenAtMs: Date.parse('2026-11-22T14:00:00Z'),
        lastSeenAtMs: Date.parse('2026-11-22T16:00:00Z'),
      });
      await app.core.refresh();
      expect(await app.alerts.runDigests()).toBe(1);
      const digest = JSON.parse(outboxOf(app, chatA).at(-1)!.replyJson);
      expect(digest.fields.map((f: { label: string }) => f.label)).not.toContain('Venues no longer listed');

      // A venue absent before, now with a counted market: one alert per chat taking them, once.
      cg.setTickers([binance, krakenStale, dex]);
      app.clock.advance(HOUR);
      expect(await app.markets.refresh()).toMatchObject({ listed: ['Uniswap V3 (Base)'], gone: [], alerts: 3 });
      app.clock.advance(HOUR);
      expect(await app.markets.refresh()).toMatchObject({ listed: [], gone: [], alerts: 0 });
      expect(listingRows(app, chatA).map((r) => JSON.parse(r.replyJson).title)).toEqual([
        'OPG now trades on Kraken',
        'OPG now trades on Uniswap V3 (Base)',
      ]);
    },
  );

  it('records at the first reading after start a venue with only a stale market: no alert once it counts', async () => {
    const { cg, app } = await setup();
    cg.setTickers([binance, { ...kraken, is_stale: true }]);
    expect(await app.markets.refresh()).toMatchObject({ status: 'ok', alerts: 0 });
    cg.setTickers([binance, kraken]);
    app.clock.advance(HOUR);
    expect(await app.markets.refresh()).toMatchObject({ status: 'ok', listed: [], gone: [], alerts: 0 });
    expect(listingRows(app, chatA)).toHaveLength(0);
  });

  it('notes a venue that disappeared in the next digest, and never alerts on it', async () => {
    const { cg, app } = await setup();
    cg.setTickers([binance, kraken]);
    await app.markets.refresh();
    await app.alerts.setDigest(chatA, 13 * 60);
    cg.setTickers([binance]);
    app.clock.advance(HOUR);
    expect(await app.markets.refresh()).toMatchObject({ gone: ['Kraken'], alerts: 0 });
    expect(outboxOf(app, chatA)).toHaveLength(0);
    await app.core.refresh();
    expect(await app.alerts.runDigests()).toBe(1);
    const digest = JSON.parse(outboxOf(app, chatA)[0]!.replyJson);
    expect(digest.fields.find((f: { label: string }) => f.label === 'Venues no longer listed').value).toBe(
      "Kraken (absent from CoinGecko's tickers since 2026-11-22 13:00 UTC)",
    );
  });

  it('does not name in the digest a venue that left and came back, and names one that left twice once', async () => {
    const { cg, app } = await setup();
    cg.setTickers([binance, kraken, dex]);
    await app.markets.refresh();
    for (const tickers of [
      [binance, dex],
      [binance, kraken, dex],
      [binance, kraken],
      [binance, kraken, dex],
      [binance, kraken],
    ]) {
      cg.setTickers(tickers);
      app.clock.advance(HOUR);
      await app.markets.refresh();
    }
    // Kraken left at 13:00 and came back at 14:00; Uniswap left at 15:00 and at 17:00, and is still away.
    expect(
      (await app.markets.goneSince(0)).map((g) => [g.venueName, g.atMs - Date.parse('2026-11-22T12:00:00Z')]),
    ).toEqual([['Uniswap V3 (Base)', 5 * HOUR]]);
  });

  it('announces a venue back after more than a week away, and not one back after an hour', async () => {
    const { cg, app } = await setup();
    cg.setTickers([binance, kraken]);
    await app.markets.refresh();
    app.clock.advance(HOUR);
    await app.markets.refresh();
    cg.setTickers([binance]);
    app.clock.advance(HOUR);
    await app.markets.refresh();
    cg.setTickers([binance, kraken]);
    app.clock.advance(HOUR);
    expect(await app.markets.refresh()).toMatchObject({ listed: [], alerts: 0 });
    cg.setTickers([binance]);
    app.clock.advance(HOUR);
    await app.markets.refresh();
    app.clock.advance(8 * 24 * HOUR);
    await app.markets.refresh();
    cg.setTickers([binance, kraken]);
    app.clock.advance(HOUR);
    expect(await app.markets.refresh()).toMatchObject({ listed: ['Kraken'], alerts: 3 });
  });

  it('refuses listings for a chat with no subscription and stores nothing', async () => {
    const { app } = await setup();
    const lone: ChatRef = { platform: 'telegram', chatId: '-999', kind: 'group' };
    const r = await app.runText('/opg alerts listings on', lone, moderator);
    expect(r.kind).toBe('usage');
    expect(await app.services.listings.listingsOn(lone)).toBeNull();
    expect((await app.runText('/opg alerts listings maybe', chatA, moderator)).kind).toBe('usage');
    expect(await app.services.listings.listingsOn(chatA)).toBe(true);
  });
});
