/**
 * `npm run opg -- <words>`: one command through the console front end, then exit. `sync` runs one refresh
 * of every source and exits; `store copy --to postgres://…` moves the SQLite store (see store-cli.ts).
 * A stored market reading is used when fresh, so repeated runs do not spend API calls. CoinGecko's tickers are
 * never read here: the stored reading is shown with its age. A reading marks venues seen, and only the bot's
 * leader, which sends the listing alerts, may do that (a CLI reading would swallow a new listing).
 * Exit codes: 0 an answer, 1 an error or bad configuration, 2 a usage reply.
 */
import { openStore } from './db/store.js';
import { createApp } from './app.js';
import { CONSOLE_ACTOR, CONSOLE_CHAT } from './adapters/console/console.js';
import { createFileRender } from './adapters/console/render.js';
import { systemClock } from './core/clock.js';
import { ConfigError } from './core/errors.js';
import { asOfText, count, countOf } from './core/format.js';
import { configFromProcess } from './env.js';
import { createLogger } from './logger.js';
import { secretsOf } from './config.js';
import { runStoreCommand } from './store-cli.js';

/** Where pictures (charts) are written, relative to the working directory. */
const CHARTS_DIR = 'charts';

/** Prints where the inference indexer stands after `sync`; 1 when its pass failed. */
async function inferenceLine(app: ReturnType<typeof createApp>): Promise<number> {
  const s = await app.indexer.status();
  if (!s) return 1;
  const head = s.headBlock === null ? 'unknown' : String(s.headBlock);
  process.stdout.write(
    `Inferences: ${count((await app.indexer.totals()).total)} counted, ` +
      `indexed to block ${s.nextBlock - 1} (head ${head})\n`,
  );
  if (s.lastError) process.stdout.write(`Inference indexing failed: ${s.lastError}\n`);
  return s.lastError ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const config = configFromProcess();
  if (argv[0] === 'store') return runStoreCommand(argv.slice(1), config, process.stdout, process.stderr);
  // At a terminal, warnings are a line a person reads; piped (cron, CI), the JSON an operator collects.
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    secrets: secretsOf(config),
    short: process.stderr.isTTY === true,
  });
  const app = createApp({ config, logger, clock: systemClock, store: await openStore(config) });
  try {
    if (argv[0] === 'sync') {
      await app.sync();
      const { market } = app.core.snapshot();
      const now = systemClock.now();
      if (market.error) {
        process.stdout.write(`Market refresh failed: ${market.error}\n`);
        await inferenceLine(app);
        return 1;
      }
      process.stdout.write(`Market: ${market.source} as of ${asOfText(market.fetchedAtMs, now)}\n`);
      // The bot's stored tickers reading, with its age: `sync` does not read tickers (see above).
      const venues = await app.markets.restored();
      const structure = venues.data?.structure;
      process.stdout.write(
        structure === undefined || venues.fetchedAtMs === null
          ? `Venues: no ${venues.source} reading stored yet (the bot reads them on MARKETS_CRON)\n`
          : `Venues: ${venues.source} as of ${asOfText(venues.fetchedAtMs, now)} (read by the bot), ` +
              `${countOf(structure.markets, 'market')} on ${countOf(structure.venues, 'venue')}` +
              `${venues.error ? `; its last reading failed: ${venues.error}` : ''}\n`,
      );
      return await inferenceLine(app);
    }
    if (app.core.isStale((await app.core.restored()).market)) await app.core.refresh();
    // `markets` answers from the bot's stored tickers reading (its age and staleness shown), never a reading.
    await app.markets.restored();
    const reply = await app.runText(argv.join(' ') || 'help', CONSOLE_CHAT, CONSOLE_ACTOR);
    const render = createFileRender(CHARTS_DIR);
    process.stdout.write(`${await render(reply)}\n`);
    return reply.kind === 'usage' ? 2 : reply.kind === 'info' ? 0 : 1;
  } finally {
    app.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `opg: ${(err as Error).message}`}\n`);
    process.exitCode = 1;
  },
);
