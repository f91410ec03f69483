import { describe, expect, it } from 'vitest';
import { marketItem, startCoinGeckoServer, tickerItem } from '../helpers/coingecko-server.js';
import { createTestApp, member, testChat } from '../helpers/app.js';
import { pngSize } from '../helpers/png.js';

const HOUR = 3_600_000;
const t = (venue: string, name: string, usd: number) => tickerItem(venue, name, { converted_volume: { usd } });

describe('chart venues', () => {
  it("stacks the busiest venues' daily volume from stored readings, each day at its last reading", async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    // Day 1 (Nov 22): a 12:00 reading, then a 23:00 one that is the day's bar.
    cg.setTickers([t('binance', 'Binance', 500), t('bybit_spot', 'Bybit', 100)]);
    await app.markets.refresh();
    app.clock.advance(11 * HOUR);
    cg.setTickers([
      t('binance', 'Binance', 600),
      t('bybit_spot', 'Bybit', 200),
      t('kraken', 'Kraken', 50),
      t('gate', 'Gate', 10),
    ]);
    await app.markets.refresh();
    // Day 2 (Nov 23), 05:00.
    app.clock.advance(6 * HOUR);
    cg.setTickers([
      t('binance', 'Binance', 400),
      t('bybit_spot', 'Bybit', 300),
      t('kraken', 'Kraken', 70),
      t('mxc', 'MEXC', 5),
    ]);
    await app.markets.refresh();

    const r = await app.runText('/opg chart venues 7d', testChat, member);
    expect(r.title).toBe('OPG volume by venue, 7 days');
    // Binance 600 + 400, Bybit 200 + 300, Kraken 50 + 70, other: Gate 10 + MEXC 5.
    expect(r.lines[0]).toBe('Summed daily volume: Binance $1K · Bybit $500.00 · Kraken $120.00 · other venues $15.00.');
    expect(r.notices).toEqual(['History covers 2 of 7 days.']);
    expect(r.image).toBeDefined();
    expect(pngSize(r.image!.png)).toEqual({ width: 1200, height: 675 });
    expect(r.footer).toBe('CoinGecko tickers · days to 2026-11-23 · as of 2026-11-23 05:00 UTC (just now)');

    // Two hours on with no reading (hourly schedule, stale after the missed one): the chart says so.
    app.clock.advance(2 * HOUR);
    const later = await app.runText('/opg chart venues 7d', testChat, member);
    expect(later.notices).toEqual(['Stale: venue data last read 2 h ago.', 'History covers 2 of 7 days.']);
    expect(later.footer).toBe('CoinGecko tickers · days to 2026-11-23 · as of 2026-11-23 05:00 UTC (2 h ago)');
  });

  it('refuses 24h with the ranges it draws, and says when nothing is stored', async () => {
    const app = createTestApp({ env: { COINGECKO_API_URL: 'http://127.0.0.1:9' } });
    const refused = await app.runText('/opg chart venues 24h', testChat, member);
    expect(refused.kind).toBe('usage');
    expect(refused.lines.join(' ') + refused.title).toContain('choose 7d, 30d or 90d');
    const empty = await app.runText('/opg chart venues 30d', testChat, member);
    expect(empty.title).toBe('No venue history yet');
    expect(empty.image).toBeUndefined();
  });
});
