/**
 * The operations endpoint, assembled: the HTTP server with `/healthz`, `/readyz` and `/metrics`, the
 * metrics, the instruments `createApp` threads through the sources and the core, and the watchers that
 * keep the figures that live in the database (outbox, indexer) up to date off the scrape path; the outbox gauge
 * only while this instance leads (`outboxGauge`), the index figures from the store while it stands by
 * (`indexerGauges`). Each of those terms, and the start, also compares this instance's clock with the PostgreSQL
 * server's (`opg_clock_skew_seconds`, a warning past 5 s).
 *
 * `server` is returned so another route (the Telegram webhook) can be mounted on the same listener.
 */
import type { App, AppInstruments } from '../app.js';
import type { Clock } from '../core/clock.js';
import type { Platform } from '../core/chat.js';
import type { MarketSource } from '../core/core.js';
import type { Logger } from '../core/logger.js';
import type { Sink } from '../core/sink.js';
import type { IndexRun } from '../sources/opengradient/indexer.js';
import {
  webhookReadiness,
  liveness,
  readiness,
  type InstanceRole,
  type PlatformConnection,
  type StoreReach,
  type StoreState,
} from './health.js';
import { clockSkewCheck } from './clock-skew-check.js';
import { createHttpServer, type HttpServer } from './http-server.js';
import {
  countingDispatcher,
  countingIndexPass,
  countingMarketSource,
  countingSink,
  indexerFigures,
} from './instrument.js';
import { createOpsMetrics, type OpsMetrics } from './metrics.js';

export interface OperationsOptions {
  host: string;
  port: number;
  /** Front ends that will start; their metric series exist from the first scrape. */
  platforms: readonly Platform[];
  logger: Logger;
  clock: Clock;
  /** Values scrubbed from every answer (tokens, keys), as the logger does. */
  secrets: readonly string[];
  /** How often the figures kept in the database (outbox; the index on a standby) are re-read. Default 10 s. */
  storeFiguresIntervalMs?: number;
}

/**
 * With instances sharing a PostgreSQL store: this instance's role, and whether the server answers it. Without it
 * (the SQLite file) the instance is the only one: it leads, and its store is the file.
 */
export interface SharedStoreHealth {
  role(): InstanceRole;
  /** The leader elector's `reach()`: what its own connection last found, read without a query. */
  reach(): StoreReach;
}

export interface Operations {
  readonly server: HttpServer;
  readonly metrics: OpsMetrics;
  /** For `createApp`: counts upstream requests, market refreshes, commands and evaluations. */
  readonly instruments: AppInstruments;
  /** A sink that counts its deliveries and 429s. */
  sink(sink: Sink): Sink;
  /**
   * One leader term of the outbox gauge, for the leader's work to start and stop: counted at once, then every
   * `storeFiguresIntervalMs` while someone scrapes (and at once when a scrape ends a pause); stopping removes the
   * gauge's series. Only the leader delivers
   * (`opg_alert_deliveries_total`), so only it reports the backlog: a standby exports no
   * `opg_alert_outbox_pending`, and an alert rule comparing the two on one instance holds on every instance.
   */
  outboxGauge(app: App): () => { stop(): void };
  /**
   * One standby term of the index figures (`opg_indexer_block`, `opg_indexer_head_lag_blocks`,
   * `opg_inferences_total`): read from the shared store at once and then as the outbox gauge is, so a standby
   * reports where the leader's index stands rather than where it stood when this instance started.
   */
  indexerGauges(app: App): () => { stop(): void };
  /** The indexer's `runOnce`, counting each pass's logs and updating the index figures. */
  indexPass(app: App): () => Promise<IndexRun>;
  /** Mounts the routes over the app and starts listening. Resolves with the bound address. */
  start(
    app: App,
    platforms: readonly PlatformConnection[],
    shared?: SharedStoreHealth,
  ): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

export function createOperations(options: OperationsOptions): Operations {
  const { logger, clock } = options;
  const startedAtMs = clock.now();
  let marketFetchedAtMs: () => number | null = () => null;
  const metrics = createOpsMetrics({
    platforms: options.platforms,
    marketFetchedAtMs: () => marketFetchedAtMs(),
    nowMs: () => clock.now(),
  });
  const server = createHttpServer({ host: options.host, port: options.port, logger });
  const scrub = (text: string) => options.secrets.reduce((t, s) => (s ? t.split(s).join('[redacted]') : t), text);
  const watchTimers = new Set<NodeJS.Timeout>();
  /** Watches whose last tick found nobody scraping, each with what wakes it. */
  const idleWatches = new Set<() => void>();
  let lastScrapeAtMs = startedAtMs;

  /**
   * Runs `read` at once, then every `storeFiguresIntervalMs` while someone scrapes (an endpoint nobody reads costs
   * nothing), never from a scrape itself. A scrape that finds the watch idle wakes it: `read` runs at once, beside
   * the scrape (which answers the figure it has), so the next scrape does not wait a whole interval for a fresh one.
   * `read` is told whether the watch has ended, so a figure that lands after `stop` is dropped.
   */
  function watchWhileScraped(failure: string, read: (ended: () => boolean) => Promise<void>): { stop(): void } {
    const intervalMs = options.storeFiguresIntervalMs ?? 10_000;
    let stopped = false;
    const ended = () => stopped;
    // Once per idle spell, however many scrapes find it idle before it runs.
    const wake = () => {
      if (idleWatches.delete(wake) && !stopped) run(true);
    };
    const run = (always: boolean) => {
      if (!always && clock.now() - lastScrapeAtMs > 12 * intervalMs) {
        idleWatches.add(wake);
        return;
      }
      read(ended).catch((err: unknown) => logger.warn({ err }, failure));
    };
    run(true);
    const timer = setInterval(() => run(false), intervalMs);
    timer.unref();
    watchTimers.add(timer);
    return {
      stop() {
        stopped = true;
        idleWatches.delete(wake);
        clearInterval(timer);
        watchTimers.delete(timer);
      },
    };
  }

  /** The skew check (clock-skew-check.ts), which also exports each figure it measures. */
  const compareClocks = (app: App) => clockSkewCheck(app.store, clock, logger, (s) => metrics.clockSkew(s))();

  const instruments: AppInstruments = {
    telemetry: metrics,
    dispatcherFor: (source, base) => countingDispatcher(base, source, metrics),
    marketSource: <S extends MarketSource>(source: S) => countingMarketSource(source, metrics),
  };

  return {
    server,
    metrics,
    instruments,
    sink: (sink) => countingSink(sink, metrics),
    outboxGauge: (app) => () => {
      void compareClocks(app);
      const outbox = app.store.stores.outboxStats;
      // A count that lands after the term ended must not bring the series back.
      const term = watchWhileScraped('could not count the alert outbox', async (ended) => {
        const pending = await outbox.pendingByPlatform();
        if (!ended()) metrics.outboxPending(pending);
      });
      return {
        stop() {
          term.stop();
          metrics.outboxPending(null);
        },
      };
    },
    indexerGauges: (app) => () => {
      void compareClocks(app);
      // The leader's passes move these figures; a standby reads where the leader's index stands from the store.
      return watchWhileScraped('could not read the index figures', async (ended) => {
        const figures = await indexerFigures(app.indexer);
        if (!ended()) metrics.indexerState(figures);
      });
    },
    indexPass: (app) => countingIndexPass(app.indexer, metrics),
    async start(app, platforms, shared) {
      const market = () => app.core.snapshot().market;
      // Every body names the role: the elector's with a shared PostgreSQL store; on the SQLite file this instance
      // is the only one and leads (its front ends are its own to connect, so readiness waits for them).
      const role = (): InstanceRole => shared?.role() ?? 'leader';
      marketFetchedAtMs = () => market().fetchedAtMs;
      metrics.indexerState(await indexerFigures(app.indexer));
      await compareClocks(app);

      const json = (status: number, body: object) => ({
        status,
        body: scrub(JSON.stringify(body)),
        contentType: 'application/json; charset=utf-8',
      });
      server.route('GET', '/healthz', () => json(200, liveness(startedAtMs, clock.now())));
      server.route('GET', '/readyz', () => {
        const body = readiness({
          store: () => storeState(app, shared),
          platforms,
          marketFetchedAtMs: () => market().fetchedAtMs,
          marketError: () => market().error,
          staleAfterMs: app.config.staleAfterMs,
          nowMs: () => clock.now(),
          role,
        });
        return json(body.status === 'ok' ? 200 : 503, body);
      });
      server.route('GET', '/readyz/webhook', () => {
        const body = webhookReadiness({
          store: () => storeState(app, shared),
          platforms,
          role,
        });
        return json(body.status === 'ok' ? 200 : 503, body);
      });
      server.route('GET', '/metrics', async () => {
        lastScrapeAtMs = clock.now();
        // Off the scrape path: the recount starts once this answer is on its way.
        for (const wake of idleWatches) setImmediate(wake);
        const { contentType, body } = await metrics.scrape();
        return { status: 200, body: scrub(body), contentType };
      });
      const address = await server.listen();
      logger.info({ host: address.host, port: address.port }, 'operations endpoint listening');
      return address;
    },
    async close() {
      for (const timer of watchTimers) clearInterval(timer);
      idleWatches.clear();
      await server.close();
    },
  };
}

/**
 * The store check: closed once this process closed it; on PostgreSQL, whether the server answered the leader
 * elector's last lock request or check (made every LEADER_TAKEOVER_SECONDS/6 s whatever the role), so a probe
 * storm costs the database nothing and a server that is gone makes every instance unready, not only the leader.
 */
function storeState(app: App, shared: SharedStoreHealth | undefined): StoreState {
  if (!app.store.isOpen()) return { state: 'closed' };
  const reach = shared?.reach() ?? { state: 'reachable' };
  switch (reach.state) {
    case 'reachable':
      return { state: 'open' };
    case 'connecting':
      return { state: 'connecting', detail: `${app.store.where} has not answered yet` };
    case 'unreachable':
      return { state: 'unreachable', detail: `${app.store.where} does not answer: ${reach.reason}` };
  }
}
