import { describe, expect, it } from 'vitest';
import { replyText } from '../../src/core/reply.js';
import type { InferenceHour } from '../../src/core/services.js';
import { createMarketStore } from '../../src/db/market-store.js';
import { createFileRender } from '../../src/adapters/console/render.js';
import { createTestApp, member, testChat } from '../helpers/app.js';
import { createTestClock } from '../helpers/clock.js';
import { marketChartBody, marketItem, startCoinGeckoServer } from '../helpers/coingecko-server.js';
import { sendJson } from '../helpers/http-server.js';
import { pngSize } from '../helpers/png.js';
import { tempDbPath, tempDir } from '../helpers/temp-dir.js';
import { readFileSync } from 'node:fs';
import { expectNoBadText } from '../helpers/expect.js';

const H = 3_600_000;
const DAY = 24 * H;

/** A CoinGecko stand-in whose `market_chart` answers `days` of history ending at the clock's now. */
async function setup(options: { databasePath?: string; clock?: ReturnType<typeof createTestClock> } = {}) {
  const cg = await startCoinGeckoServer([marketItem()]);
  const clock = options.clock ?? createTestClock();
  cg.setMarketChart((days) => marketChartBody({ endMs: clock.now(), days }));
  const app = createTestApp({ env: { COINGECKO_API_URL: cg.url }, clock, databasePath: options.databasePath });
  return { cg, app, clock };
}

/** Stores the bot's own readings every `stepMs` over the last `spanMs`, as refreshes would have. */
async function storeReadings(
  app: Awaited<ReturnType<typeof setup>>['app'],
  spanMs: number,
  stepMs = 5 * 60_000,
): Promise<void> {
  const store = createMarketStore(app.database);
  const now = app.clock.now();
  for (let t = now - spanMs; t < now; t += stepMs) {
    await store.insert({
      source: 'CoinGecko',
      fetchedAtMs: t,
      data: {
        coinId: 'opengradient',
        symbol: 'OPG',
        name: 'OpenGradient',
        priceUsd: 0.04,
        priceChange24hPct: 1,
        marketCapUsd: 40e6,
        marketCapRank: 800,
        fdvUsd: 4e8,
        volume24hUsd: 80e6 + (t % 7) * 1e6,
        high24hUsd: null,
        low24hUsd: null,
        circulatingSupply: 1.37e8,
        totalSupply: 1e9,
        maxSupply: 1e9,
        sourceUpdatedAtMs: null,
      },
    });
  }
}

describe('chart', () => {
  it('answers a 1200 x 675 PNG of the 7-day ratio, filling history once from market_chart', async () => {
    const { cg, app } = await setup();
    const r = await app.runText('/opg chart ratio 7d', testChat, member);
    expect(r.kind).toBe('info');
    expect(r.title).toBe('OPG volume / market cap, 7 days');
    expect(r.image?.filename).toBe('opg-ratio-7d.png');
    expect(pngSize(r.image!.png)).toEqual({ width: 1200, height: 675 });
    expect(r.image!.alt).toMatch(/^Line chart of OPG volume \/ market cap over 7 days/);
    expect(r.lines[0]).toMatch(/^Latest [\d.]+x · low [\d.]+x · high [\d.]+x over 7 days\.$/);
    expect(r.footer).toBe('CoinGecko · as of 2026-11-22 12:00 UTC (just now)');
    expect(r.notices).toEqual([]);
    expectNoBadText(replyText(r));
    expect(cg.marketChartCalls()).toBe(1);
    const kept = app.database.sqlite
      .prepare('select count(*) as n, min(source) as source from market_chart_points')
      .get() as { n: number; source: string };
    expect(kept).toEqual({ n: 7 * 24 + 1, source: 'CoinGecko' });
    expect(cg.requests.find((q) => q.url.includes('market_chart'))?.url).toBe(
      '/coins/opengradient/market_chart?vs_currency=usd&days=7',
    );
  });

  it('draws the 7-day ratio when typed with no arguments', async () => {
    const { app } = await setup();
    const r = await app.runText('/opg chart', testChat, member);
    expect(r.image?.filename).toBe('opg-ratio-7d.png');
  });

  it(
    'keeps filled history in the database, ' + 'so the same range is never fetched twice, even after a restart',
    async () => {
      const databasePath = tempDbPath();
      const clock = createTestClock();
      const first = await setup({ databasePath, clock });
      await first.app.runText('chart price 30d', testChat, member);
      await first.app.runText('chart volume 30d', testChat, member);
      expect(first.cg.marketChartCalls()).toBe(1);
      first.app.close();
      const second = await setup({ databasePath, clock });
      const r = await second.app.runText('chart mcap 30d', testChat, member);
      expect(pngSize(r.image!.png)?.width).toBe(1200);
      expect(second.cg.marketChartCalls()).toBe(0);
      // A longer fill covers shorter ranges too.
      await second.app.runText('chart ratio 7d', testChat, member);
      expect(second.cg.marketChartCalls()).toBe(0);
    },
  );

  it('makes one market_chart call for a range asked for by many chats at once', async () => {
    const { cg, app } = await setup();
    const replies = await Promise.all(
      Array.from({ length: 5 }, () => app.runText('chart ratio 90d', testChat, member)),
    );
    expect(replies.every((r) => r.image !== undefined)).toBe(true);
    expect(cg.marketChartCalls()).toBe(1);
  });

  it('spends no market_chart call when the bot’s own readings cover the range', async () => {
    const { cg, app } = await setup();
    await storeReadings(app, DAY + H);
    const r = await app.runText('chart volume 24h', testChat, member);
    expect(r.image?.filename).toBe('opg-volume-24h.png');
    expect(cg.marketChartCalls()).toBe(0);
  });

  it('answers the same bytes for the same data, from its cache until a refresh brings new data', async () => {
    const { app, clock } = await setup();
    const charts = app.services.charts!;
    await app.runText('chart ratio 7d', testChat, member);
    const a = await charts.marketChart('ratio', '7d', [1, 5]);
    const b = await charts.marketChart('ratio', '7d', [1, 5]);
    expect(a?.cached).toBe(false);
    expect(b?.cached).toBe(true);
    expect(Buffer.from(a!.png).equals(Buffer.from(b!.png))).toBe(true);
    expect((await charts.marketChart('ratio', '7d', [1, 10]))?.cached).toBe(false);
    clock.advance(5 * 60_000);
    await app.core.refresh();
    expect((await charts.marketChart('ratio', '7d', [1, 5]))?.cached).toBe(false);
  });

  it('draws the same bytes in two separate bots given the same data', async () => {
    const one = await setup();
    const two = await setup();
    const [a, b] = await Promise.all([
      one.app.runText('chart ratio 7d', testChat, member),
      two.app.runText('chart ratio 7d', testChat, member),
    ]);
    expect(Buffer.from(a.image!.png).equals(Buffer.from(b.image!.png))).toBe(true);
  });

  it('draws this chat’s alert thresholds and says which lie above the chart', async () => {
    const { app } = await setup();
    const plain = await app.runText('chart ratio 7d', testChat, member);
    app.services.alerts = {
      ...app.services.alerts,
      thresholdsFor: async (chat) => (chat.chatId === testChat.chatId ? [5, 1, 500] : []),
    };
    const r = await app.runText('chart ratio 7d', testChat, member);
    expect(r.lines[1]).toBe('Alert thresholds, dashed: 1x, 5x, 500x (500x above the chart).');
    expect(Buffer.from(r.image!.png).equals(Buffer.from(plain.image!.png))).toBe(false);
  });

  it('lists the choices for an unknown metric or range', async () => {
    const { app, cg } = await setup();
    const bad = await app.runText('chart marketcap', testChat, member);
    expect(bad.kind).toBe('usage');
    expect(bad.title).toBe('metric must be one of: ratio, price, volume, mcap, inferences, venues, callers.');
    expect(bad.lines).toEqual([
      'Usage: /opg chart [ratio|price|volume|mcap|inferences|venues|callers] [24h|7d|30d|90d]',
    ]);
    const range = await app.runText('chart price 1y', testChat, member);
    expect(range.title).toBe('range must be one of: 24h, 7d, 30d, 90d.');
    expect(bad.image).toBeUndefined();
    expect(cg.marketChartCalls()).toBe(0);
  });

  it('says there is no history, with no picture, when nothing is stored and CoinGecko is down', async () => {
    const { app, cg } = await setup();
    cg.fail((_req, res) => sendJson(res, 503, { error: 'down' }));
    const r = await app.runText('chart ratio 7d', testChat, member);
    expect(r.image).toBeUndefined();
    expect(r.title).toBe('No volume / market cap history yet');
    expect(r.lines[0]).toMatch(/no stored volume \/ market cap history.*could not be fetched either/);
    expectNoBadText(replyText(r));
  });

  it('draws what it has and says so when the fill fails, and waits before trying again', async () => {
    const { app, cg, clock } = await setup();
    await storeReadings(app, 2 * DAY, H);
    cg.setMarketChart(() => ({ prices: 'nope' }));
    const r = await app.runText('chart ratio 7d', testChat, member);
    expect(r.image).toBeDefined();
    expect(r.notices).toContain('History covers only 2 days of 7 days (since 2026-11-20 12:00 UTC).');
    expect(r.notices).toContain('Older history could not be fetched from CoinGecko right now.');
    await app.runText('chart ratio 7d', testChat, member);
    expect(cg.marketChartCalls()).toBe(1);
    clock.advance(16 * 60_000);
    cg.setMarketChart((days) => marketChartBody({ endMs: clock.now(), days }));
    const healed = await app.runText('chart ratio 7d', testChat, member);
    expect(cg.marketChartCalls()).toBe(2);
    expect(healed.notices.filter((n) => !n.startsWith('Stale'))).toEqual([]);
  });

  it('says a chart of a single reading is one reading, not a history of 0 s', async () => {
    const { app, cg } = await setup();
    cg.fail((_req, res) => sendJson(res, 503, { error: 'down' }));
    await storeReadings(app, 60_000, 60_000);
    const r = await app.runText('chart volume 24h', testChat, member);
    expect(r.image).toBeDefined();
    expect(r.notices).toContain(
      `Only one reading so far (2026-11-22 11:59 UTC): the line grows as the bot records a reading at every refresh.`,
    );
    expect(replyText(r)).not.toMatch(/covers only|0 s/);
  });

  it('does not fetch a young coin’s short history again within the range', async () => {
    const { app, cg, clock } = await setup();
    cg.setMarketChart(() => marketChartBody({ endMs: clock.now(), days: 2 }));
    const r = await app.runText('chart price 7d', testChat, member);
    expect(r.notices[0]).toMatch(/^History covers only 2 days of 7 days/);
    clock.advance(DAY);
    await app.runText('chart price 7d', testChat, member);
    expect(cg.marketChartCalls()).toBe(1);
  });

  it('shows a gap in history as a gap', async () => {
    const { app, cg, clock } = await setup();
    const now = clock.now();
    cg.setMarketChart((days) => marketChartBody({ endMs: now, days, gaps: [[now - 4 * DAY, now - 3 * DAY]] }));
    const r = await app.runText('chart price 7d', testChat, member);
    const chart = (await app.services.charts.marketChart('price', '7d'))!;
    const steps = chart.points.slice(1).map((p, i) => p.atMs - chart.points[i]!.atMs);
    expect(Math.max(...steps)).toBeGreaterThan(DAY);
    const gapless = await setup();
    const full = await gapless.app.runText('chart price 7d', testChat, member);
    expect(Buffer.from(r.image!.png).equals(Buffer.from(full.image!.png))).toBe(false);
  });

  it('says plainly that inferences are not indexed yet when there is no indexer or no counts', async () => {
    const { app } = await setup();
    const none = await app.runText('chart inferences', testChat, member);
    expect(none.image).toBeUndefined();
    expect(none.lines[0]).toMatch(/^Inferences are not indexed yet/);
    app.services.inferences = { hourly: async () => [] };
    expect((await app.runText('chart inferences 24h', testChat, member)).image).toBeUndefined();
  });

  it('stacks inferences by verification mode', async () => {
    const { app, clock } = await setup();
    const hourStart = Math.floor(clock.now() / H) * H;
    const hours: InferenceHour[] = Array.from({ length: 30 }, (_, i) => ({
      hourMs: hourStart - i * H,
      vanilla: 60,
      tee: 30,
      zkml: 10,
      unknown: 0,
    }));
    let askedSince = 0;
    app.services.inferences = { hourly: async (sinceMs) => ((askedSince = sinceMs), hours) };
    const r = await app.runText('chart inferences 24h', testChat, member);
    expect(askedSince).toBe(hourStart + H - DAY);
    expect(r.title).toBe('OPG inferences by mode, 24 hours');
    expect(r.lines[0]).toBe('2,400 inferences: Vanilla 1,440 (60.00%) · TEE 720 (30.00%) · ZKML 240 (10.00%)');
    expect(pngSize(r.image!.png)).toEqual({ width: 1200, height: 675 });
    expectNoBadText(replyText(r));
  });

  it('is written to a file by the console, which prints its path', async () => {
    const { app } = await setup();
    const dir = tempDir();
    const text = await createFileRender(`${dir}/charts`)(await app.runText('chart ratio 7d', testChat, member));
    const path = `${dir}/charts/opg-ratio-7d.png`;
    expect(text).toContain(`Chart written to ${path}`);
    expect(pngSize(new Uint8Array(readFileSync(path)))?.width).toBe(1200);
  });
});
