/** Shared pieces for benchmarks: the tests' loopback CoinGecko, a movable clock, a temp database, percentiles. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../src/core/clock.js';
import { marketItem, startCoinGeckoServer, type CoinGeckoServer } from '../test/helpers/coingecko-server.js';

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

/**
 * The tests' CoinGecko stand-in (test/helpers/coingecko-server.ts) with OPG's market updated now; tickers and
 * history answer 404, as for a coin CoinGecko has no such data for. The caller closes it.
 */
export async function startBenchCoinGecko(): Promise<CoinGeckoServer> {
  const cg = await startCoinGeckoServer([marketItem({ last_updated: new Date().toISOString() })], {
    closeAfterTest: false,
  });
  cg.setTickers(null);
  return cg;
}
