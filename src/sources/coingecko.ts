/**
 * CoinGecko, the market source. One `/coins/markets` call gives every figure a stats reply needs, so a
 * refresh costs exactly one call (plus retries of that one call). The key header follows the plan: a Demo
 * key sent to the Pro host, or the reverse, is refused by CoinGecko.
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { RateLimitedError, UpstreamError } from '../core/errors.js';
import type { MarketData } from '../core/snapshot.js';
import { requestJson, withRetries, type RetryPolicy } from './http.js';

export const COINGECKO = 'CoinGecko';

export interface CoinGeckoOptions {
  /** API root, such as `https://api.coingecko.com/api/v3`. */
  apiUrl: string;
  apiKey: string | null;
  /** Picks the key header: `x-cg-demo-api-key` or `x-cg-pro-api-key`. */
  plan: 'demo' | 'pro';
  coinId: string;
  clock: Clock;
  /** Never left to undici's process-wide global agent: see adapters/discord/rest-request.ts. */
  dispatcher: Dispatcher;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Default: 3 attempts, 1 s first backoff, waits out a `Retry-After` of up to 30 s. */
  retry?: RetryPolicy;
}

/** A price, volume or supply: a finite number, or missing. Negative values are not figures CoinGecko means. */
const figure = z
  .number()
  .finite()
  .nonnegative()
  .nullable()
  .optional()
  .transform((v) => v ?? null);

const marketItem = z.object({
  id: z.string(),
  symbol: z.string(),
  name: z.string(),
  current_price: figure,
  market_cap: figure,
  market_cap_rank: z
    .number()
    .int()
    .positive()
    .nullable()
    .optional()
    .transform((v) => v ?? null),
  fully_diluted_valuation: figure,
  total_volume: figure,
  high_24h: figure,
  low_24h: figure,
  price_change_percentage_24h: z
    .number()
    .finite()
    .nullable()
    .optional()
    .transform((v) => v ?? null),
  circulating_supply: figure,
  total_supply: figure,
  max_supply: figure,
  last_updated: z.string().nullable().optional(),
});

export type CoinGeckoMarketItem = z.input<typeof marketItem>;

function describeIssue(issue: z.ZodIssue): string {
  return `field '${issue.path.join('.') || '(root)'}' ${issue.message.toLowerCase()}`;
}

/** Validates one `/coins/markets` answer for `coinId` into `MarketData`. */
export function parseMarkets(body: unknown, coinId: string): MarketData {
  if (!Array.isArray(body)) throw new UpstreamError(COINGECKO, '/coins/markets did not answer with a list');
  const raw = body.find((item) => (item as { id?: unknown })?.id === coinId);
  if (raw === undefined) throw new UpstreamError(COINGECKO, `no coin with id '${coinId}' in /coins/markets`);
  const parsed = marketItem.safeParse(raw);
  if (!parsed.success) throw new UpstreamError(COINGECKO, `/coins/markets: ${describeIssue(parsed.error.issues[0]!)}`);
  const m = parsed.data;
  const updatedMs = m.last_updated ? Date.parse(m.last_updated) : Number.NaN;
  // CoinGecko reports 0 for a market cap or FDV it does not know; 0 would read as a real figure.
  const positiveOrNull = (v: number | null) => (v === null || v === 0 ? null : v);
  return {
    coinId: m.id,
    symbol: m.symbol.toUpperCase(),
    name: m.name,
    priceUsd: m.current_price,
    priceChange24hPct: m.price_change_percentage_24h,
    marketCapUsd: positiveOrNull(m.market_cap),
    marketCapRank: m.market_cap_rank,
    fdvUsd: positiveOrNull(m.fully_diluted_valuation),
    volume24hUsd: m.total_volume,
    high24hUsd: m.high_24h,
    low24hUsd: m.low_24h,
    circulatingSupply: m.circulating_supply,
    totalSupply: m.total_supply,
    maxSupply: m.max_supply,
    sourceUpdatedAtMs: Number.isNaN(updatedMs) ? null : updatedMs,
  };
}

export interface CoinGeckoSource {
  readonly name: string;
  /** One `/coins/markets` call (retried per policy), validated. */
  fetchMarket(): Promise<MarketData>;
  /** GET any CoinGecko path with the right key header, for callers that validate the body themselves. */
  getJson(path: string, query: Record<string, string>): Promise<unknown>;
}

export function createCoinGeckoSource(options: CoinGeckoOptions): CoinGeckoSource {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retry = options.retry ?? { attempts: 3, baseDelayMs: 1_000, maxWaitMs: 30_000 };
  const headers: Record<string, string> = {};
  if (options.apiKey) headers[options.plan === 'pro' ? 'x-cg-pro-api-key' : 'x-cg-demo-api-key'] = options.apiKey;

  /**
   * One `Retry-After` for every caller (the refresh, tickers, chart fills): CoinGecko limits the key, not the
   * path, so after a 429 no request goes out before this time. A call inside it fails (or, per the retry
   * policy, waits) with the same `RateLimitedError` a 429 gives, without a request.
   */
  let notBeforeMs = 0;

  async function attempt(url: string): Promise<unknown> {
    const nowMs = options.clock.now();
    if (nowMs < notBeforeMs) throw new RateLimitedError(COINGECKO, notBeforeMs - nowMs);
    try {
      return await requestJson(
        { dispatcher: options.dispatcher, timeoutMs },
        { source: COINGECKO, url, headers },
        nowMs,
      );
    } catch (err) {
      if (err instanceof RateLimitedError) notBeforeMs = Math.max(notBeforeMs, options.clock.now() + err.retryAfterMs);
      throw err;
    }
  }

  async function getJson(path: string, query: Record<string, string>): Promise<unknown> {
    const url = `${options.apiUrl}${path}?${new URLSearchParams(query).toString()}`;
    return withRetries(() => attempt(url), retry, options.clock);
  }

  return {
    name: COINGECKO,
    getJson,
    async fetchMarket() {
      const body = await getJson('/coins/markets', { vs_currency: 'usd', ids: options.coinId });
      return parseMarkets(body, options.coinId);
    },
  };
}
