/**
 * The market and chart stores' contract on every backend (a SQLite file, PGlite, the real PostgreSQL
 * server when TEST_DATABASE_URL is set): the same calls through the ports, the same answers.
 */
import { describe, expect, it } from 'vitest';
import type { StoredMarket } from '../../src/core/market-ports.js';
import { STORE_BACKENDS, storesOn } from '../helpers/store-backends.js';

const H = 3_600_000;
const COIN = 'opengradient';

function reading(fetchedAtMs: number, priceUsd: number, volume24hUsd: number | null = 8e7): StoredMarket {
  return {
    source: 'CoinGecko',
    fetchedAtMs,
    data: {
      coinId: COIN,
      symbol: 'OPG',
      name: 'OpenGradient',
      priceUsd,
      priceChange24hPct: -1.25,
      marketCapUsd: 40e6,
      marketCapRank: 812,
      fdvUsd: 4e8,
      volume24hUsd,
      high24hUsd: 0.05,
      low24hUsd: 0.03,
      circulatingSupply: 1e9,
      totalSupply: 1e9,
      maxSupply: null,
      sourceUpdatedAtMs: fetchedAtMs - 30_000,
    },
  };
}

// The first PGlite of a worker compiles and migrates PostgreSQL: seconds, more on a busy machine.
describe.each(STORE_BACKENDS)('market and chart stores on %s', { timeout: 60_000 }, (backend) => {
  it('keeps readings: latest, first, at a moment, series and the ratio over a window', async ({ skip }) => {
    const { market } = await storesOn(backend, skip);
    expect(await market.latest(COIN)).toBeNull();
    expect(await market.ratioStats(COIN, 0)).toBeNull();
    await market.insert(reading(H, 0.04, 4e7));
    await market.insert(reading(2 * H, 0.05, 8e7));
    await market.insert(reading(3 * H, 0.06, null));
    expect(await market.latest(COIN)).toEqual(reading(3 * H, 0.06, null));
    expect(await market.first(COIN)).toEqual(reading(H, 0.04, 4e7));
    expect(await market.at(COIN, 2.5 * H)).toEqual(reading(2 * H, 0.05, 8e7));
    expect(await market.at(COIN, 0)).toBeNull();
    expect(await market.ratioStats(COIN, 0)).toEqual({ low: 1, high: 2, average: 1.5, samples: 2, firstAtMs: H });
    expect((await market.series(COIN, 2 * H)).map((p) => [p.atMs, p.priceUsd, p.circulatingSupply])).toEqual([
      [2 * H, 0.05, 1e9],
      [3 * H, 0.06, 1e9],
    ]);
    expect(await market.latest('other')).toBeNull();
  });

  it('keeps the last failure of a source until it is cleared', async ({ skip }) => {
    const { market } = await storesOn(backend, skip);
    expect(await market.loadFailure('CoinGecko')).toBeNull();
    await market.saveFailure('CoinGecko', { error: 'HTTP 429', failedAtMs: H });
    await market.saveFailure('CoinGecko', { error: 'HTTP 503', failedAtMs: 2 * H });
    expect(await market.loadFailure('CoinGecko')).toEqual({ error: 'HTTP 503', failedAtMs: 2 * H });
    await market.saveFailure('CoinGecko', null);
    expect(await market.loadFailure('CoinGecko')).toBeNull();
  });

  it('thins the bot’s readings to the last one of each bucket, oldest first', async ({ skip }) => {
    const { market, chart } = await storesOn(backend, skip);
    for (let m = 0; m < 180; m += 5) await market.insert(reading(10 * H + m * 60_000, m));
    const rows = await chart.readings(COIN, 10 * H, 13 * H, H);
    expect(rows.map((r) => [r.atMs, r.priceUsd])).toEqual([
      [10 * H + 55 * 60_000, 55],
      [11 * H + 55 * 60_000, 115],
      [12 * H + 55 * 60_000, 175],
    ]);
    expect(await chart.earliestReadingAtMs(COIN, 10.5 * H)).toBe(10 * H + 30 * 60_000);
    expect(await chart.earliestReadingAtMs(COIN, 20 * H)).toBeNull();
  });

  it('keeps a fill’s points once by time, and records the range with its source', async ({ skip }) => {
    const { chart } = await storesOn(backend, skip);
    const point = (atMs: number, priceUsd: number) => ({ atMs, priceUsd, marketCapUsd: null, volume24hUsd: 1 });
    await chart.saveFill(COIN, { days: 1, source: 'CoinGecko', fetchedAtMs: 5 * H, points: 2 }, [
      point(H, 1),
      point(2 * H, 2),
    ]);
    await chart.saveFill(COIN, { days: 7, source: 'CoinGecko', fetchedAtMs: 6 * H, points: 2 }, [
      point(2 * H, 3),
      point(3 * H, 4),
    ]);
    expect((await chart.points(COIN, 0)).map((p) => p.priceUsd)).toEqual([1, 3, 4]);
    expect((await chart.points(COIN, 0, 2 * H)).map((p) => p.atMs)).toEqual([H, 2 * H]);
    expect(await chart.fills(COIN)).toEqual([
      { days: 1, source: 'CoinGecko', fetchedAtMs: 5 * H, points: 2 },
      { days: 7, source: 'CoinGecko', fetchedAtMs: 6 * H, points: 2 },
    ]);
    expect(await chart.latestAtMs(COIN)).toBe(3 * H);
    expect(await chart.earliestAtMs(COIN, 1.5 * H)).toBe(2 * H);
    expect(await chart.latestAtMs('other')).toBeNull();
    expect(await chart.earliestAtMs('other', 0)).toBeNull();
  });
});
