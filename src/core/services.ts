/**
 * What commands may use beyond the core's market snapshot. `src/app.ts` supplies every field; commands
 * reach them through `ctx.services`.
 */
import type { AlertSettings } from './alert-settings.js';
import type { ChartService } from './charts/chart-service.js';
import type { InferenceIndex, InferenceReader } from './inferences.js';
import type { ListingSettings, MarketsService } from './markets.js';
import type { ParticipantReader } from './participants.js';
import type { Telemetry } from './telemetry.js';

export type {
  IndexerStatus,
  InferenceHour,
  InferenceIndex,
  InferenceReader,
  ModeCounts,
  NetworkActivity,
} from './inferences.js';

export interface Services {
  /** Hourly inference buckets, for the inference chart. */
  inferences: InferenceReader;
  /** The indexer's totals and progress, for `inferences`, `stats` and `supply`. */
  indexer: InferenceIndex;
  /** Callers, TEE operators and workflow developers, for `network`, `stats` and the callers chart. */
  participants: ParticipantReader;
  /**
   * No TEE registry or task scheduler emitted anything before this block (OG_CONTRACTS_FROM_BLOCK, default 0:
   * the earliest of their deployments at the latest): a participant history read from it or earlier holds every
   * registration, so all-time figures can be shown.
   */
  contractsFromBlock: number;
  /** History fills and PNG rendering for `chart`. */
  charts: ChartService;
  /** Subscriptions and thresholds, for the `alerts` commands, `volume` and the ratio chart. */
  alerts: AlertSettings;
  /** Where the volume trades (CoinGecko tickers), for `markets`, `volume` and `chart venues`. */
  markets: MarketsService;
  /** Each subscription's choice to take new-listing alerts, for `alerts listings`. */
  listings: ListingSettings;
  /** Counts and times commands for the operator's metrics (`noTelemetry` when the operations endpoint is off). */
  telemetry: Telemetry;
}
