/**
 * Composition root: reads the config (through env.ts, the one reader of the environment), builds everything,
 * starts what is configured. With no platform token, a terminal gets the console front end; without a terminal
 * the process says which variables to set and exits 1, so a misconfigured deployment fails loudly.
 */
import { createApp } from './app.js';
import { createConsoleSink, runConsole } from './adapters/console/console.js';
import { createFileRender } from './adapters/console/render.js';
import { createTelegramAdapter } from './adapters/telegram/adapter.js';
import { createTelegramSink } from './adapters/telegram/sink.js';
import { createDiscordSink } from './adapters/discord/sink.js';
import { createDiscordAdapter } from './adapters/discord/adapter.js';
import { secretsOf } from './config.js';
import { systemClock } from './core/clock.js';
import type { Platform } from './core/chat.js';
import type { Sink } from './core/sink.js';
import { ConfigError } from './core/errors.js';
import { configFromProcess } from './env.js';
import { createDiscordStore } from './db/discord-store.js';
import { createLogger } from './logger.js';
import { createScheduler } from './scheduler.js';
import { connectionState, watchDiscord, watchTelegram, type ConnectionState } from './ops/connections.js';
import { createOperations } from './ops/operations.js';

async function main(): Promise<number> {
  const config = configFromProcess();
  // Accepted by the config for `store copy` and the multi-instance work, not run yet: starting on the SQLite
  // file or long polling instead would quietly do something other than what the operator set up.
  const notYet = [config.databaseUrl && 'DATABASE_URL (PostgreSQL)', config.telegram?.webhook && 'TELEGRAM_WEBHOOK_URL (webhooks)'].filter(Boolean);
  if (notYet.length > 0) {
    process.stderr.write(
      `opg-bot: this version does not run with ${notYet.join(' or ')} yet; unset ${notYet.length > 1 ? 'them' : 'it'} to run on the SQLite file at\n` +
        'DATABASE_PATH with long polling. `npm run opg -- store copy --to postgres://…` prepares a PostgreSQL database.\n',
    );
    return 1;
  }
  const platforms = [config.telegram && 'telegram', config.discord && 'discord'].filter(Boolean);
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (platforms.length === 0 && !interactive) {
    process.stderr.write(
      'opg-bot: no front end to start. Set TELEGRAM_BOT_TOKEN and/or DISCORD_TOKEN (see .env.example),\n' +
        'or run `npm start` in a terminal for the console.\n',
    );
    return 1;
  }
  // In the console, logs would interleave with the prompt: keep them to warnings unless asked otherwise.
  const level = platforms.length === 0 && config.logLevel === 'info' ? 'warn' : config.logLevel;
  // The console's person at a terminal reads short lines; a bot on a platform logs JSON for its operator.
  const logger = createLogger({ level, secrets: secretsOf(config), short: platforms.length === 0 && process.stderr.isTTY === true });
  // The operations endpoint listens before the front ends start, so probes get answers while they connect.
  const ops = config.http
    ? createOperations({ ...config.http, platforms: platforms as Platform[], logger: logger.child({ part: 'ops' }), clock: systemClock, secrets: secretsOf(config) })
    : null;
  const app = createApp({ config, logger, clock: systemClock, instruments: ops?.instruments });
  const connections = new Map<Platform, ConnectionState>((platforms as Platform[]).map((p) => [p, connectionState(p)]));
  const counted = (sink: Sink) => (ops ? ops.sink(sink) : sink);
  const scheduler = createScheduler(logger);
  const stops: Array<() => Promise<void> | void> = [];
  if (ops) {
    await ops.start(app, [...connections.values()]);
    stops.push(() => ops.close());
  }

  scheduler.every(config.refreshCron, 'refresh', () => app.core.refresh());
  // The default chart's history is filled once at start, so the first `/opg chart` need not wait for it.
  void app.core.refresh().then(() => app.services.charts?.ensureHistory('7d'));
  // Tickers on their own schedule; the first reading after start records venues and announces none.
  scheduler.every(config.marketsCron, 'markets', () => app.markets.refresh());
  void app.markets.refresh();
  const indexPass = ops ? ops.indexPass(app) : () => app.indexer.runOnce();
  scheduler.every(config.opengradient.indexCron, 'index', indexPass);
  void indexPass();
  stops.push(() => app.indexer.stop());
  // Platform sinks register with app.alerts.registerSink(sink) as their front ends start; rows for a platform
  // without a sink wait in the outbox. Undelivered rows from before a restart are picked up here.
  scheduler.every('* * * * *', 'alert digests', async () => app.alerts.runDigests());
  scheduler.every('17 3 * * *', 'alert outbox pruning', async () => app.alerts.prune());
  app.alerts.dispatcher.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await scheduler.stop();
    // Alerts first: nothing may be handed to a sink whose front end is already closing.
    await app.alerts.stop();
    for (const s of stops.reverse()) await s();
    app.close();
  };

  if (platforms.length === 0) {
    const render = createFileRender('charts');
    app.alerts.registerSink(counted(createConsoleSink(process.stdout, render)));
    await runConsole({ runText: app.runText, input: process.stdin, output: process.stdout, render });
    await stop('console closed');
    return 0;
  }

  if (config.telegram) {
    const telegram = createTelegramAdapter({
      core: app.core,
      services: app.services,
      commands: app.commands,
      token: config.telegram.token,
      apiRoot: config.telegram.apiRoot,
      logger: logger.child({ part: 'telegram' }),
      clock: systemClock,
      lifecycle: app.alerts,
    });
    app.alerts.registerSink(counted(createTelegramSink({ token: config.telegram.token, apiRoot: config.telegram.apiRoot, logger })));
    const state = connections.get('telegram')!;
    watchTelegram(telegram.bot, state, ops?.metrics ?? null);
    stops.push(() => {
      state.set('stopped');
      return telegram.stop();
    });
    // Started in the background: a Bot API that is down at boot is retried without holding up the rest.
    telegram.start().then(
      () => state.state() === 'starting' && state.set('connected'),
      (err: unknown) => {
        state.set('failed');
        logger.error({ err }, 'Telegram front end failed to start');
      },
    );
  }
  if (config.discord) {
    const discord = createDiscordAdapter({
      core: app.core,
      services: app.services,
      commands: app.commands,
      token: config.discord.token,
      apiUrl: config.discord.apiUrl,
      guildId: config.discord.guildId,
      logger: logger.child({ part: 'discord' }),
      store: createDiscordStore(app.database),
      dispatcher: app.http,
    });
    const discordSink = createDiscordSink({ token: config.discord.token, apiUrl: config.discord.apiUrl, logger, dispatcher: app.http });
    app.alerts.registerSink(counted(discordSink));
    const state = connections.get('discord')!;
    watchDiscord(discord.client, state, ops?.metrics ?? null);
    stops.push(() => discordSink.close());
    stops.push(() => {
      state.set('stopped');
      return discord.stop();
    });
    await discord.start();
  }

  logger.info({ platforms }, 'opg-bot started');
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void stop(signal).then(resolve));
    }
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    if (code !== 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `opg-bot failed to start: ${(err as Error).message}`}\n`);
    process.exit(1);
  },
);
