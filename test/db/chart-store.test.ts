import { describe, expect, it } from 'vitest';
import { createChartStore } from '../../src/db/chart-store.js';
import { createMarketStore } from '../../src/db/market-store.js';
import { openDatabase } from '../../src/db/open.js';
import { tempDbPath } from '../helpers/temp-dir.js';

const H = 3_600_000;

function open() {
  const database = openDatabase(tempDbPath());
  return { database, charts: createChartStore(database), market: createMarketStore(database) };
}

function reading(fetchedAtMs: number, priceUsd: number) {
  return {
    source: 'CoinGecko',
    fetchedAtMs,
    data: {
      coinId: 'opengradient',
      symbol: 'OPG',
      name: 'OpenGradient',
      priceUsd,
      priceChange24hPct: null,
      marketCapUsd: 40e6,
      marketCapRank: null,
      fdvUsd: null,
      volume24hUsd: 8e7,
      high24hUsd: null,
      low24hUsd: null,
      circulatingSupply: null,
      totalSupply: null,
      maxSupply: null,
      sourceUpdatedAtMs: null,
    },
  };
}

describe('chart store', async () => {
  it('thins the bot’s readings to the last one of each bucket, oldest first', async () => {
    const { database, charts, market } = open();
    for (let m = 0; m < 180; m += 5) await market.insert(reading(10 * H + m * 60_000, m));
    await market.insert(reading(10 * H, 999));
    const rows = await charts.readings('opengradient', 10 * H, 13 * H, H);
    expect(rows.map((r) => [r.atMs, r.priceUsd])).toEqual([
      [10 * H + 55 * 60_000, 55],
      [11 * H + 55 * 60_000, 115],
      [12 * H + 55 * 60_000, 175],
    ]);
    expect(await charts.earliestReadingAtMs('opengradient', 10.5 * H)).toBe(10 * H + 30 * 60_000);
    database.close();
  });

  it('keeps a fill’s points once by time, and records the range with its source', async () => {
    const { database, charts } = open();
    const point = (atMs: number, priceUsd: number) => ({ atMs, priceUsd, marketCapUsd: null, volume24hUsd: 1 });
    await charts.saveFill('opengradient', { days: 1, source: 'CoinGecko', fetchedAtMs: 5 * H, points: 2 }, [
      point(H, 1),
      point(2 * H, 2),
    ]);
    await charts.saveFill('opengradient', { days: 7, source: 'CoinGecko', fetchedAtMs: 6 * H, points: 2 }, [
      point(2 * H, 3),
      point(3 * H, 4),
    ]);
    expect((await charts.points('opengradient', 0)).map((p) => p.priceUsd)).toEqual([1, 3, 4]);
    expect((await charts.fills('opengradient')).map((f) => f.days)).toEqual([1, 7]);
    expect(await charts.latestAtMs('opengradient')).toBe(3 * H);
    expect(await charts.earliestAtMs('opengradient', 1.5 * H)).toBe(2 * H);
    expect(await charts.latestAtMs('other')).toBeNull();
    database.close();
  });
});
