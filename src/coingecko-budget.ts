/**
 * The CoinGecko calls a month the schedules amount to, against the Demo plan's 10,000: one `/coins/markets`
 * call per `REFRESH_CRON` run, and one call per page of tickers per `MARKETS_CRON` run. Starts, leader
 * takeovers, chart history fills and retries come on top (see the README).
 */
import type { Config } from './config.js';
import type { Logger } from './core/logger.js';
import { runsPerMonth } from './scheduler.js';

/** Calls a month (30 days) the Demo plan allows. */
export const DEMO_CALLS_A_MONTH = 10_000;

export interface CallsProjection {
  refresh: number;
  tickers: number;
  total: number;
}

/** The scheduled calls a month, with `tickerPages` pages per tickers reading (the last reading's count). */
export function projectCoinGeckoCalls(
  config: Pick<Config, 'refreshCron' | 'marketsCron'>,
  tickerPages: number,
): CallsProjection {
  const refresh = runsPerMonth(config.refreshCron);
  const tickers = runsPerMonth(config.marketsCron) * Math.max(1, tickerPages);
  return { refresh, tickers, total: refresh + tickers };
}

/**
 * Warns when the schedules project past the Demo plan's calls a month. Only without a Pro key: a Pro plan's
 * allowance is the operator's to know. @returns whether it warned.
 */
export function warnPastDemoBudget(
  config: Pick<Config, 'refreshCron' | 'marketsCron' | 'coingecko'>,
  tickerPages: number,
  logger: Logger,
): boolean {
  if (config.coingecko.plan === 'pro' && config.coingecko.apiKey !== null) return false;
  const projected = projectCoinGeckoCalls(config, tickerPages);
  if (projected.total <= DEMO_CALLS_A_MONTH) return false;
  logger.warn(
    {
      refreshCron: config.refreshCron,
      marketsCron: config.marketsCron,
      tickerPages: Math.max(1, tickerPages),
      callsAMonth: projected,
      limit: DEMO_CALLS_A_MONTH,
    },
    `REFRESH_CRON and MARKETS_CRON project ${projected.total.toLocaleString('en-US')} CoinGecko calls a month ` +
      `(before starts, chart fills and retries), past the Demo plan's ${DEMO_CALLS_A_MONTH.toLocaleString('en-US')}; ` +
      'space the schedules out or use a Pro key',
  );
  return true;
}
