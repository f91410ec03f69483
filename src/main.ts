/**
 * Composition root: reads the config (through env.ts, the one reader of the environment), builds everything,
 * starts what is configured. With no platform token, a terminal gets the console front end; without a terminal
 * the process says which variables to set and exits 1, so a misconfigured deployment fails loudly.
 */
import { createApp } from './app.js';
import { createConsoleSink, runConsole } from './adapters/console/console.js';
import { createFileRender } from './adapters/console/render.js';
import { createTelegramAdapter, TelegramTokenRefused } from './adapters/telegram/adapter.js';
import { createTelegramSink } from './adapters/telegram/sink.js';
import { createDiscordSink } from './adapters/discord/sink.js';
import { createDiscordAdapter } from './adapters/discord/adapter.js';
import { secretsOf } from './config.js';
import { systemClock } from './core/clock.js';
import type { Platform } from './core/chat.js';
import type { Sink } from './core/sink.js';
import { ConfigError } from './core/errors.js';
import { configFromProcess } from './env.js';
import { UPDATE_LEDGER_RETENTION_MS } from './core/update-ledger.js';
import { createLeaderElector } from './db/leader-elector.js';
import { openStore } from './db/store.js';
import { createLogger } from './logger.js';
import { followUnlessLeading, leaderWork } from './leader-work.js';
import { alwaysLeader, createRoles, type RoleWork } from './roles.js';
import { discordFrontEnd, telegramWebhook } from './leader-front-ends.js';
import { connectionState, watchDiscord, watchTelegram, type ConnectionState } from './ops/connections.js';
import { clockSkewCheck } from './ops/clock-skew-check.js';
import { createOperations } from './ops/operations.js';

async function main(): Promise<number> {
  const config = configFromProcess();
  if (config.telegram?.webhook && !config.http) {
    process.stderr.write(
      'opg-bot: TELEGRAM_WEBHOOK_URL needs HTTP_PORT: Telegram posts its updates to the operations endpoint.\n',
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
  const logger = createLogger({
    level,
    secrets: secretsOf(config),
    short: platforms.length === 0 && process.stderr.isTTY === true,
  });
  // The operations endpoint listens before the front ends start, so probes get answers while they connect.
  const ops = config.http
    ? createOperations({
        ...config.http,
        platforms: platforms as Platform[],
        logger: logger.child({ part: 'ops' }),
        clock: systemClock,
        secrets: secretsOf(config),
      })
    : null;
  // DATABASE_URL selects PostgreSQL (connected and migrated here), otherwise the SQLite file at DATABASE_PATH.
  const store = await openStore(config);
  const app = createApp({ config, logger, clock: systemClock, instruments: ops?.instruments, store });
  // Discord's gateway and Telegram long polling run on the leader only; a Telegram webhook on every instance.
  const connections = new Map<Platform, ConnectionState>(
    (platforms as Platform[]).map((p) => [
      p,
      connectionState(p, { leaderOnly: p === 'discord' || !config.telegram?.webhook }),
    ]),
  );
  const counted = (sink: Sink) => (ops ? ops.sink(sink) : sink);
  /** Front ends that run on the leader only (Discord's gateway, Telegram long polling), started each term. */
  const leaderFrontEnds: Array<() => Promise<RoleWork>> = [];
  const finalStops: Array<() => Promise<void> | void> = [];
  let exitCode = 0;
  /** Starts the graceful stop; set once the stop is defined below. Until then a request waits for it. */
  let requestStop: ((reason: string) => void) | null = null;
  let stopRequested = false;
  /**
   * Something this instance cannot do without is broken for good: stop, and exit non-zero, so a process
   * manager (systemd's Restart=on-failure) restarts it and, with PostgreSQL, another instance leads meanwhile.
   * Called directly rather than by signalling this process: a second cause (both tokens refused) must not send
   * a second SIGTERM, which would find no handler left and kill the process mid-stop.
   */
  const leave = (err: unknown, message: string) => {
    logger.fatal({ err }, message);
    exitCode = 1;
    process.exitCode = 1;
    if (stopRequested) return;
    stopRequested = true;
    requestStop?.('fatal');
  };

  if (config.telegram) {
    const tg = config.telegram;
    const TELEGRAM_TOKEN_REFUSED = 'Telegram refused the bot token (TELEGRAM_BOT_TOKEN); stopping';
    app.alerts.registerSink(counted(createTelegramSink({ token: tg.token, apiRoot: tg.apiRoot, logger })));
    const state = connections.get('telegram')!;
    const webhook = tg.webhook;
    // Updates taken, by id, in the store: one Telegram delivers again runs once. By webhook always: Telegram
    // re-sends what it saw no 200 for, to any instance. By long polling on a shared PostgreSQL store: a new
    // leader's getUpdates hands out again what the dead one had answered but not yet confirmed. Not by polling
    // on the SQLite file: its one process would pay two synchronous writes per update (README) against a
    // repeat only a crash in the instant between a batch and its next getUpdates can cause.
    const ledger = app.store.stores.telegramUpdates;
    const pollingLedger = config.databaseUrl ? ledger : undefined;
    /** Forgets ledger entries past Telegram's retention, now and hourly while this instance leads. */
    const pruneLedger = () => {
      const prune = () =>
        void ledger
          .prune(systemClock.now() - UPDATE_LEDGER_RETENTION_MS)
          .catch((err: unknown) => logger.warn({ err }, 'could not prune the Telegram update ledger'));
      prune();
      const timer = setInterval(prune, 60 * 60_000);
      timer.unref();
      return () => clearInterval(timer);
    };
    const telegramOptions = {
      core: app.core,
      services: app.services,
      commands: app.commands,
      token: tg.token,
      apiRoot: tg.apiRoot,
      logger: logger.child({ part: 'telegram' }),
      clock: systemClock,
      lifecycle: app.alerts,
      // Sees each Bot API answer inside the adapter's retries: every 429 is counted, and polling is followed.
      observers: [watchTelegram(state, ops?.metrics ?? null)],
    };
    if (webhook && ops) {
      // By webhook, every instance takes updates on its endpoint; the leader only keeps the webhook set.
      const telegram = createTelegramAdapter({ ...telegramOptions, ledger, webhook: { secret: webhook.secret } });
      const hook = telegramWebhook({ telegram, url: webhook.url, state, logger: logger.child({ part: 'telegram' }) });
      // Every instance answers webhook updates: it is connected once the Bot API knows its token (getMe, which
      // grammY retries while the Bot API is down). The leader also keeps the webhook set, below.
      telegram.init().then(
        () => hook.answered(),
        (err: unknown) => {
          hook.failed();
          if (err instanceof TelegramTokenRefused) leave(err, TELEGRAM_TOKEN_REFUSED);
          else logger.error({ err }, 'Telegram front end failed to start');
        },
      );
      ops.server.route('POST', new URL(webhook.url).pathname, telegram.webhookHandler(), { readsBody: true });
      finalStops.push(() => {
        state.set('stopped');
        return telegram.stop();
      });
      leaderFrontEnds.push(async () => {
        const term = await hook.leaderTerm();
        const stopPruning = pruneLedger();
        return {
          stop: () => {
            stopPruning();
            return term.stop();
          },
        };
      });
    } else {
      // By long polling, only the leader takes updates.
      leaderFrontEnds.push(async () => {
        const telegram = createTelegramAdapter({ ...telegramOptions, ledger: pollingLedger });
        const stopPruning = pollingLedger ? pruneLedger() : () => {};
        state.set('starting');
        // Started in the background: a Bot API that is down at boot is retried without holding up the rest.
        telegram.start().then(
          () => state.state() === 'starting' && state.set('connected'),
          (err: unknown) => {
            state.set('failed');
            if (err instanceof TelegramTokenRefused) leave(err, TELEGRAM_TOKEN_REFUSED);
            else logger.error({ err }, 'Telegram front end failed to start');
          },
        );
        return {
          stop: () => {
            stopPruning();
            state.set('stopped');
            return telegram.stop();
          },
        };
      });
    }
  }
  if (config.discord) {
    const dc = config.discord;
    const discordSink = createDiscordSink({ token: dc.token, apiUrl: dc.apiUrl, logger, dispatcher: app.http });
    app.alerts.registerSink(counted(discordSink));
    finalStops.push(() => discordSink.close());
    const state = connections.get('discord')!;
    // Connected in the background, as Telegram polling: Discord down at a term's start holds up nothing else.
    leaderFrontEnds.push(
      discordFrontEnd({
        create: () =>
          createDiscordAdapter({
            core: app.core,
            services: app.services,
            commands: app.commands,
            token: dc.token,
            apiUrl: dc.apiUrl,
            guildId: dc.guildId,
            logger: logger.child({ part: 'discord' }),
            store: app.store.stores.commandRegistrations,
            dispatcher: app.http,
          }),
        watch: (discord) => watchDiscord(discord.client, state, ops?.metrics ?? null),
        state,
        logger: logger.child({ part: 'discord' }),
        onFatal: (err) => leave(err, 'Discord refused the bot token (DISCORD_TOKEN); stopping'),
      }),
    );
  }

  // Instances sharing a PostgreSQL store elect one leader by a session advisory lock; on the SQLite file this
  // instance is the only one and always leads.
  const pgElector = config.databaseUrl
    ? createLeaderElector({ url: config.databaseUrl, takeoverSeconds: config.leaderTakeoverSeconds, logger })
    : null;
  const elector = pgElector ?? alwaysLeader(logger);
  const leaderTerm = leaderWork({
    app,
    logger,
    frontEnds: platforms.length === 0 ? [] : leaderFrontEnds,
    indexPass: ops ? ops.indexPass(app) : undefined,
  });
  // The outbox gauge is the leader's, as the deliveries it is read against: a standby exports none. The index
  // figures move with the leader's passes; a standby re-reads them from the shared store.
  const outboxGauge = ops?.outboxGauge(app);
  const indexerGauges = ops?.indexerGauges(app);
  // Without the endpoint, clocks are still compared at start and at each term (the endpoint does it with its gauge):
  // shared leases assume synchronised clocks, and an operator without metrics still reads the log.
  const compareClocks = ops ? null : clockSkewCheck(app.store, systemClock, logger.child({ part: 'store' }));
  // From here on the core follows the shared store unless a leader term runs: before the operations endpoint
  // listens (a Telegram webhook's Refresh on a booting or standby instance reads the store, never CoinGecko) and
  // from the first moment of a step-down (a late refresh of the old term evaluates no alert).
  const work = followUnlessLeading(app, {
    leader: async () => {
      void compareClocks?.();
      const term = await leaderTerm();
      const gauge = outboxGauge?.();
      return {
        async stop() {
          gauge?.stop();
          await term.stop();
        },
      };
    },
    standby: () => {
      void compareClocks?.();
      const gauges = indexerGauges?.();
      return { stop: () => gauges?.stop() };
    },
  });
  const roles = createRoles({
    elector,
    logger,
    leader: work.leader,
    standby: work.standby,
    onFailure: (err, role) =>
      // Holding the lead without doing its work would stall alerts for every instance: leave, so another leads.
      leave(err, `the work of the ${role} failed to start; stopping so another instance can lead`),
  });
  if (ops) {
    // Readiness names the role: the elector's, with whether the server answers it, once instances share a
    // PostgreSQL store; on the SQLite file there is one instance, it leads, and its store is the file.
    await ops.start(
      app,
      [...connections.values()],
      pgElector ? { role: () => roles.role(), reach: () => pgElector.reach() } : undefined,
    );
    finalStops.push(() => ops.close());
  }

  // One stop, however many ask for it (a signal, a refused token): every caller waits for the same one, so a
  // second cause never ends the process while the first is still letting the lock go and closing the store.
  let stopping: Promise<void> | null = null;
  const stop = (signal: string): Promise<void> =>
    (stopping ??= (async () => {
      logger.info({ signal }, 'stopping');
      // Leader work first (schedules, dispatcher, leader-only front ends), then the elector lets its lock go.
      await roles.stop();
      await app.alerts.stop();
      for (const s of finalStops.reverse()) await s();
      work.stop();
      app.close();
    })());

  if (platforms.length === 0) {
    const render = createFileRender('charts');
    app.alerts.registerSink(counted(createConsoleSink(process.stdout, render)));
    // A role's work that fails for good ends the console too: holding the lead without its work stalls alerts.
    requestStop = (reason) => void stop(reason).then(() => process.exit(1));
    await roles.start();
    await runConsole({ runText: app.runText, input: process.stdin, output: process.stdout, render });
    await stop('console closed');
    return exitCode;
  }

  // Listen for signals before starting: a SIGTERM while the front ends connect must stop cleanly, not kill.
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void stop(signal).then(resolve));
    }
    requestStop = (reason) => void stop(reason).then(resolve);
  });
  await roles.start();
  // A front end that failed for good before the stop existed (a refused token, found while the rest was set up).
  if (stopRequested && !stopping) requestStop!('fatal');
  if (!stopping) logger.info({ platforms, role: roles.role() }, 'opg-bot started');
  await stopped;
  return exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
    if (code !== 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(
      `${err instanceof ConfigError ? err.message : `opg-bot failed to start: ${(err as Error).message}`}\n`,
    );
    process.exit(1);
  },
);
