/**
 * The bot's Prometheus metrics, on a registry of its own (never prom-client's global one), with
 * prom-client's default process metrics beside them. The names are a contract: dashboards and alert rules
 * are shared between deployments, so a rename is a breaking change.
 *
 * Cardinality is bounded whatever the number of chats: labels are a platform, a command path, a source, an
 * HTTP status code, a verification mode or a result, never a chat, user or guild id. A scrape reads memory
 * only; the figures that need the database (outbox, indexer) are refreshed off the scrape path.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Platform } from '../core/chat.js';
import type { ModeCounts } from '../core/services.js';
import type { CommandOutcome, Telemetry } from '../core/telemetry.js';

export type UpstreamSource = 'coingecko' | 'rpc' | 'explorer';
/**
 * The results `opg_alert_deliveries_total` knows, as the operations issue names them. A chat that moved (a group
 * became a supergroup) counts as `retry`: its row is released and sent again to the new chat id.
 */
export type DeliveryMetricResult = 'delivered' | 'retry' | 'gone' | 'failed';
export const INFERENCE_MODES = ['vanilla', 'tee', 'zkml', 'unknown'] as const;

export interface OpsMetricsOptions {
  /** Platforms that are configured, so their series exist (at 0) from the first scrape. */
  platforms: readonly Platform[];
  /** Epoch ms of the last good market reading, or null when there is none; read at each scrape. */
  marketFetchedAtMs(): number | null;
  /** Epoch ms now (the bot's clock). */
  nowMs(): number;
}

export interface IndexerFigures {
  /** The last block counted, or null before the first chunk. */
  indexedBlock: number | null;
  headBlock: number | null;
  /** Inferences counted so far, all time, per mode. */
  totals: ModeCounts;
}

export interface OpsMetrics extends Telemetry {
  readonly registry: Registry;
  /** The text a scrape answers, and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
  marketRefreshed(ok: boolean): void;
  /** One HTTP request to an upstream: its status code, or null when no answer came (network, timeout). */
  upstreamRequest(source: UpstreamSource, statusCode: number | null): void;
  /**
   * After an indexer pass: whether it completed (`ok`; a failed one stopped early, the cursor kept its place), the
   * logs it read, and where the index stands (null when the store could not say).
   */
  indexerPass(ok: boolean, logs: number, figures: IndexerFigures | null): void;
  /** Where the index stands (at start, before the first pass). */
  indexerState(figures: IndexerFigures): void;
  delivery(platform: Platform, result: DeliveryMetricResult): void;
  rateLimited(platform: Platform): void;
  /**
   * Replaces the outbox figures (every platform not in the map has none pending); `null` removes the gauge's
   * series, as on an instance that does not lead (the leader alone delivers, so it alone reports the backlog).
   */
  outboxPending(byPlatform: ReadonlyMap<Platform, number> | null): void;
  /** This instance's clock minus the PostgreSQL server's, in seconds, as last measured. */
  clockSkew(seconds: number): void;
}

/** Upper bounds in seconds: a command answers in tens of ms from memory; a chart renders in about a second. */
const COMMAND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Evaluation of 100,000 subscriptions is budgeted at 200 ms. */
const EVALUATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5];

export function createOpsMetrics(options: OpsMetricsOptions): OpsMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const refreshes = new Counter({
    name: 'opg_market_refresh_total',
    help: 'Market refreshes from CoinGecko, by result.',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of ['ok', 'failed']) refreshes.inc({ result }, 0);

  new Gauge({
    name: 'opg_market_age_seconds',
    help: 'Age of the last good market reading; +Inf when there is none.',
    registers,
    collect() {
      const fetchedAtMs = options.marketFetchedAtMs();
      this.set(fetchedAtMs === null ? Number.POSITIVE_INFINITY : Math.max(0, (options.nowMs() - fetchedAtMs) / 1000));
    },
  });

  const upstream = new Counter({
    name: 'opg_upstream_requests_total',
    help:
      'HTTP requests to CoinGecko, the OpenGradient RPC and the explorer, by status code ("error" when no ' +
      'answer came).',
    labelNames: ['source', 'status'] as const,
    registers,
  });

  const indexerBlock = new Gauge({
    name: 'opg_indexer_block',
    help: 'The last OpenGradient block the indexer counted; NaN before the first.',
    registers,
  });
  const headLag = new Gauge({
    name: 'opg_indexer_head_lag_blocks',
    help:
      'Blocks between the chain head last seen and the last block counted (confirmations included); NaN until ' +
      'both are known.',
    registers,
  });
  // Unknown is not zero: a lag of 0 would read as "caught up".
  indexerBlock.set(Number.NaN);
  headLag.set(Number.NaN);
  // The head lag is recomputed from the store after each pass, so it keeps its last value while every pass fails:
  // these two say whether passes still complete.
  const indexerPasses = new Counter({
    name: 'opg_indexer_passes_total',
    help:
      "This instance's indexer passes, by result (ok: completed; failed: stopped early, the cursor kept its " +
      'place).',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of ['ok', 'failed']) indexerPasses.inc({ result }, 0);
  const indexerLastSuccess = new Gauge({
    name: 'opg_indexer_last_success_timestamp_seconds',
    help: "Unix time of this instance's last indexer pass that completed; NaN before the first.",
    registers,
  });
  indexerLastSuccess.set(Number.NaN);
  const indexerLogs = new Counter({
    name: 'opg_indexer_logs_total',
    help: 'Inference event logs the indexer read.',
    registers,
  });
  const inferences = new Counter({
    name: 'opg_inferences_total',
    help: 'Inferences counted on the OpenGradient chain, all time, by verification mode.',
    labelNames: ['mode'] as const,
    registers,
  });
  const inferencesSeen = new Map<string, number>();

  const commands = new Counter({
    name: 'opg_commands_total',
    help: 'Commands answered, by platform, command and outcome (ok, refused, usage, error).',
    labelNames: ['platform', 'command', 'outcome'] as const,
    registers,
  });
  const commandSeconds = new Histogram({
    name: 'opg_command_duration_seconds',
    help: 'Time from a parsed command to its reply, by platform.',
    labelNames: ['platform'] as const,
    buckets: COMMAND_BUCKETS,
    registers,
  });
  const evaluationSeconds = new Histogram({
    name: 'opg_alert_evaluation_duration_seconds',
    help: 'Time to evaluate every alert subscription after a fresh refresh.',
    buckets: EVALUATION_BUCKETS,
    registers,
  });
  const pending = new Gauge({
    name: 'opg_alert_outbox_pending',
    help: 'Alert messages waiting for delivery to active chats, by platform; exported by the leader only.',
    labelNames: ['platform'] as const,
    registers,
  });
  const deliveries = new Counter({
    name: 'opg_alert_deliveries_total',
    help:
      'Alert delivery attempts, by platform and result (delivered; retry, a chat that moved included; gone; ' +
      'failed, refused for good).',
    labelNames: ['platform', 'result'] as const,
    registers,
  });
  const givenUp = new Counter({
    name: 'opg_alert_deliveries_given_up_total',
    help: 'Alerts given up undelivered: refused for good, or still failing after the last attempt.',
    labelNames: ['platform'] as const,
    registers,
  });
  const rateLimits = new Counter({
    name: 'opg_platform_rate_limited_total',
    help: 'Answers from Telegram or Discord that said to slow down (429).',
    labelNames: ['platform'] as const,
    registers,
  });
  const clockSkew = new Gauge({
    name: 'opg_clock_skew_seconds',
    help:
      "This instance's clock minus the PostgreSQL server's (positive: ahead), measured at start and at each " +
      'change of role; NaN on SQLite and until measured. Leases assume synchronised clocks.',
    registers,
  });
  clockSkew.set(Number.NaN);
  const knownPlatforms = new Set<Platform>(options.platforms);
  // Every series whose label values are known up front exists at 0 from the first scrape, so a dashboard shows 0,
  // not "no data", and rate() has a first sample. Command names and upstream status codes are not known up front.
  for (const platform of options.platforms) {
    commandSeconds.zero({ platform });
    rateLimits.inc({ platform }, 0);
    for (const result of ['delivered', 'retry', 'gone', 'failed']) deliveries.inc({ platform, result }, 0);
    givenUp.inc({ platform }, 0);
  }

  function setIndexer(figures: IndexerFigures): void {
    if (figures.indexedBlock !== null) indexerBlock.set(figures.indexedBlock);
    if (figures.indexedBlock !== null && figures.headBlock !== null)
      headLag.set(Math.max(0, figures.headBlock - figures.indexedBlock));
    for (const mode of INFERENCE_MODES) {
      // A counter only goes up: it follows the stored totals by their growth since the last look.
      const total = figures.totals[mode];
      const seen = inferencesSeen.get(mode);
      if (seen === undefined || total >= seen) inferences.inc({ mode }, seen === undefined ? total : total - seen);
      inferencesSeen.set(mode, total);
    }
  }

  return {
    registry,
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    commandRan(platform: Platform, command: string, outcome: CommandOutcome, durationMs: number) {
      commands.inc({ platform, command, outcome });
      commandSeconds.observe({ platform }, durationMs / 1000);
    },
    alertsEvaluated(durationMs) {
      evaluationSeconds.observe(durationMs / 1000);
    },
    alertGivenUp(platform) {
      givenUp.inc({ platform });
    },
    marketRefreshed(ok) {
      refreshes.inc({ result: ok ? 'ok' : 'failed' });
    },
    upstreamRequest(source, statusCode) {
      upstream.inc({ source, status: statusCode === null ? 'error' : String(statusCode) });
    },
    indexerPass(ok, logs, figures) {
      indexerPasses.inc({ result: ok ? 'ok' : 'failed' });
      if (ok) indexerLastSuccess.set(options.nowMs() / 1000);
      indexerLogs.inc(logs);
      if (figures) setIndexer(figures);
    },
    indexerState: setIndexer,
    delivery(platform, result) {
      deliveries.inc({ platform, result });
    },
    rateLimited(platform) {
      rateLimits.inc({ platform });
    },
    outboxPending(byPlatform) {
      if (byPlatform === null) return pending.reset();
      for (const platform of byPlatform.keys()) knownPlatforms.add(platform);
      for (const platform of knownPlatforms) pending.set({ platform }, byPlatform.get(platform) ?? 0);
    },
    clockSkew(seconds) {
      clockSkew.set(seconds);
    },
  };
}
