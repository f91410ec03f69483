/**
 * Builds the bot's shared parts from a config: the store, the sources, the core and the services that
 * commands use. `main.ts` (the long-running bot) and `cli.ts` (one command, then exit) both start here,
 * so the console answers with exactly the code the chat front ends use.
 */
import type { Dispatcher } from 'undici';
import { commands as allCommands } from '../commands/index.js';
import type { Config } from './config.js';
import type { Clock } from './core/clock.js';
import { parseText, tokenize, type Actor, type AnyCommand, type ChatRef } from './core/command.js';
import { createAlerts, type AlertsService } from './core/alerts.js';
import { createCore, type Core } from './core/core.js';
import { errorReply, execute } from './core/execute.js';
import type { Logger } from './core/logger.js';
import type { Reply } from './core/reply.js';
import type { Services } from './core/services.js';
import { createChartService } from './core/charts/chart-service.js';
import { createChartStore } from './db/chart-store.js';
import { createAlertStore } from './db/alert-store.js';
import { createMarketStore } from './db/market-store.js';
import { openDatabase, type Database } from './db/open.js';
import { createCoinGeckoSource } from './sources/coingecko.js';
import { createInferenceStore } from './db/inference-store.js';
import { createParticipantStore } from './db/participant-store.js';
import { createExplorerSource } from './sources/opengradient/explorer.js';
import { createInferenceIndexer, type InferenceIndexer } from './sources/opengradient/indexer.js';
import { createOgRpc } from './sources/opengradient/rpc.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** undici dispatcher for every source; the global one when omitted. */
  dispatcher?: Dispatcher;
  /** Per-attempt HTTP deadline for every source; tests shorten it. Default 10 s. */
  httpTimeoutMs?: number;
}

export interface App {
  config: Config;
  database: Database;
  core: Core;
  services: Services;
  /** The OpenGradient inference indexer; `main.ts` schedules its passes. */
  indexer: InferenceIndexer;
  /** Alert evaluation (hooked to every refresh), digests and the outbox dispatcher; sinks are added by main. */
  alerts: AlertsService;
  commands: readonly AnyCommand[];
  logger: Logger;
  /** Parses and runs command text such as `/opg alerts add 5`; always resolves to a reply. */
  runText(text: string, chat: ChatRef, actor: Actor): Promise<Reply>;
  /** One market refresh and one pass of every other sync task (indexing, once it exists). */
  sync(): Promise<void>;
  close(): void;
}

export function createApp({ config, logger, clock, dispatcher, httpTimeoutMs }: AppDeps): App {
  const database = openDatabase(config.databasePath);
  const market = createCoinGeckoSource({
    apiUrl: config.coingecko.apiUrl,
    apiKey: config.coingecko.apiKey,
    plan: config.coingecko.plan,
    coinId: config.coingecko.coinId,
    clock,
    dispatcher,
    timeoutMs: httpTimeoutMs,
  });
  const core = createCore({
    market,
    marketStore: createMarketStore(database),
    coinId: config.coingecko.coinId,
    clock,
    logger: logger.child({ part: 'core' }),
    staleAfterMs: config.staleAfterMs,
  });
  const og = config.opengradient;
  const inferenceStore = createInferenceStore(database);
  const participantStore = createParticipantStore(database);
  const indexer = createInferenceIndexer({
    rpc: createOgRpc({ url: og.rpcUrl, clock, dispatcher, timeoutMs: httpTimeoutMs && httpTimeoutMs * 2 }),
    explorer: createExplorerSource({ apiUrl: og.explorerApiUrl, clock, dispatcher, timeoutMs: httpTimeoutMs }),
    store: inferenceStore,
    clock,
    logger: logger.child({ part: 'indexer' }),
    fromBlock: og.indexFromBlock,
    confirmations: og.confirmations,
    contracts: og.contracts,
    range: { maxBlocks: og.logRangeMaxBlocks },
    participants: { store: participantStore, teeRegistries: og.teeRegistryContracts, taskScheduler: og.taskSchedulerContract },
  });
  const alerts = createAlerts({
    core,
    store: createAlertStore(database),
    logger: logger.child({ part: 'alerts' }),
    defaultThresholds: config.alerts.defaultThresholds,
    hysteresis: config.alerts.hysteresis,
  });
  const services: Services = {
    alerts,
    thresholds: alerts,
    chats: alerts,
    inferences: { hourly: (sinceMs) => inferenceStore.hourly(sinceMs) },
    indexer,
    participants: participantStore,
    charts: createChartService({
      core,
      store: createChartStore(database),
      source: market,
      coinId: config.coingecko.coinId,
      clock,
      logger: logger.child({ part: 'charts' }),
    }),
  };
  const commands = allCommands;

  return {
    config,
    database,
    core,
    services,
    indexer,
    alerts,
    commands,
    logger,
    async runText(text, chat, actor) {
      try {
        const parsed = parseText(tokenize(text), commands);
        return await execute(parsed, { core, services, chat, actor, commands });
      } catch (err) {
        return errorReply(err, core, logger);
      }
    },
    async sync() {
      // Market first: a failing indexer backs off on the shared clock, which must not age the market reading.
      await core.refresh();
      await indexer.runOnce();
    },
    close() {
      void indexer.stop();
      void alerts.stop();
      database.close();
    },
  };
}
