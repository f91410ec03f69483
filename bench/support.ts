/** Shared pieces for benchmarks: a loopback CoinGecko, a movable clock, a temp database, percentiles. */
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../src/core/clock.js';

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function benchDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'opg-bench-')), 'bench.sqlite');
}

export function benchClock(startMs = Date.now()): Clock & { advance(ms: number): void } {
  let now = startMs;
  return { now: () => now, sleep: async (ms) => void (now += ms), advance: (ms) => void (now += ms) };
}

export async function startBenchCoinGecko(): Promise<{ url: string; calls(): number; close(): Promise<void> }> {
  let calls = 0;
  const body = JSON.stringify([
    {
      id: 'opengradient',
      symbol: 'opg',
      name: 'OpenGradient',
      current_price: 0.04123,
      market_cap: 41_700_000,
      market_cap_rank: 812,
      fully_diluted_valuation: 412_300_000,
      total_volume: 196_000_000,
      high_24h: 0.0451,
      low_24h: 0.0388,
      price_change_percentage_24h: 3.41,
      circulating_supply: 137_000_000,
      total_supply: 1_000_000_000,
      max_supply: 1_000_000_000,
      last_updated: new Date().toISOString(),
    },
  ]);
  const server = createServer((req, res) => {
    calls += 1;
    // `/coins/markets` only: tickers and history answer 404, as for a coin CoinGecko has no such data for.
    const found = (req.url ?? '').includes('/coins/markets');
    res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    res.end(found ? body : '{"error":"Not found"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
