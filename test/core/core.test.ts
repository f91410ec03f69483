import { describe, expect, it } from 'vitest';
import { utc } from '../../src/core/format.js';
import { replyText } from '../../src/core/reply.js';
import { createTestApp, member, testChat } from '../helpers/app.js';
import { createTestClock } from '../helpers/clock.js';
import { marketItem, marketItemWithNulls, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { sendJson } from '../helpers/http-server.js';
import { tempDbPath } from '../helpers/temp-dir.js';
import { expectNoBadText } from '../helpers/expect.js';

const MIN = 60_000;

async function warmApp() {
  const cg = await startCoinGeckoServer([marketItem()]);
  const app = createTestApp({ env: { COINGECKO_API_URL: cg.url }, httpTimeoutMs: 150 });
  await app.core.refresh();
  return { cg, app };
}

describe('core', () => {
  it('causes exactly one CoinGecko request for 1,000 simultaneous stats on a cold start', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    const replies = await Promise.all(Array.from({ length: 1000 }, () => app.runText('stats', testChat, member)));
    expect(cg.marketCalls()).toBe(1);
    expect(replies.every((r) => replyText(r).includes('$41.7M'))).toBe(true);
  });

  it('answers commands from memory once warm', async () => {
    const { cg, app } = await warmApp();
    for (let i = 0; i < 50; i++) await app.runText(i % 2 ? 'volume' : 'supply', testChat, member);
    expect(cg.marketCalls()).toBe(1);
  });

  const faults: Array<[string, (cg: Awaited<ReturnType<typeof startCoinGeckoServer>>) => void, RegExp]> = [
    ['a 500', (cg) => cg.fail((_q, res) => sendJson(res, 500, { error: 'boom' })), /HTTP 500/],
    [
      'a 429 with Retry-After',
      (cg) => cg.fail((_q, res) => sendJson(res, 429, {}, { 'retry-after': '600' })),
      /rate limited/,
    ],
    ['no answer before the timeout', (cg) => cg.fail(() => {}), /no answer within 150 ms/],
    [
      'HTML instead of JSON',
      (cg) =>
        cg.fail((_q, res) => {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html>bad gateway</html>');
        }),
      /not JSON/,
    ],
    ['an empty list', (cg) => cg.setMarkets([]), /no coin with id/],
  ];

  for (const [name, inject, reason] of faults) {
    it(`serves the last good figures, marked stale with their age, after ${name}`, async () => {
      const { cg, app } = await warmApp();
      app.clock.advance(12 * MIN);
      inject(cg);
      await app.core.refresh();
      const r = await app.runText('stats', testChat, member);
      const text = replyText(r);
      expect(text).toContain('$41.7M');
      expect(text).toMatch(/Stale: market data last updated 12 min ago/);
      expect(text).toMatch(reason);
      expectNoBadText(text);
      cg.heal();
      cg.setMarkets([marketItem({ market_cap: 50_000_000 })]);
      app.clock.advance(11 * MIN); // past any Retry-After the fault asked for
      await app.core.refresh();
      const healed = replyText(await app.runText('stats', testChat, member));
      expect(healed).toContain('$50M');
      expect(healed).not.toContain('Stale');
    });
  }

  it('says what is missing when every numeric field is null, without NaN or null', async () => {
    const cg = await startCoinGeckoServer([marketItemWithNulls()]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    for (const cmd of ['stats', 'volume', 'supply']) {
      const text = replyText(await app.runText(cmd, testChat, member));
      expect(text).toMatch(/CoinGecko does not report: .*market cap/);
      expect(text).toContain('n/a');
      expectNoBadText(text);
    }
  });

  it('shows the ratio as not available over a market cap of 0', async () => {
    const cg = await startCoinGeckoServer([marketItem({ market_cap: 0 })]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    const r = await app.runText('stats', testChat, member);
    expect(r.fields.find((f) => f.label === 'Volume / market cap')?.value).toBe('n/a');
    expect(r.fields.find((f) => f.label === 'Market cap')?.value).toMatch(/^n\/a/);
    expectNoBadText(replyText(r));
  });

  it('says plainly that market data is unavailable when the first refresh fails', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    cg.fail((_q, res) => sendJson(res, 503, {}));
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    const r = await app.runText('stats', testChat, member);
    const text = replyText(r);
    expect(text).toMatch(/Market data unavailable: CoinGecko has not answered yet: CoinGecko: HTTP 503/);
    expectNoBadText(text);
    // a burst right after a failed cold start does not hammer the API
    const before = cg.requests.length;
    await Promise.all(Array.from({ length: 20 }, () => app.runText('stats', testChat, member)));
    expect(cg.requests.length).toBe(before);
  });

  it('makes no call before a long Retry-After has passed, even across scheduled refreshes', async () => {
    const { cg, app } = await warmApp();
    cg.fail((_q, res) => sendJson(res, 429, {}, { 'retry-after': '600' }));
    await app.core.refresh();
    const calls = cg.marketCalls();
    app.clock.advance(5 * MIN);
    await app.core.refresh();
    expect(cg.marketCalls()).toBe(calls);
    cg.heal();
    app.clock.advance(5 * MIN);
    await app.core.refresh();
    expect(cg.marketCalls()).toBe(calls + 1);
    expect(app.core.snapshot().market.error).toBeNull();
  });

  it('marks figures stale by age alone when refreshes stop', async () => {
    const { app } = await warmApp();
    app.clock.advance(16 * MIN);
    const text = replyText(await app.runText('stats', testChat, member));
    expect(text).toMatch(/Stale: market data last updated 16 min ago\./);
  });

  it('remembers the last good figures and the failure across a restart', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const clock = createTestClock();
    const databasePath = tempDbPath();
    const first = createTestApp({ env: { COINGECKO_API_URL: cg.url }, clock, databasePath });
    await first.core.refresh();
    clock.advance(MIN);
    cg.fail((_q, res) => sendJson(res, 500, {}));
    await first.core.refresh();
    first.close();
    const calls = cg.requests.length;
    const second = createTestApp({ env: { COINGECKO_API_URL: cg.url }, clock, databasePath });
    const text = replyText(await second.runText('stats', testChat, member));
    expect(cg.requests.length).toBe(calls);
    expect(text).toContain('$41.7M');
    expect(text).toMatch(/Last refresh failed just now \(CoinGecko: HTTP 500/);
  });

  it('says "1 reading", not "1 readings", when history holds one', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    await app.core.refresh();
    const volume = await app.runText('volume', testChat, member);
    expect(volume.fields.find((f) => f.label === '7-day ratio')?.value).toMatch(/, 1 reading\)$/);
  });

  it('computes the 7-day ratio range and supply changes from history', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    const day = 86_400_000;
    const series = [
      { volume: 20_000_000, circ: 100_000_000 },
      { volume: 500_000_000, circ: 110_000_000 },
      { volume: 40_000_000, circ: 120_000_000 },
    ];
    for (const [i, s] of series.entries()) {
      cg.setMarkets([marketItem({ total_volume: s.volume, market_cap: 40_000_000, circulating_supply: s.circ })]);
      await app.core.refresh();
      if (i < series.length - 1) app.clock.advance(4 * day);
    }
    const volume = await app.runText('volume', testChat, member);
    // readings at day 0, 4 and 8: the 7-day window holds day 4 (12.5x) and day 8 (1x)
    expect(volume.fields.find((f) => f.label === '7-day ratio')?.value).toBe(
      'low 1x · high 12.5x · average 6.8x (history since 4 days ago, 2 readings)',
    );
    const supply = await app.runText('supply', testChat, member);
    // 7 days before day 8 there is no reading: the last one before is day 0's, so the change spans 8 days and says so.
    expect(supply.fields.find((f) => f.label === 'Circulating, 7 days')?.value).toBe(
      `+20.00% over 8 days (from 100M OPG on ${utc(app.clock.now() - 8 * day)})`,
    );
    expect(supply.fields.find((f) => f.label === 'Circulating, 30 days')?.value).toBe(
      'not enough history yet (have 8 days, need 30 days)',
    );
    // On day 11, the reading 7 days before is day 4's, at 110M: 120M is +9.09% over exactly the 7 days.
    app.clock.advance(3 * day);
    await app.core.refresh();
    const later = await app.runText('supply', testChat, member);
    expect(later.fields.find((f) => f.label === 'Circulating, 7 days')?.value).toBe('+9.09% (from 110M OPG)');
  });
});
