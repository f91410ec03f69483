/**
 * CoinGecko's `/coins/{id}/tickers`: every market the coin trades on, 100 a page, busiest first
 * (`order=volume_desc`), with the ±2% order-book depth (`depth=true`) and DEX pairs by symbol
 * (`dex_pair_format=symbol`). Pages are fetched until one comes back short, through the market source's
 * `getJson` (same key header, retry policy and dispatcher as the refresh). Pages are read a moment apart and
 * ordered by a volume that moves, so a market can slide from one page onto the next and be sent twice: the copy
 * on the later page is dropped, never counted double; markets that only look alike (two pools of one pair on one
 * venue) are told apart and all counted.
 * Every field a figure is built from is validated; a bad ticker fails the whole reading, so the last good
 * one stays in place rather than a half-read market being shown.
 */
import { z } from 'zod';
import { UpstreamError } from '../core/errors.js';
import type { Ticker } from '../core/market-structure.js';
import type { TickersSource } from '../core/markets.js';
import { COINGECKO, type CoinGeckoSource } from './coingecko.js';

/** CoinGecko's page size for tickers. A page shorter than this is the last one. */
export const TICKERS_PER_PAGE = 100;
/** More pages than this is not a coin this bot follows: the reading stops there and says so. */
export const MAX_TICKER_PAGES = 10;

const amount = z
  .number()
  .finite()
  .nonnegative()
  .nullable()
  .optional()
  .transform((v) => v ?? null);

const ticker = z.object({
  base: z.string().min(1),
  target: z.string().min(1),
  market: z.object({ name: z.string().min(1), identifier: z.string().min(1) }),
  converted_volume: z
    .object({ usd: amount })
    .nullable()
    .optional()
    .transform((v) => v?.usd ?? null),
  trust_score: z
    .enum(['green', 'yellow', 'red'])
    .nullable()
    .optional()
    .transform((v) => v ?? null),
  bid_ask_spread_percentage: amount,
  cost_to_move_up_usd: amount,
  cost_to_move_down_usd: amount,
  is_anomaly: z.boolean(),
  is_stale: z.boolean(),
  // No figure is built from it: a date that does not parse is taken as none, never a failed reading.
  last_traded_at: z
    .string()
    .nullable()
    .optional()
    .transform((v) => {
      const ms = v ? Date.parse(v) : Number.NaN;
      return Number.isNaN(ms) ? null : ms;
    }),
  // Only what tells one market from another (`marketKey`): no figure is built from them.
  coin_id: z.string().nullable().optional(),
  target_coin_id: z.string().nullable().optional(),
  trade_url: z.string().nullable().optional(),
});

const page = z.object({ name: z.string().optional(), tickers: z.array(z.unknown()) });

export type CoinGeckoTicker = z.input<typeof ticker>;

function describeIssue(issue: z.ZodIssue, prefix: string): string {
  const path = [prefix, ...issue.path].filter((p) => p !== '').join('.');
  return `field '${path || '(root)'}' ${issue.message.toLowerCase()}`;
}

/** Validates one page of `/coins/{id}/tickers` into tickers, in CoinGecko's order. `first` numbers them in errors. */
export function parseTickersPage(body: unknown, first = 0): Ticker[] {
  return parseKeyedPage(body, first).map((m) => m.ticker);
}

/**
 * What tells one market from another: the venue, the pair by symbol and by CoinGecko coin id (a bridged and a
 * native USDC share a symbol), and its trade link (two pools of one pair on one DEX share the rest).
 */
function marketKey(d: z.output<typeof ticker>): string {
  return JSON.stringify([d.market.identifier, d.base, d.target, d.coin_id, d.target_coin_id, d.trade_url]);
}

function parseKeyedPage(body: unknown, first: number): Array<{ ticker: Ticker; key: string }> {
  const parsed = page.safeParse(body);
  if (!parsed.success) throw new UpstreamError(COINGECKO, `/tickers: ${describeIssue(parsed.error.issues[0]!, '')}`);
  return parsed.data.tickers.map((raw, i) => {
    const t = ticker.safeParse(raw);
    if (!t.success)
      throw new UpstreamError(COINGECKO, `/tickers: ${describeIssue(t.error.issues[0]!, `tickers[${first + i}]`)}`);
    const d = t.data;
    const parsedTicker: Ticker = {
      venueId: d.market.identifier,
      venueName: d.market.name,
      base: d.base,
      target: d.target,
      volumeUsd: d.converted_volume,
      trust: d.trust_score,
      spreadPct: d.bid_ask_spread_percentage,
      depthUpUsd: d.cost_to_move_up_usd,
      depthDownUsd: d.cost_to_move_down_usd,
      anomaly: d.is_anomaly,
      stale: d.is_stale,
      lastTradedAtMs: d.last_traded_at,
    };
    return { ticker: parsedTicker, key: marketKey(d) };
  });
}

export interface TickersAnswer {
  tickers: Ticker[];
  /** Calls made (one per page). */
  pages: number;
  /** True when `MAX_TICKER_PAGES` full pages came back and more may exist. */
  truncated: boolean;
}

/** Every page of tickers for `coinId`, validated; one call per page. */
export async function fetchTickers(
  source: Pick<CoinGeckoSource, 'getJson'>,
  coinId: string,
  maxPages = MAX_TICKER_PAGES,
): Promise<TickersAnswer> {
  const tickers: Ticker[] = [];
  // Markets on the pages read so far: one met again on a later page slid there between the calls.
  const earlier = new Set<string>();
  for (let n = 1; n <= maxPages; n++) {
    const body = await source.getJson(`/coins/${encodeURIComponent(coinId)}/tickers`, {
      include_exchange_logo: 'false',
      depth: 'true',
      order: 'volume_desc',
      // DEX pairs by token symbol (`OPG/USDC`), not contract address (CoinGecko's default).
      dex_pair_format: 'symbol',
      page: String(n),
    });
    const got = parseKeyedPage(body, (n - 1) * TICKERS_PER_PAGE);
    for (const { ticker: t, key } of got) if (!earlier.has(key)) tickers.push(t);
    for (const { key } of got) earlier.add(key);
    if (got.length < TICKERS_PER_PAGE) return { tickers, pages: n, truncated: false };
  }
  return { tickers, pages: maxPages, truncated: true };
}

export const COINGECKO_TICKERS = 'CoinGecko tickers';

/** The tickers source the markets service reads, on the market source's connection and key. */
export function createTickersSource(source: Pick<CoinGeckoSource, 'getJson'>, coinId: string): TickersSource {
  return { name: COINGECKO_TICKERS, fetchTickers: () => fetchTickers(source, coinId) };
}
