import { describe, expect, it } from 'vitest';
import { NetworkError, RateLimitedError, UpstreamError } from '../../src/core/errors.js';
import { createCoinGeckoSource, parseMarkets } from '../../src/sources/coingecko.js';
import { createTestClock } from '../helpers/clock.js';
import { marketItem, marketItemWithNulls, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { sendJson, loopbackAgent } from '../helpers/http-server.js';

async function setup(options: { plan?: 'demo' | 'pro'; apiKey?: string | null; timeoutMs?: number } = {}) {
  const server = await startCoinGeckoServer();
  const clock = createTestClock();
  const source = createCoinGeckoSource({
    dispatcher: loopbackAgent,
    apiUrl: server.url,
    apiKey: options.apiKey ?? null,
    plan: options.plan ?? 'demo',
    coinId: 'opengradient',
    clock,
    timeoutMs: options.timeoutMs ?? 2_000,
  });
  return { server, clock, source };
}

describe('CoinGecko source', () => {
  it('asks /coins/markets once for the configured coin in USD', async () => {
    const { server, source } = await setup();
    const m = await source.fetchMarket();
    expect(server.requests).toHaveLength(1);
    const url = new URL(server.requests[0]!.url, 'http://x');
    expect(url.pathname).toBe('/coins/markets');
    expect(url.searchParams.get('vs_currency')).toBe('usd');
    expect(url.searchParams.get('ids')).toBe('opengradient');
    expect(m.priceUsd).toBe(0.04123);
    expect(m.symbol).toBe('OPG');
    expect(m.sourceUpdatedAtMs).toBe(Date.parse('2026-11-22T11:59:30.000Z'));
  });

  it('sends the key in the header its plan requires', async () => {
    const demo = await setup({ apiKey: 'CG-demo-key' });
    await demo.source.fetchMarket();
    expect(demo.server.requests[0]!.headers['x-cg-demo-api-key']).toBe('CG-demo-key');
    expect(demo.server.requests[0]!.headers['x-cg-pro-api-key']).toBeUndefined();
    const pro = await setup({ apiKey: 'CG-pro-key', plan: 'pro' });
    await pro.source.fetchMarket();
    expect(pro.server.requests[0]!.headers['x-cg-pro-api-key']).toBe('CG-pro-key');
    expect(pro.server.requests[0]!.url).not.toContain('CG-pro-key');
  });

  it('waits out Retry-After on 429, then succeeds', async () => {
    const { server, clock, source } = await setup();
    let calls = 0;
    server.fail((req, res) => {
      calls += 1;
      if (calls === 1)
        return sendJson(res, 429, { status: { error_code: 429, error_message: 'Throttled' } }, { 'retry-after': '7' });
      server.heal();
      sendJson(res, 200, [marketItem()]);
    });
    await expect(source.fetchMarket()).resolves.toMatchObject({ priceUsd: 0.04123 });
    expect(clock.sleeps).toEqual([7_000]);
  });

  it('gives up with RateLimitedError when Retry-After is longer than it may wait', async () => {
    const { server, clock, source } = await setup();
    server.fail((_req, res) => sendJson(res, 429, {}, { 'retry-after': '120' }));
    const err = await source.fetchMarket().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(120_000);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries a 500 with backoff and reports UpstreamError with the status', async () => {
    const { server, clock, source } = await setup();
    server.fail((_req, res) => sendJson(res, 500, { error: 'internal' }));
    const err = await source.fetchMarket().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(500);
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([1_000, 2_000]);
  });

  it('reports NetworkError when no answer comes before the timeout', async () => {
    const { server, source } = await setup({ timeoutMs: 150 });
    server.fail(() => {
      // never answers
    });
    const err = await source.fetchMarket().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toMatch(/no answer within 150 ms/);
  });

  it('refuses HTML in place of JSON without retrying', async () => {
    const { server, source } = await setup();
    server.fail((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Just a moment...</body></html>');
    });
    await expect(source.fetchMarket()).rejects.toThrow(/text\/html that is not JSON/);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses an empty list as an unknown coin', async () => {
    const { server, source } = await setup();
    server.setMarkets([]);
    await expect(source.fetchMarket()).rejects.toThrow(/no coin with id 'opengradient'/);
  });

  it('keeps nulls as missing, never 0, and treats a zero market cap as unknown', () => {
    const nulls = marketItemWithNulls({ market_cap: 0, last_updated: null });
    const m = parseMarkets([nulls], 'opengradient');
    expect(m).toMatchObject({
      priceUsd: null,
      marketCapUsd: null,
      fdvUsd: null,
      volume24hUsd: null,
      circulatingSupply: null,
      marketCapRank: null,
      sourceUpdatedAtMs: null,
    });
  });

  it('names the field when a value has the wrong type', () => {
    expect(() => parseMarkets([marketItem({ total_volume: '12' })], 'opengradient')).toThrow(/field 'total_volume'/);
    expect(() => parseMarkets({ error: 'x' }, 'opengradient')).toThrow(/did not answer with a list/);
  });
});
