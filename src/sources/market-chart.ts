/**
 * CoinGecko's `/coins/{id}/market_chart`: history for charts, fetched once per range to fill what the
 * bot's own readings do not cover. Spacing is CoinGecko's choice (1 day: 5-minutely; 2 to 90 days: hourly)
 * and the last point is "now", not on the grid. The call goes through the market source's `getJson`, so it
 * uses the same key header, retry policy and dispatcher as the refresh.
 */
import { z } from 'zod';
import { UpstreamError } from '../core/errors.js';
import type { ChartPoint } from '../core/market-ports.js';
import { COINGECKO, type CoinGeckoSource } from './coingecko.js';

const pair = z.tuple([z.number().finite().nonnegative(), z.number().finite().nonnegative().nullable()]);
const body = z.object({ prices: z.array(pair), market_caps: z.array(pair), total_volumes: z.array(pair) });

/** Validates a `market_chart` answer into points by time, oldest first. A market cap of 0 means unknown. */
export function parseMarketChart(raw: unknown): ChartPoint[] {
  const parsed = body.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UpstreamError(
      COINGECKO,
      `/market_chart: field '${issue.path.join('.') || '(root)'}' ${issue.message.toLowerCase()}`,
    );
  }
  const byTime = new Map<number, ChartPoint>();
  const at = (ms: number): ChartPoint => {
    const atMs = Math.round(ms);
    let p = byTime.get(atMs);
    if (!p) byTime.set(atMs, (p = { atMs, priceUsd: null, marketCapUsd: null, volume24hUsd: null }));
    return p;
  };
  for (const [ms, v] of parsed.data.prices) at(ms).priceUsd = v;
  for (const [ms, v] of parsed.data.market_caps) at(ms).marketCapUsd = v === 0 ? null : v;
  for (const [ms, v] of parsed.data.total_volumes) at(ms).volume24hUsd = v;
  return [...byTime.values()].sort((a, b) => a.atMs - b.atMs);
}

/** One `market_chart` call for the last `days` days, validated. */
export async function fetchMarketChart(
  source: Pick<CoinGeckoSource, 'getJson'>,
  coinId: string,
  days: number,
): Promise<ChartPoint[]> {
  const raw = await source.getJson(`/coins/${encodeURIComponent(coinId)}/market_chart`, {
    vs_currency: 'usd',
    days: String(days),
  });
  return parseMarketChart(raw);
}
