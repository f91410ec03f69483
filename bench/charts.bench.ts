/**
 * Chart rendering: a 90-day chart of hourly points (2,160), SVG built and rendered to PNG. Targets on this
 * machine: under 100 ms a render, under 200 KB a PNG.
 */
import type { BenchLog } from './run.js';
import { svgToPng } from '../src/core/charts/png.js';
import { gapThresholdMs } from '../src/core/charts/series.js';
import { lineChartSvg } from '../src/core/charts/svg.js';
import { ratio, usd } from '../src/core/format.js';

const H = 3_600_000;
const END = Date.parse('2026-11-22T12:00:00Z');

export default async function bench(log: BenchLog): Promise<void> {
  // Noisy, realistic-looking series: a slow wave plus deterministic jitter, one point an hour for 90 days.
  const points = Array.from({ length: 90 * 24 }, (_, i) => {
    const jitter = Math.sin(i * 12.9898) * 43758.5453;
    return { atMs: END - (90 * 24 - 1 - i) * H, value: 4 + 3 * Math.sin(i / 40) + (jitter - Math.floor(jitter)) };
  });
  const cases = [
    { name: 'ratio 90d + 3 thresholds', formatY: ratio, zeroBased: true, thresholds: [1, 5, 10] },
    { name: 'price 90d', formatY: (v: number) => usd(v / 100), zeroBased: false, thresholds: [] },
  ];
  for (const c of cases) {
    const build = () =>
      lineChartSvg({
        title: 'OPG volume / market cap · 90 days',
        subtitle: 'CoinGecko · to 2026-11-22 12:00 UTC · latest 4.7x',
        yAxisTitle: '24h volume ÷ market cap (x)',
        startMs: END - 90 * 24 * H,
        endMs: END,
        formatY: c.formatY,
        points,
        gapMs: gapThresholdMs(points, H),
        zeroBased: c.zeroBased,
        thresholds: c.thresholds,
      });
    svgToPng(build()); // warm-up: loads the fonts and the native module
    const runs = 20;
    const times: number[] = [];
    let size = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      size = svgToPng(build()).length;
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(runs / 2)]!;
    const worst = times[runs - 1]!;
    log(
      `render ${c.name}: ${points.length} points, median ${median.toFixed(1)} ms, ` +
        `worst ${worst.toFixed(1)} ms (target < 100 ms), PNG ${(size / 1024).toFixed(1)} KB (target < 200 KB)`,
    );
  }
  await fromStore(log);
}

/** The whole path a command takes: 90 days of five-minute readings in SQLite, merged, drawn, cached. */
export async function fromStore(log: BenchLog): Promise<void> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createApp } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config.js');
  const { silentLogger } = await import('../src/core/logger.js');
  const { createMarketStore } = await import('../src/db/market-store.js');
  const dir = mkdtempSync(join(tmpdir(), 'opg-bench-'));
  const clock = { now: () => END, sleep: async () => {} };
  const app = createApp({
    config: loadConfig({ DATABASE_PATH: join(dir, 'bench.sqlite'), COINGECKO_API_URL: 'http://127.0.0.1:9' }),
    logger: silentLogger,
    clock,
  });
  try {
    const store = createMarketStore(app.database!);
    const step = 5 * 60_000;
    app.database!.sqlite.transaction(() => {
      for (let t = END - 90 * 24 * H; t <= END; t += step) {
        // The SQLite store writes synchronously inside its async signature, so the transaction holds every row.
        void store.insert({
          source: 'CoinGecko',
          fetchedAtMs: t,
          data: {
            coinId: 'opengradient',
            symbol: 'OPG',
            name: 'OpenGradient',
            priceUsd: 0.04 + 0.004 * Math.sin(t / 7e7),
            priceChange24hPct: 1,
            marketCapUsd: 41e6 + 3e6 * Math.sin(t / 9e7),
            marketCapRank: 800,
            fdvUsd: 4e8,
            volume24hUsd: 1.5e8 + 9e7 * Math.sin(t / 3e7),
            high24hUsd: null,
            low24hUsd: null,
            circulatingSupply: 1.37e8,
            totalSupply: 1e9,
            maxSupply: 1e9,
            sourceUpdatedAtMs: null,
          },
        });
      }
    })();
    const charts = app.services.charts!;
    let t0 = performance.now();
    const fill = await charts.ensureHistory('90d');
    const ensureMs = performance.now() - t0;
    t0 = performance.now();
    const first = await charts.marketChart('ratio', '90d', [1, 5, 10]);
    const firstMs = performance.now() - t0;
    t0 = performance.now();
    const again = await charts.marketChart('ratio', '90d', [1, 5, 10]);
    const cachedMs = performance.now() - t0;
    log(
      `from SQLite, 25,921 five-minute readings, 90d ratio: coverage check ${ensureMs.toFixed(1)} ms ` +
        `(${fill.status}), first chart ${firstMs.toFixed(1)} ms (${first?.points.length} hourly points, ` +
        `${((first?.png.length ?? 0) / 1024).toFixed(1)} KB), cached ${cachedMs.toFixed(1)} ms (hit: ${again?.cached})`,
    );
  } finally {
    app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
