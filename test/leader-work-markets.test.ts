import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { projectCoinGeckoCalls, warnPastDemoBudget } from '../src/coingecko-budget.js';
import { leaderWork } from '../src/leader-work.js';
import type { Scheduler } from '../src/scheduler.js';
import { createTestApp } from './helpers/app.js';
import { marketItem, startCoinGeckoServer, tickerItem } from './helpers/coingecko-server.js';
import { recordingLogger } from './helpers/recording-logger.js';

const MIN = 60_000;
/** A scheduler that never fires: only what a term does at its start runs. */
const idle = (): Scheduler => ({ every: () => {}, stop: async () => {} });

/** Starts one leader term on `app` and stops it once its start-up passes have settled. */
async function oneTerm(app: ReturnType<typeof createTestApp>, logger = recordingLogger()) {
  const term = await leaderWork({ app, logger, createScheduler: idle, passGraceMs: 60_000 })();
  // Stopping waits for the passes the start began (within the grace), the tickers one included.
  await term.stop();
  return logger;
}

describe('a leader term start and the CoinGecko budget', () => {
  it('reads tickers at the start only when the stored reading is as old as the MARKETS_CRON gap', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    cg.setTickers([tickerItem('binance', 'Binance')]);
    const first = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    await oneTerm(first);
    expect(cg.tickerCalls()).toBe(1);
    // A restart 50 minutes on (hourly schedule): the stored reading stands until the scheduled one.
    first.clock.advance(50 * MIN);
    const restart = createTestApp({
      databasePath: first.database.path,
      clock: first.clock,
      env: { COINGECKO_API_URL: cg.url },
    });
    const log = await oneTerm(restart);
    expect(cg.tickerCalls()).toBe(1);
    expect(log.lines.map((l) => l.msg)).toContain(
      'stored tickers reading is recent; the first reading of this term is the scheduled one',
    );
    // An hour old: read at the start.
    first.clock.advance(10 * MIN);
    const later = createTestApp({
      databasePath: first.database.path,
      clock: first.clock,
      env: { COINGECKO_API_URL: cg.url },
    });
    await oneTerm(later);
    expect(cg.tickerCalls()).toBe(2);
  });

  it('projects the scheduled calls a month and warns past the Demo plan, not with a Pro key', async () => {
    const defaults = loadConfig({});
    // 30 days: 8,640 five-minute refreshes; 720 hourly readings of one page, 1,440 of two.
    expect(projectCoinGeckoCalls(defaults, 1)).toEqual({ refresh: 8_640, tickers: 720, total: 9_360 });
    expect(projectCoinGeckoCalls(defaults, 2)).toEqual({ refresh: 8_640, tickers: 1_440, total: 10_080 });
    expect(projectCoinGeckoCalls({ ...defaults, marketsCron: '0 */2 * * *' }, 2).total).toBe(9_360);

    const demo = recordingLogger();
    expect(warnPastDemoBudget(defaults, 1, demo)).toBe(false);
    expect(warnPastDemoBudget(defaults, 2, demo)).toBe(true);
    expect(demo.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'REFRESH_CRON and MARKETS_CRON project 10,080 CoinGecko calls a month (before starts, chart fills and ' +
        "retries), past the Demo plan's 10,000; space the schedules out or use a Pro key",
    ]);
    // A Demo key is still the Demo plan; a Pro key is not.
    expect(warnPastDemoBudget(loadConfig({ COINGECKO_API_KEY: 'CG-demo-fake' }), 2, recordingLogger())).toBe(true);
    const pro = loadConfig({ COINGECKO_API_KEY: 'CG-pro-fake', COINGECKO_API_PLAN: 'pro' });
    expect(warnPastDemoBudget(pro, 2, recordingLogger())).toBe(false);
    expect(warnPastDemoBudget({ ...defaults, refreshCron: '* * * * *' }, 1, recordingLogger())).toBe(true);
  });

  it('warns at a term start with the last reading page count', async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    // 100 markets: a full first page, so a second (empty) one is read: 2 pages.
    cg.setTickers(Array.from({ length: 100 }, (_, i) => tickerItem(`venue-${i}`, `Venue ${i}`)));
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    expect((await oneTerm(app)).lines.some((l) => l.level === 'warn' && l.msg.includes('CoinGecko calls'))).toBe(false);
    const again = createTestApp({
      databasePath: app.database.path,
      clock: app.clock,
      env: { COINGECKO_API_URL: cg.url },
    });
    const log = await oneTerm(again);
    expect(log.lines.find((l) => l.level === 'warn' && l.msg.includes('10,080 CoinGecko calls'))?.fields).toMatchObject(
      {
        tickerPages: 2,
      },
    );
  });
});
