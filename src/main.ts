/**
 * Composition root: reads the config, builds everything, starts what is configured. The only file that
 * reads the environment. With no platform token, a terminal gets the console front end; without a terminal
 * the process says which variables to set and exits 1, so a misconfigured deployment fails loudly.
 */
import { createApp } from './app.js';
import { runConsole } from './adapters/console/console.js';
import { secretsOf } from './config.js';
import { systemClock } from './core/clock.js';
import { ConfigError } from './core/errors.js';
import { configFromProcess } from './env.js';
import { createLogger } from './logger.js';
import { createScheduler } from './scheduler.js';

async function main(): Promise<number> {
  const config = configFromProcess();
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
  const logger = createLogger({ level, secrets: secretsOf(config) });
  const app = createApp({ config, logger, clock: systemClock });
  const scheduler = createScheduler(logger);
  const stops: Array<() => Promise<void> | void> = [];

  scheduler.every(config.refreshCron, 'refresh', () => app.core.refresh());
  void app.core.refresh();
  // Platform sinks register with app.alerts.registerSink(sink) as their front ends start; rows for a platform
  // without a sink wait in the outbox. Undelivered rows from before a restart are picked up here.
  scheduler.every('* * * * *', 'alert digests', async () => app.alerts.runDigests());
  scheduler.every('17 3 * * *', 'alert outbox pruning', async () => app.alerts.prune());
  app.alerts.dispatcher.start();
  stops.push(() => app.alerts.stop());

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await scheduler.stop();
    for (const s of stops.reverse()) await s();
    app.close();
  };

  if (platforms.length === 0) {
    await runConsole({ runText: app.runText, input: process.stdin, output: process.stdout });
    await stop('console closed');
    return 0;
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
