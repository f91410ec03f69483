import { describe, expect, it } from 'vitest';
import { RateLimitedError, UpstreamError } from '../../src/core/errors.js';
import { createCoinGeckoSource } from '../../src/sources/coingecko.js';
import { fetchTickers, parseTickersPage } from '../../src/sources/coingecko-tickers.js';
import { createTestClock } from '../helpers/clock.js';
import { marketItem, startCoinGeckoServer, tickerItem } from '../helpers/coingecko-server.js';
import { createTestApp, member, testChat } from '../helpers/app.js';
import { sendJson, loopbackAgent } from '../helpers/http-server.js';

async function setup(tickers: unknown[]) {
  const server = await startCoinGeckoServer([marketItem()]);
  server.setTickers(tickers);
  const clock = createTestClock();
  const source = createCoinGeckoSource({
    dispatcher: loopbackAgent,
    apiUrl: server.url,
    apiKey: 'CG-demo-key',
    plan: 'demo',
    coinId: 'opengradient',
    clock,
    timeoutMs: 2_000,
  });
  return { server, clock, source };
}

const page = (tickers: unknown[]) => ({ name: 'OpenGradient', tickers });
const refusal = (raw: Record<string, unknown>) => {
  try {
    parseTickersPage(page([tickerItem('binance', 'Binance'), raw]));
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('CoinGecko tickers', () => {
  it('reads every field a figure needs, and keeps every null CoinGecko sends as missing', () => {
    const [t] = parseTickersPage(
      page([
        tickerItem('uniswap-v3-base', 'Uniswap V3 (Base)', {
          target: '0x833589FCD6EDB6E08F4C7C32D4F71B54BDA02913',
          converted_volume: null,
          trust_score: null,
          bid_ask_spread_percentage: null,
          cost_to_move_up_usd: null,
          cost_to_move_down_usd: undefined,
          last_traded_at: null,
        }),
      ]),
    );
    expect(t).toEqual({
      venueId: 'uniswap-v3-base',
      venueName: 'Uniswap V3 (Base)',
      base: 'OPG',
      target: '0x833589FCD6EDB6E08F4C7C32D4F71B54BDA02913',
      volumeUsd: null,
      trust: null,
      spreadPct: null,
      depthUpUsd: null,
      depthDownUsd: null,
      anomaly: false,
      stale: false,
      lastTradedAtMs: null,
    });
    const [cex] = parseTickersPage(page([tickerItem('binance', 'Binance')]));
    expect(cex).toMatchObject({
      volumeUsd: 600_000,
      trust: 'green',
      spreadPct: 0.1,
      depthUpUsd: 20_000,
      depthDownUsd: 30_000,
      lastTradedAtMs: Date.parse('2026-11-22T11:58:00Z'),
    });
  });

  it('takes a last_traded_at that is not a date as none (no figure uses it), keeping the ticker', () => {
    const tickers = parseTickersPage(
      page([
        tickerItem('binance', 'Binance', { last_traded_at: 'yesterday' }),
        tickerItem('kraken', 'Kraken', { last_traded_at: '' }),
      ]),
    );
    expect(tickers.map((t) => [t.venueId, t.volumeUsd, t.lastTradedAtMs])).toEqual([
      ['binance', 600_000, null],
      ['kraken', 600_000, null],
    ]);
  });

  it('refuses a ticker with a bad field, naming the ticker and the field', () => {
    expect(refusal(tickerItem('x', 'X', { trust_score: 'blue' }))).toContain("field 'tickers[1].trust_score'");
    expect(refusal(tickerItem('x', 'X', { cost_to_move_down_usd: -5 }))).toContain(
      "field 'tickers[1].cost_to_move_down_usd'",
    );
    expect(refusal(tickerItem('x', 'X', { converted_volume: { usd: Number.NaN } }))).toContain(
      "field 'tickers[1].converted_volume.usd'",
    );
    expect(refusal(tickerItem('x', 'X', { market: { name: 'X' } }))).toContain("field 'tickers[1].market.identifier'");
    expect(refusal(tickerItem('x', 'X', { is_anomaly: undefined }))).toContain("field 'tickers[1].is_anomaly'");
    expect(refusal(tickerItem('x', 'X', { last_traded_at: 1_763_812_680 }))).toContain(
      "field 'tickers[1].last_traded_at' expected string",
    );
    expect(() => parseTickersPage({ error: 'coin not found' })).toThrow("field 'tickers'");
    expect(() => parseTickersPage([])).toThrow(UpstreamError);
  });

  it('reads pages until one comes back short, with the key header, and stops at the page cap saying so', async () => {
    const all = Array.from({ length: 201 }, (_, i) => tickerItem(`venue-${i}`, `Venue ${i}`));
    const { server, source } = await setup(all);
    const read = await fetchTickers(source, 'opengradient');
    expect(read).toMatchObject({ pages: 3, truncated: false });
    expect(read.tickers).toHaveLength(201);
    expect(server.requests.every((r) => r.headers['x-cg-demo-api-key'] === 'CG-demo-key')).toBe(true);
    const capped = await fetchTickers(source, 'opengradient', 2);
    expect(capped).toMatchObject({ pages: 2, truncated: true });
    expect(capped.tickers).toHaveLength(200);
  });

  it('counts a market once when it slides from one page onto the next between two calls', async () => {
    const all = Array.from({ length: 150 }, (_, i) => tickerItem(`venue-${i}`, `Venue ${i}`));
    const { server, source } = await setup(all);
    // Page 2 is read after venue-99's volume fell: it leads page 2 again (and the same venue's other pair is kept).
    server.setTickers([
      ...all.slice(0, 100),
      all[99],
      tickerItem('venue-99', 'Venue 99', { target: 'USDC' }),
      ...all.slice(100),
    ]);
    const read = await fetchTickers(source, 'opengradient');
    expect(read.tickers).toHaveLength(151);
    expect(read.tickers.filter((t) => t.venueId === 'venue-99').map((t) => t.target)).toEqual(['USDT', 'USDC']);
  });

  it('counts every market that only looks like another: two pools of a pair, a bridged and a native USDC', async () => {
    const pool = (url: string, over: Record<string, unknown> = {}) =>
      tickerItem('uniswap_v3', 'Uniswap V3 (Ethereum)', { target: 'USDC', trade_url: url, ...over });
    const page1 = [
      ...Array.from({ length: 98 }, (_, i) => tickerItem(`venue-${i}`, `Venue ${i}`)),
      pool('https://app.uniswap.org/pool/1'),
      pool('https://app.uniswap.org/pool/2'),
    ];
    const { source } = await setup([
      ...page1,
      pool('https://app.uniswap.org/pool/2'), // slid from page 1: dropped
      pool('https://app.uniswap.org/pool/3', { target_coin_id: 'usd-coin-ethereum-bridged' }),
    ]);
    const read = await fetchTickers(source, 'opengradient');
    expect(read.tickers).toHaveLength(101);
    expect(read.tickers.filter((t) => t.venueId === 'uniswap_v3')).toHaveLength(3);
  });

  it('says the figures cover the busiest markets only when there are more pages than it reads', async () => {
    const { source } = await setup(Array.from({ length: 100 }, () => tickerItem('binance', 'Binance')));
    const first = await fetchTickers(source, 'opengradient', 1);
    expect(first).toMatchObject({ truncated: true });
    expect(first.tickers).toHaveLength(100);
    // Exactly 100 tickers: a second, empty page is read, and the reading is complete.
    expect(await fetchTickers(source, 'opengradient')).toMatchObject({ pages: 2, truncated: false });
  });

  it('on a 429 keeps the last good reading and makes no call before Retry-After has passed', async () => {
    const server = await startCoinGeckoServer([marketItem()]);
    server.setTickers([tickerItem('binance', 'Binance')]);
    const app = createTestApp({ env: { COINGECKO_API_URL: server.url } });
    await app.markets.refresh();
    server.fail((_req, res) =>
      sendJson(
        res,
        429,
        { status: { error_code: 429, error_message: "You've exceeded the Rate Limit" } },
        { 'retry-after': '600' },
      ),
    );
    app.clock.advance(3_600_000);
    const calls = server.requests.length;
    expect((await app.markets.refresh()).status).toBe('failed');
    expect(app.markets.current().error).toBe(new RateLimitedError('CoinGecko', 600_000).message);
    expect(server.requests.length).toBe(calls + 1);
    expect((await app.markets.refresh()).status).toBe('skipped');
    expect(server.requests.length).toBe(calls + 1);
    const r = await app.runText('/opg markets', testChat, member);
    expect(r.fields.find((f) => f.label === 'Markets')?.value).toBe('1 market on 1 venue');
    expect(r.notices[0]).toContain('Stale: venue data last read 1 h ago');
  });

  it('after a 429 on tickers, holds the market refresh to the same Retry-After: no call, rate limited', async () => {
    const server = await startCoinGeckoServer([marketItem()]);
    server.setTickers([tickerItem('binance', 'Binance')]);
    const app = createTestApp({ env: { COINGECKO_API_URL: server.url } });
    await app.core.refresh();
    server.fail((_req, res) => sendJson(res, 429, { status: { error_code: 429 } }, { 'retry-after': '600' }));
    expect((await app.markets.refresh()).status).toBe('failed');
    const calls = server.requests.length;
    app.clock.advance(5 * 60_000);
    const { market } = await app.core.refresh();
    expect(server.requests.length).toBe(calls);
    // 600 s asked for, 300 s of it gone.
    expect(market.error).toBe(new RateLimitedError('CoinGecko', 300_000).message);
    expect(market.data).not.toBeNull();
    // Once Retry-After has passed, the refresh calls CoinGecko again.
    server.heal();
    app.clock.advance(5 * 60_000);
    expect((await app.core.refresh()).market.error).toBeNull();
    expect(server.requests.length).toBe(calls + 1);
  });
});
