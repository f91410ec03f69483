/**
 * A loopback stand-in for CoinGecko that speaks its real shapes: `/coins/markets` answers an array of flat
 * market objects, and a fault can be switched on for the next answers.
 */
import { MARKET_CAP_USD } from './alerts.js';
import { onTestFinished } from 'vitest';
import type { CoinGeckoMarketItem } from '../../src/sources/coingecko.js';
import { sendJson, startLoopbackServer, type Handler, type LoopbackServer } from './http-server.js';

/** A realistic OPG market object, as `/coins/markets?vs_currency=usd&ids=opengradient` returns it. */
export function marketItem(
  overrides: Partial<Record<keyof CoinGeckoMarketItem | string, unknown>> = {},
): Record<string, unknown> {
  return {
    id: 'opengradient',
    symbol: 'opg',
    name: 'OpenGradient',
    image: 'https://coin-images.coingecko.com/coins/images/1/large/opg.png',
    current_price: 0.04123,
    market_cap: 41_700_000,
    market_cap_rank: 812,
    fully_diluted_valuation: 412_300_000,
    total_volume: 196_000_000,
    high_24h: 0.0451,
    low_24h: 0.0388,
    price_change_24h: 0.00136,
    price_change_percentage_24h: 3.41,
    market_cap_change_24h: 1_375_000,
    market_cap_change_percentage_24h: 3.41,
    circulating_supply: 1_011_400_000 * 0.1355,
    total_supply: 1_000_000_000,
    max_supply: 1_000_000_000,
    ath: 0.1021,
    ath_change_percentage: -59.6,
    ath_date: '2026-04-28T14:05:11.000Z',
    atl: 0.0101,
    atl_change_percentage: 308.2,
    atl_date: '2026-04-21T00:00:00.000Z',
    roi: null,
    last_updated: '2026-11-22T11:59:30.000Z',
    ...overrides,
  };
}

/** A `/coins/markets` item whose volume / market cap is `ratio`, at the ratio fixtures' market cap. */
export function marketItemWithRatio(ratio: number): Record<string, unknown> {
  return marketItem({ market_cap: MARKET_CAP_USD, total_volume: ratio * MARKET_CAP_USD });
}

/** A market object with every numeric field null, as CoinGecko sends for a barely-tracked coin. */
export function marketItemWithNulls(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const nulls = Object.fromEntries(
    [
      'current_price',
      'market_cap',
      'fully_diluted_valuation',
      'total_volume',
      'high_24h',
      'low_24h',
      'price_change_24h',
      'price_change_percentage_24h',
      'market_cap_change_24h',
      'market_cap_change_percentage_24h',
      'circulating_supply',
      'total_supply',
      'max_supply',
      'market_cap_rank',
      'ath',
      'atl',
    ].map((k) => [k, null]),
  );
  return marketItem({ ...nulls, ...overrides });
}

export interface CoinGeckoServer extends LoopbackServer {
  /** What `/coins/markets` answers from now on (the array CoinGecko sends). */
  setMarkets(items: unknown[]): void;
  /** Answer every request with this handler until `heal()`. */
  fail(handler: Handler): void;
  heal(): void;
  /** How many requests reached `/coins/markets`. */
  marketCalls(): number;
  /** What `/coins/{id}/market_chart?days=N` answers from now on, given N. Default: 404. */
  setMarketChart(answer: ((days: number) => unknown) | null): void;
  /** How many requests reached `/coins/{id}/market_chart`. */
  marketChartCalls(): number;
  /**
   * Every ticker `/coins/{id}/tickers` serves, busiest first; served 100 a page as CoinGecko does. Null: 404, as
   * for a coin CoinGecko has no tickers for. Default: none (an empty page).
   */
  setTickers(tickers: unknown[] | null): void;
  /** How many requests reached `/coins/{id}/tickers` (one per page). */
  tickerCalls(): number;
}

/**
 * A ticker as `/coins/{id}/tickers?include_exchange_logo=false&depth=true` returns it (a CEX pair by default).
 * `venue` is the market's identifier; its name is given apart, as CoinGecko does.
 */
export function tickerItem(
  venue: string,
  name: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    base: 'OPG',
    target: 'USDT',
    market: { name, identifier: venue, has_trading_incentive: false },
    last: 0.04121,
    volume: 14_560_000,
    converted_last: { btc: 4.3e-7, eth: 1.2e-5, usd: 0.04121 },
    converted_volume: { btc: 6.2, eth: 170.4, usd: 600_000 },
    trust_score: 'green',
    bid_ask_spread_percentage: 0.1,
    timestamp: '2026-11-22T11:58:00+00:00',
    last_traded_at: '2026-11-22T11:58:00+00:00',
    last_fetch_at: '2026-11-22T11:59:00+00:00',
    is_anomaly: false,
    is_stale: false,
    trade_url: `https://example.com/trade/${venue}/OPG_USDT`,
    token_info_url: null,
    coin_id: 'opengradient',
    target_coin_id: 'tether',
    cost_to_move_up_usd: 20_000,
    cost_to_move_down_usd: 30_000,
    ...overrides,
  };
}

export interface MarketChartShape {
  /** Time of the last point ("now" at CoinGecko). */
  endMs: number;
  days: number;
  /** Spacing; CoinGecko's own is 5 min for 1 day and 1 h for 2 to 90 days. */
  stepMs?: number;
  /** Value at a time; defaults trace a gentle wave around OPG's realistic figures. */
  price?: (ms: number) => number;
  marketCap?: (ms: number) => number;
  volume?: (ms: number) => number;
  /** Leave out points in these [from, to) windows, as a gap. */
  gaps?: ReadonlyArray<readonly [number, number]>;
}

/** A `market_chart` body in CoinGecko's shape: `{prices, market_caps, total_volumes}` of `[ms, value]`. */
export function marketChartBody(shape: MarketChartShape): {
  prices: number[][];
  market_caps: number[][];
  total_volumes: number[][];
} {
  const stepMs = shape.stepMs ?? (shape.days <= 1 ? 300_000 : 3_600_000);
  const wave = (ms: number, periodMs: number) => Math.sin((ms / periodMs) * 2 * Math.PI);
  const price = shape.price ?? ((ms: number) => 0.04 + 0.005 * wave(ms, 2 * 86_400_000));
  const marketCap = shape.marketCap ?? ((ms: number) => 41_000_000 + 3_000_000 * wave(ms, 3 * 86_400_000));
  const volume = shape.volume ?? ((ms: number) => 150_000_000 + 90_000_000 * wave(ms, 86_400_000));
  const startMs = shape.endMs - shape.days * 86_400_000;
  const times: number[] = [];
  for (let t = Math.ceil(startMs / stepMs) * stepMs; t < shape.endMs; t += stepMs) times.push(t);
  times.push(shape.endMs);
  const kept = times.filter((t) => !(shape.gaps ?? []).some(([from, to]) => t >= from && t < to));
  return {
    prices: kept.map((t) => [t, price(t)]),
    market_caps: kept.map((t) => [t, marketCap(t)]),
    total_volumes: kept.map((t) => [t, volume(t)]),
  };
}

export interface CoinGeckoServerOptions {
  /** Close it when the current test finishes. Default true; a benchmark (no test around it) closes it itself. */
  closeAfterTest?: boolean;
}

export async function startCoinGeckoServer(
  initial: unknown[] = [marketItem()],
  options: CoinGeckoServerOptions = {},
): Promise<CoinGeckoServer> {
  let markets = initial;
  let fault: Handler | null = null;
  let marketChart: ((days: number) => unknown) | null = null;
  let tickers: unknown[] | null = [];
  const normal: Handler = (req, res) => {
    const url = new URL(req.url, 'http://x');
    const tickersPath = /\/coins\/([^/]+)\/tickers$/.exec(url.pathname);
    if (tickersPath) {
      if (tickersPath[1] !== 'opengradient' || tickers === null) return sendJson(res, 404, { error: 'coin not found' });
      // The bot asks for DEX pairs by symbol; without it CoinGecko names them by contract address.
      if (url.searchParams.get('dex_pair_format') !== 'symbol')
        return sendJson(res, 400, { error: 'test stand-in: dex_pair_format=symbol was not sent' });
      const page = Number(url.searchParams.get('page') ?? '1');
      if (!Number.isInteger(page) || page < 1) return sendJson(res, 400, { error: 'invalid page' });
      return sendJson(res, 200, { name: 'OpenGradient', tickers: tickers.slice((page - 1) * 100, page * 100) });
    }
    if (/\/coins\/[^/]+\/market_chart$/.test(url.pathname) && marketChart) {
      return sendJson(res, 200, marketChart(Number(url.searchParams.get('days'))));
    }
    if (url.pathname.endsWith('/coins/markets')) {
      const ids = (url.searchParams.get('ids') ?? '').split(',');
      return sendJson(
        res,
        200,
        markets.filter((m) => ids.includes(String((m as { id?: unknown }).id))),
      );
    }
    sendJson(res, 404, { error: 'Not found' });
  };
  const server = await startLoopbackServer((req, res) => (fault ?? normal)(req, res));
  if (options.closeAfterTest ?? true) onTestFinished(() => server.close());
  return {
    ...server,
    setMarkets(items) {
      markets = items;
    },
    fail(handler) {
      fault = handler;
    },
    heal() {
      fault = null;
    },
    marketCalls: () => server.requests.filter((r) => r.url.includes('/coins/markets')).length,
    setMarketChart(answer) {
      marketChart = answer;
    },
    marketChartCalls: () => server.requests.filter((r) => r.url.includes('/market_chart')).length,
    setTickers(next) {
      tickers = next;
    },
    tickerCalls: () => server.requests.filter((r) => r.url.includes('/tickers')).length,
  };
}
