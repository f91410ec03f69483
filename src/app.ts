/**
 * Builds the bot's shared parts from a config: the store, the sources, the core and the services that
 * commands use. `main.ts` (the long-running bot) and `cli.ts` (one command, then exit) both start here,
 * so the console answers with exactly the code the chat front ends use.
 */
import { Agent, type Dispatcher } from 'undici';
import { commands as allCommands } from '../commands/index.js';
import type { Config } from './config.js';
import type { Clock } from './core/clock.js';
import { type Actor, type AnyCommand, type ChatRef } from './core/command.js';
import { createAlerts, type AlertsService } from './core/alerts.js';
import { createCore, type Core, type MarketSource } from './core/core.js';
import { runText } from './core/execute.js';
import type { Logger } from './core/logger.js';
import type { Reply } from './core/reply.js';
import type { Services } from './core/services.js';
import { noTelemetry, type Telemetry } from './core/telemetry.js';
import { createChartService } from './core/charts/chart-service.js';
import { goneVenuesFields } from './core/listing-messages.js';
import { openDatabase, type Database } from './db/open.js';
import { sqliteStore, type OpenedStore } from './db/store.js';
import { createCoinGeckoSource } from './sources/coingecko.js';
import { fetchMarketChart } from './sources/market-chart.js';
import { createMarkets, type MarketsService } from './core/markets.js';
import { createTickersSource } from './sources/coingecko-tickers.js';
import { longestGapMs } from './scheduler.js';
import { createExplorerSource } from './sources/opengradient/explorer.js';
import { createInferenceIndexer, type InferenceIndexer } from './sources/opengradient/indexer.js';
import { createOgRpc } from './sources/opengradient/rpc.js';

/**
 * A tickers reading is stale once a scheduled reading has been missed: past the longest gap of
 * `MARKETS_CRON` plus `STALE_AFTER_MINUTES` of slack (hourly: 75 minutes by default).
 */
function marketsStaleAfterMs(config: Config): number {
  return longestGapMs(config.marketsCron) + config.staleAfterMs;
}

export interface AppDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  /**
   * undici dispatcher for every source; a private Agent when omitted. Never the process-wide global one,
   * which other HTTP stacks in the process (discord.js's own undici) also reach for.
   */
  dispatcher?: Dispatcher;
  /** Per-attempt HTTP deadline for every source; tests shorten it. Default 10 s. */
  httpTimeoutMs?: number;
  /**
   * The store, opened by `openStore(config)` (src/db/store.ts), which the app then owns and closes; when
   * omitted, the SQLite file at `DATABASE_PATH`.
   */
  store?: OpenedStore;
  /** The operator's metrics (`src/ops`), when the operations endpoint is on. */
  instruments?: AppInstruments;
}

/** Hooks through which the operations endpoint counts what the app does; the parts measured stay unaware. */
export interface AppInstruments {
  telemetry: Telemetry;
  /** The dispatcher a source's requests go through, counting them. */
  dispatcherFor(source: 'coingecko' | 'rpc' | 'explorer', base: Dispatcher): Dispatcher;
  /** The market source as the core sees it, counting refreshes by result. */
  marketSource<S extends MarketSource>(source: S): S;
}

export interface App {
  config: Config;
  /** The SQLite connection when the store is the SQLite file; null on PostgreSQL. */
  database: Database | null;
  /** The store every port comes from. */
  store: OpenedStore;
  core: Core;
  services: Services;
  /** The OpenGradient inference indexer; `main.ts` schedules its passes. */
  indexer: InferenceIndexer;
  /** Alert evaluation (hooked to every refresh), digests and the outbox dispatcher; sinks are added by main. */
  alerts: AlertsService;
  /** CoinGecko tickers and new-listing alerts; `main.ts` schedules its readings (`MARKETS_CRON`). */
  markets: MarketsService;
  commands: readonly AnyCommand[];
  logger: Logger;
  /** The dispatcher every source sends through; front ends may share it (see adapters/discord/rest-request.ts). */
  http: Dispatcher;
  /** Parses and runs command text such as `/opg alerts add 5`; always resolves to a reply. */
  runText(text: string, chat: ChatRef, actor: Actor): Promise<Reply>;
  /**
   * One market refresh and one indexing pass. Never a tickers reading: a process that does not deliver listing
   * alerts must leave the venues alone, or a listing it saw first would never be announced.
   */
  sync(): Promise<void>;
  close(): void;
}

export function createApp({
  config,
  logger,
  clock,
  dispatcher: given,
  httpTimeoutMs,
  instruments,
  store: opened,
}: AppDeps): App {
  const store = opened ?? sqliteStore(openDatabase(config.databasePath));
  const { stores } = store;
  const database = store.kind === 'sqlite' ? store.database : null;
  const ownDispatcher = given ? null : new Agent();
  const dispatcher = given ?? ownDispatcher!;
  const dispatcherFor = (source: 'coingecko' | 'rpc' | 'explorer') =>
    instruments?.dispatcherFor(source, dispatcher) ?? dispatcher;
  const telemetry = instruments?.telemetry ?? noTelemetry;
  const market = createCoinGeckoSource({
    apiUrl: config.coingecko.apiUrl,
    apiKey: config.coingecko.apiKey,
    plan: config.coingecko.plan,
    coinId: config.coingecko.coinId,
    clock,
    dispatcher: dispatcherFor('coingecko'),
    timeoutMs: httpTimeoutMs,
  });
  const core = createCore({
    market: instruments ? instruments.marketSource(market) : market,
    marketStore: stores.market,
    coinId: config.coingecko.coinId,
    clock,
    logger: logger.child({ part: 'core' }),
    staleAfterMs: config.staleAfterMs,
  });
  const og = config.opengradient;
  const indexer = createInferenceIndexer({
    rpc: createOgRpc({
      url: og.rpcUrl,
      clock,
      dispatcher: dispatcherFor('rpc'),
      timeoutMs: httpTimeoutMs && httpTimeoutMs * 2,
    }),
    explorer: createExplorerSource({
      apiUrl: og.explorerApiUrl,
      clock,
      dispatcher: dispatcherFor('explorer'),
      timeoutMs: httpTimeoutMs,
    }),
    store: stores.inferences,
    clock,
    logger: logger.child({ part: 'indexer' }),
    fromBlock: og.indexFromBlock,
    confirmations: og.confirmations,
    contracts: og.contracts,
    range: { maxBlocks: og.logRangeMaxBlocks },
    participants: {
      store: stores.participants,
      teeRegistries: og.teeRegistryContracts,
      taskScheduler: og.taskSchedulerContract,
    },
  });
  let wakeDispatcher = () => {};
  const markets = createMarkets({
    source: createTickersSource(market, config.coingecko.coinId),
    store: stores.markets,
    coinId: config.coingecko.coinId,
    clock,
    logger: logger.child({ part: 'markets' }),
    staleAfterMs: marketsStaleAfterMs(config),
    onAlerts: () => wakeDispatcher(),
  });
  const alerts = createAlerts({
    core,
    stores: stores.alerts,
    // The root logger: alerts names its own parts (`alerts`, `dispatcher`), one `part` per line.
    logger,
    defaultThresholds: config.alerts.defaultThresholds,
    hysteresis: config.alerts.hysteresis,
    digestFields: async (sinceMs) => goneVenuesFields(await markets.goneSince(sinceMs)),
    telemetry,
  });
  wakeDispatcher = () => alerts.dispatcher.wake();
  const services: Services = {
    alerts,
    inferences: { hourly: (sinceMs) => stores.inferences.hourly(sinceMs) },
    indexer,
    participants: stores.participants,
    contractsFromBlock: og.contractsFromBlock,
    markets,
    listings: stores.listings,
    charts: createChartService({
      core,
      store: stores.chart,
      source: { name: market.name, marketChart: (coinId, days) => fetchMarketChart(market, coinId, days) },
      coinId: config.coingecko.coinId,
      clock,
      logger: logger.child({ part: 'charts' }),
    }),
    telemetry,
  };
  const commands = allCommands;

  return {
    config,
    database,
    store,
    core,
    services,
    indexer,
    alerts,
    markets,
    commands,
    logger,
    http: dispatcher,
    runText(text, chat, actor) {
      return runText(text, { core, services, chat, actor, commands }, logger);
    },
    async sync() {
      // Market first: a failing indexer backs off on the shared clock, which must not age the market reading.
      // Tickers are not read here: only the leader's readings may mark venues seen (see MarketsService.refresh).
      await core.refresh();
      await indexer.runOnce();
    },
    close() {
      void indexer.stop();
      void alerts.stop();
      void store.close();
      if (ownDispatcher && !ownDispatcher.closed) void ownDispatcher.close();
    },
  };
}
