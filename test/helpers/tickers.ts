/**
 * One market-structure fixture in CoinGecko's shapes, with its figures worked out by hand in the comments,
 * so every test asserts against arithmetic a reader can redo.
 *
 * Page 1 (100 tickers), page 2 (2):
 *   Binance  OPG/USDT  $600,000 green  spread 0.10  depth up 20,000 down 30,000
 *   Binance  OPG/USDC  $100,000 green  spread 0.20  depth up  5,000 down  5,000
 *   Bybit    OPG/USDT  $200,000 yellow spread 0.30  depth up 10,000 down 10,000
 *   Uniswap V3 (Base)  OPG/0x8335…  $50,000, trust, spread and depth null (a DEX with no depth)
 *   Gate     OPG/USDT  $900,000 anomalous (left out)
 *   MEXC     OPG/USDT  $40,000 stale (left out)
 *   Aerodrome (Base): 90 pools of $100 and 4 with no volume figure, nothing else reported
 *   page 2: Kraken OPG/USD $40,000 red spread 0.50 depth up 2,000 down 3,000;
 *           Binance OPG/TRY $1,000 green spread 1.0, depth down 500 only (one-sided: no depth)
 *
 * Counted: 100 markets on 5 venues, $1,000,000. Venues: Binance 701,000 (70.1%), Bybit 200,000 (20%),
 * Uniswap 50,000 (5%), Kraken 40,000 (4%), Aerodrome 9,000 (0.9%).
 * Herfindahl = 70.1² + 20² + 5² + 4² + 0.9² = 4,914.01 + 400 + 25 + 16 + 0.81 = 5,355.82 (10,000 / it = 1.87).
 * Trust: green 701,000 (70.10%), yellow 20.00%, red 4.00%, unrated 59,000 (5.90%).
 * Depth over the 4 markets with both sides: up 37,000 + down 48,000 = 85,000; their volume 940,000;
 * turnover 940,000 / 85,000 = 11.06x. No depth: 96 markets, $60,000 (6.00%).
 * Spread, weighted by volume: 0.10 (600k), 0.20 (100k), 0.30 (200k), 0.50 (40k), 1.0 (1k); total 941,000,
 * half 470,500 is reached at 0.10 → 0.10% (the unweighted median would be 0.30%).
 * Left out: 2 tickers (1 anomalous, 1 stale), $940,000.
 */
import { tickerItem } from './coingecko-server.js';

const USDC_BASE = '0x833589FCD6EDB6E08F4C7C32D4F71B54BDA02913';

export function fixtureTickers(): Record<string, unknown>[] {
  const noDepth = { cost_to_move_up_usd: null, cost_to_move_down_usd: null };
  const page1 = [
    tickerItem('binance', 'Binance'),
    tickerItem('binance', 'Binance', {
      target: 'USDC',
      converted_volume: { btc: 1, eth: 28, usd: 100_000 },
      bid_ask_spread_percentage: 0.2,
      cost_to_move_up_usd: 5_000,
      cost_to_move_down_usd: 5_000,
    }),
    tickerItem('bybit_spot', 'Bybit', {
      converted_volume: { btc: 2, eth: 56, usd: 200_000 },
      trust_score: 'yellow',
      bid_ask_spread_percentage: 0.3,
      cost_to_move_up_usd: 10_000,
      cost_to_move_down_usd: 10_000,
    }),
    tickerItem('uniswap-v3-base', 'Uniswap V3 (Base)', {
      target: USDC_BASE,
      converted_volume: { btc: 0.5, eth: 14, usd: 50_000 },
      trust_score: null,
      bid_ask_spread_percentage: null,
      ...noDepth,
    }),
    tickerItem('gate', 'Gate', { converted_volume: { btc: 9, eth: 250, usd: 900_000 }, is_anomaly: true }),
    tickerItem('mxc', 'MEXC', {
      converted_volume: { btc: 0.4, eth: 11, usd: 40_000 },
      trust_score: 'red',
      is_stale: true,
      last_traded_at: '2026-11-19T02:00:00+00:00',
    }),
  ];
  for (let i = 0; i < 94; i++) {
    page1.push(
      tickerItem('aerodrome-slipstream', 'Aerodrome (Base)', {
        target: `0x${(i + 1).toString(16).padStart(40, '0')}`,
        converted_volume: i < 90 ? { btc: 0.000001, eth: 0.00003, usd: 100 } : { btc: null, eth: null, usd: null },
        trust_score: null,
        bid_ask_spread_percentage: null,
        last_traded_at: null,
        ...noDepth,
      }),
    );
  }
  const page2 = [
    tickerItem('kraken', 'Kraken', {
      target: 'USD',
      converted_volume: { btc: 0.4, eth: 11, usd: 40_000 },
      trust_score: 'red',
      bid_ask_spread_percentage: 0.5,
      cost_to_move_up_usd: 2_000,
      cost_to_move_down_usd: 3_000,
    }),
    tickerItem('binance', 'Binance', {
      target: 'TRY',
      converted_volume: { btc: 0.01, eth: 0.3, usd: 1_000 },
      bid_ask_spread_percentage: 1.0,
      cost_to_move_up_usd: null,
      cost_to_move_down_usd: 500,
    }),
  ];
  return [...page1, ...page2];
}
