import { describe, expect, it } from 'vitest';
import { replyText } from '../../src/core/reply.js';
import { marketsFields } from '../../commands/markets.js';
import { summarizeMarkets, weightedMedian } from '../../src/core/market-structure.js';
import { parseTickersPage } from '../../src/sources/coingecko-tickers.js';
import { marketItem, startCoinGeckoServer, tickerItem } from '../helpers/coingecko-server.js';
import { createTestApp, testChat, member } from '../helpers/app.js';
import { fixtureTickers } from '../helpers/tickers.js';
import { expectNoBadText } from '../helpers/expect.js';

async function appWithTickers(tickers: unknown[]) {
  const cg = await startCoinGeckoServer([marketItem()]);
  cg.setTickers(tickers);
  const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
  return { cg, app };
}

const field = (r: { fields: Array<{ label: string; value: string }> }, label: string) =>
  r.fields.find((f) => f.label === label)?.value;

describe('market structure from CoinGecko tickers', () => {
  it('computes every figure of the fixture as worked out by hand', () => {
    const s = summarizeMarkets(parseTickersPage({ name: 'OpenGradient', tickers: fixtureTickers() }));
    expect(s.markets).toBe(100);
    expect(s.venues).toBe(5);
    expect(s.volumeUsd).toBeCloseTo(1_000_000, 6);
    expect(s.venueShares.map((v) => [v.venueName, v.volumeUsd, v.sharePct])).toEqual([
      ['Binance', 701_000, expect.closeTo(70.1, 9)],
      ['Bybit', 200_000, expect.closeTo(20, 9)],
      ['Uniswap V3 (Base)', 50_000, expect.closeTo(5, 9)],
      ['Kraken', 40_000, expect.closeTo(4, 9)],
      ['Aerodrome (Base)', expect.closeTo(9_000, 6), expect.closeTo(0.9, 9)],
    ]);
    expect(s.herfindahl).toBeCloseTo(5_355.82, 6);
    expect(s.busiestSharePct).toBeCloseTo(70.1, 9);
    expect(s.trustSharePct!.green).toBeCloseTo(70.1, 9);
    expect(s.trustSharePct!.yellow).toBeCloseTo(20, 9);
    expect(s.trustSharePct!.red).toBeCloseTo(4, 9);
    expect(s.trustSharePct!.unrated).toBeCloseTo(5.9, 9);
    expect(s.depth).toEqual({
      upUsd: 37_000,
      downUsd: 48_000,
      totalUsd: 85_000,
      markets: 4,
      volumeUsd: 940_000,
      turnoverDepthUsd: 85_000,
      marketsWithoutVolume: 0,
    });
    expect(s.turnover).toBeCloseTo(940_000 / 85_000, 12);
    expect(s.marketsWithoutDepth).toBe(96);
    expect(s.volumeWithoutDepthUsd).toBeCloseTo(60_000, 6);
    expect(s.spreadMedianPct).toBe(0.1);
    expect(s.spreadVolumeUsd).toBe(941_000);
    expect(s.marketsWithoutVolume).toBe(4);
    expect(s.excluded).toEqual({ tickers: 2, anomalous: 1, stale: 1, volumeUsd: 940_000 });
    expect(s.venueShares.find((v) => v.venueId === 'uniswap-v3-base')!.depthUsd).toBeNull();
  });

  it(
    'takes a depth of 0 on either side as no depth figure, ' +
      'turnover over markets with depth and volume, a spread of 0 as none',
    async () => {
      // Binance  $100,000, depth 10,000 + 10,000, spread 0.2  → depth, in turnover
      // Uniswap  $500,000, depth 0 + 0, spread 0 (CoinGecko's DEX pool)  → no depth, no spread
      // Kraken    $40,000, depth 0 + 3,000, spread 0.5  → no depth (one side 0)
      // Bybit     no volume figure, depth 5,000 + 5,000, spread 0.3  → depth, not in turnover
      // Counted $640,000. Depth: 2 markets, up 15,000 + down 15,000 = 30,000. Turnover: 100,000 ÷ 20,000 = 5x
      // (with the zeros taken as depth: 640,000 ÷ 33,000 = 19.4x). No depth: 2 markets, 540,000 = 84.375%.
      // Spread: 0.2 (100k), 0.5 (40k); half of 140k is reached at 0.2 (with Uniswap's 0 counted it was 0).
      const tickers = [
        tickerItem('uniswap-v3-base', 'Uniswap V3 (Base)', {
          converted_volume: { usd: 500_000 },
          trust_score: null,
          bid_ask_spread_percentage: 0,
          cost_to_move_up_usd: 0,
          cost_to_move_down_usd: 0,
        }),
        tickerItem('binance', 'Binance', {
          converted_volume: { usd: 100_000 },
          bid_ask_spread_percentage: 0.2,
          cost_to_move_up_usd: 10_000,
          cost_to_move_down_usd: 10_000,
        }),
        tickerItem('kraken', 'Kraken', {
          target: 'USD',
          converted_volume: { usd: 40_000 },
          bid_ask_spread_percentage: 0.5,
          cost_to_move_up_usd: 0,
          cost_to_move_down_usd: 3_000,
        }),
        tickerItem('bybit_spot', 'Bybit', {
          converted_volume: null,
          bid_ask_spread_percentage: 0.3,
          cost_to_move_up_usd: 5_000,
          cost_to_move_down_usd: 5_000,
        }),
      ];
      const s = summarizeMarkets(parseTickersPage({ tickers }));
      expect(s.volumeUsd).toBe(640_000);
      expect(s.depth).toEqual({
        upUsd: 15_000,
        downUsd: 15_000,
        totalUsd: 30_000,
        markets: 2,
        volumeUsd: 100_000,
        turnoverDepthUsd: 20_000,
        marketsWithoutVolume: 1,
      });
      expect(s.turnover).toBe(5);
      expect(s.marketsWithoutDepth).toBe(2);
      expect(s.volumeWithoutDepthUsd).toBe(540_000);
      expect(s.spreadMedianPct).toBe(0.2);
      expect(s.spreadVolumeUsd).toBe(140_000);
      expect(s.venueShares.map((v) => [v.venueName, v.depthUsd])).toEqual([
        ['Uniswap V3 (Base)', null],
        ['Binance', 20_000],
        ['Kraken', null],
        ['Bybit', 10_000],
      ]);

      const { app } = await appWithTickers(tickers);
      await app.core.refresh();
      await app.markets.refresh();
      const r = await app.runText('/opg markets', testChat, member);
      expect(field(r, '±2% depth')).toBe('$30K summed over 2 markets (up $15K + down $15K)');
      expect(field(r, 'Turnover against depth')).toBe(
        '5x: 24h volume of the markets with depth ($100K) ÷ their ±2% depth (up + down); ' +
          '1 market with depth but no volume figure left out of both',
      );
      expect(field(r, 'No depth figure')).toBe(
        '$540K of 24h volume (84.38%) on 2 markets, left out of depth and turnover',
      );
      expect(field(r, 'Bid–ask spread')).toBe('0.20% median weighted by volume (over $140K of volume with a spread)');
      const v = await app.runText('/opg volume', testChat, member);
      expect(field(v, 'Where it trades')).toBe(
        "busiest venue Uniswap V3 (Base) 78.13% of tickers' volume · turnover 5x its ±2% depth on the markets that " +
          'report it, 15.63% of volume (see /opg markets)',
      );
    },
  );

  it('says why turnover is n/a when the markets with depth have no volume figure', () => {
    const s = summarizeMarkets(
      parseTickersPage({
        tickers: [
          tickerItem('bybit_spot', 'Bybit', { converted_volume: null }),
          tickerItem('gate', 'Gate', { cost_to_move_up_usd: 0 }),
        ],
      }),
    );
    expect(s.turnover).toBeNull();
    expect(s.depth.markets).toBe(1);
    expect(marketsFields(s).find((f) => f.label === 'Turnover against depth')!.value).toBe(
      'n/a (no market with depth has a volume figure)',
    );
  });

  it('names no busiest venue and lists none in the top five without volume above 0', async () => {
    // Aerodrome reports no volume figure, Kraken $0: with no volume anywhere the first venue would be the
    // alphabetical first. Then Binance trades $100,000: it alone is listed, with 100% of the volume.
    const aerodrome = tickerItem('aerodrome-slipstream', 'Aerodrome (Base)', {
      converted_volume: null,
      cost_to_move_up_usd: null,
      cost_to_move_down_usd: null,
    });
    const kraken = tickerItem('kraken', 'Kraken', { converted_volume: { usd: 0 } });
    const { cg, app } = await appWithTickers([aerodrome, kraken]);
    await app.core.refresh();
    await app.markets.refresh();
    const r = await app.runText('/opg markets', testChat, member);
    expect(field(r, 'Markets')).toBe('2 markets on 2 venues');
    expect(field(r, 'Busiest venues (share of 24h volume)')).toBe('none with a volume figure');
    expect(field(r, 'Concentration')).toBe('n/a (no venue with a volume figure)');
    const v = await app.runText('/opg volume', testChat, member);
    // Kraken's $0 over its depth of 20,000 + 30,000: a turnover of 0.
    expect(field(v, 'Where it trades')).toBe(
      'busiest venue: none with a volume figure · turnover 0x its ±2% depth (see /opg markets)',
    );

    cg.setTickers([tickerItem('binance', 'Binance', { converted_volume: { usd: 100_000 } }), kraken, aerodrome]);
    app.clock.advance(3_600_000);
    await app.markets.refresh();
    const again = await app.runText('/opg markets', testChat, member);
    expect(field(again, 'Busiest venues (share of 24h volume)')).toBe('1. Binance: $100K (100.00%)');
    expect(field(again, 'Concentration')).toBe(
      'busiest venue 100.00% · Herfindahl 10,000 of 10,000 (as concentrated as 1.0 equal venues)',
    );
  });

  it('takes the weighted median, averaging the two values at an exact half, ignoring what weighs nothing', () => {
    // Sorted 1 (weight 1), 3 (weight 1): the running weight is exactly half (1 of 2) at 1, so (1 + 3) / 2 = 2.
    expect(
      weightedMedian([
        { value: 3, weight: 1 },
        { value: 1, weight: 1 },
      ]),
    ).toBe(2);
    // Volumes $300,000.10 at 0.1%, $200,000 at 0.4%, $500,000.10 at 0.9%: half of $1,000,000.20 is reached
    // exactly after 0.1% and 0.4% ($500,000.10), so the median is (0.4 + 0.9) / 2 = 0.65.
    expect(
      weightedMedian([
        { value: 0.9, weight: 500_000.1 },
        { value: 0.1, weight: 300_000.1 },
        { value: 0.4, weight: 200_000 },
      ]),
    ).toBeCloseTo(0.65, 12);
    // Past half at the middle value: no tie, the middle value itself.
    expect(
      weightedMedian([
        { value: 0.1, weight: 1 },
        { value: 0.4, weight: 3 },
        { value: 0.9, weight: 2 },
      ]),
    ).toBe(0.4);
    expect(
      weightedMedian([
        { value: 1, weight: 1 },
        { value: 2, weight: 1 },
        { value: 9, weight: 3 },
      ]),
    ).toBe(9);
    expect(weightedMedian([{ value: 5, weight: 0 }])).toBeNull();
  });

  it(
    'reads both pages with the documented query and answers /opg markets with every figure, ' +
      'its source and as-of time',
    async () => {
      const { cg, app } = await appWithTickers(fixtureTickers());
      const outcome = await app.markets.refresh();
      expect(outcome.status).toBe('ok');
      const calls = cg.requests.filter((r) => r.url.includes('/tickers')).map((r) => new URL(r.url, 'http://x'));
      expect(calls.map((u) => u.pathname)).toEqual(['/coins/opengradient/tickers', '/coins/opengradient/tickers']);
      expect(calls.map((u) => Object.fromEntries(u.searchParams))).toEqual([
        { include_exchange_logo: 'false', depth: 'true', order: 'volume_desc', dex_pair_format: 'symbol', page: '1' },
        { include_exchange_logo: 'false', depth: 'true', order: 'volume_desc', dex_pair_format: 'symbol', page: '2' },
      ]);

      const r = await app.runText('/opg markets', testChat, member);
      expect(r.title).toBe('OPG markets');
      expect(field(r, 'Markets')).toBe('100 markets on 5 venues');
      expect(field(r, '24h volume counted')).toBe('$1M');
      expect(field(r, 'Busiest venues (share of 24h volume)')).toBe(
        '1. Binance: $701K (70.10%)\n2. Bybit: $200K (20.00%)\n3. Uniswap V3 (Base): $50K (5.00%)\n4. Kraken: $40K ' +
          '(4.00%)\n5. Aerodrome (Base): $9K (0.90%)',
      );
      expect(field(r, 'Concentration')).toBe(
        'busiest venue 70.10% · Herfindahl 5,356 of 10,000 (as concentrated as 1.9 equal venues)',
      );
      expect(field(r, 'Volume by CoinGecko trust score')).toBe(
        'green 70.10% · yellow 20.00% · red 4.00% · unrated 5.90%',
      );
      expect(field(r, '±2% depth')).toBe('$85K summed over 4 markets (up $37K + down $48K)');
      expect(field(r, 'Turnover against depth')).toBe(
        '11.1x: 24h volume of the markets with depth ($940K) ÷ their ±2% depth (up + down)',
      );
      expect(field(r, 'No depth figure')).toBe(
        '$60K of 24h volume (6.00%) on 96 markets, left out of depth and turnover',
      );
      expect(field(r, 'Bid–ask spread')).toBe('0.10% median weighted by volume (over $941K of volume with a spread)');
      expect(field(r, 'Left out')).toBe('2 tickers CoinGecko marks anomalous (1) or stale (1), $940K of 24h volume');
      expect(field(r, 'No volume figure')).toBe('4 markets, counted as markets only');
      expect(r.footer).toBe('CoinGecko tickers · as of 2026-11-22 12:00 UTC (just now)');
      expect(r.notices).toEqual([]);
      expectNoBadText(replyText(r));
    },
  );

  it('adds the busiest venue and turnover to /opg volume', async () => {
    const { app } = await appWithTickers(fixtureTickers());
    await app.core.refresh();
    await app.markets.refresh();
    const r = await app.runText('/opg volume', testChat, member);
    expect(field(r, 'Where it trades')).toBe(
      "busiest venue Binance 70.10% of tickers' volume · turnover 11.1x its ±2% depth on the markets that report it, " +
        '94.00% of volume (see /opg markets)',
    );
    expect(r.footer).toContain('CoinGecko tickers · as of 2026-11-22 12:00 UTC');
  });

  it(
    'refuses a page with a bad field, naming it, ' + 'and keeps the last good reading, marked stale with its age',
    async () => {
      const { cg, app } = await appWithTickers(fixtureTickers());
      await app.markets.refresh();
      const bad = fixtureTickers();
      bad[3] = tickerItem('uniswap-v3-base', 'Uniswap V3 (Base)', { converted_volume: { usd: '50000' } });
      cg.setTickers(bad);
      app.clock.advance(60 * 60_000);
      expect((await app.markets.refresh()).status).toBe('failed');
      expect(app.markets.current().error).toContain("field 'tickers[3].converted_volume.usd'");
      const r = await app.runText('/opg markets', testChat, member);
      expect(field(r, 'Markets')).toBe('100 markets on 5 venues');
      expect(r.notices[0]).toMatch(
        new RegExp(
          /^Stale: venue data last read 1 h ago\. /.source +
            /Last reading failed just now \(CoinGecko: \/tickers: field 'tickers\[3\]/.source,
        ),
      );
    },
  );

  it('marks a reading stale once a scheduled reading was missed: the cron gap plus STALE_AFTER_MINUTES', async () => {
    const { app } = await appWithTickers(fixtureTickers());
    await app.markets.refresh();
    app.clock.advance(75 * 60_000);
    expect((await app.runText('/opg markets', testChat, member)).notices).toEqual([]);
    app.clock.advance(60_000);
    expect((await app.runText('/opg markets', testChat, member)).notices).toEqual([
      'Stale: venue data last read 1 h 16 min ago.',
    ]);
    const twoHourly = createTestApp({
      databasePath: app.database.path,
      clock: app.clock,
      env: { MARKETS_CRON: '0 */2 * * *', COINGECKO_API_URL: 'http://127.0.0.1:9' },
    });
    expect((await twoHourly.runText('/opg markets', testChat, member)).notices).toEqual([]);
  });

  it('says the venues have not been read yet, without calling CoinGecko from the command', async () => {
    const { cg, app } = await appWithTickers(fixtureTickers());
    const r = await app.runText('/opg markets', testChat, member);
    expect(r.notices[0]).toContain('Venue data unavailable: CoinGecko tickers has not been read yet');
    expect(cg.tickerCalls()).toBe(0);
  });

  it(
    'names the venues no longer listed in the last 7 days with when a reading last had them; ' +
      'not one back with only stale markets, nor one gone over a week ago',
    async () => {
      const binance = tickerItem('binance', 'Binance');
      const kraken = tickerItem('kraken', 'Kraken');
      const bybit = tickerItem('bybit', 'Bybit');
      const { cg, app } = await appWithTickers([binance, kraken, bybit]);
      const gone = async () => field(await app.runText('/opg markets', testChat, member), 'No longer listed (7 days)');
      // 12:00 all three.
      await app.markets.refresh();
      expect(await gone()).toBe('none in the last 7 days');
      // 13:00 Kraken and Bybit gone.
      cg.setTickers([binance]);
      app.clock.advance(3_600_000);
      expect(await app.markets.refresh()).toMatchObject({ gone: ['Bybit', 'Kraken'] });
      // 14:00 Bybit back with a stale market only: there, if not counted.
      cg.setTickers([binance, { ...bybit, is_stale: true }]);
      app.clock.advance(3_600_000);
      await app.markets.refresh();
      expect(await gone()).toBe('Kraken: last seen 2026-11-22 12:00 UTC (2 h ago)');
      // Eight days on (hourly readings skipped: one reading suffices), Kraken's departure is past the window.
      app.clock.advance(8 * 86_400_000);
      await app.markets.refresh();
      expect(await gone()).toBe('none in the last 7 days');
    },
  );

  it('answers after a restart from the stored reading', async () => {
    const { app } = await appWithTickers(fixtureTickers());
    await app.markets.refresh();
    const again = createTestApp({ databasePath: app.database.path, env: { COINGECKO_API_URL: 'http://127.0.0.1:9' } });
    const r = await again.runText('/opg markets', testChat, member);
    expect(field(r, 'Markets')).toBe('100 markets on 5 venues');
  });
});
