/**
 * What commands may use beyond the core's market snapshot. Each feature provides its service from
 * `src/app.ts`; commands reach it through `ctx.services`. A field is optional while a command must still
 * answer without it (for example `stats` before the inference indexer is configured).
 */
import type { ChartService } from './charts/chart-service.js';
import type { AlertSettings } from './alerts.js';
import type { ChatRef } from './command.js';
import type { ParticipantReader } from './participants.js';
import type { ChatLifecycle } from './sink.js';

/** One hour of inferences, by verification mode. */
export interface InferenceHour {
  hourMs: number;
  vanilla: number;
  tee: number;
  zkml: number;
  unknown: number;
}

/** Read access to the indexed inference counts (the indexer implements it). */
export interface InferenceReader {
  /** Hourly buckets from `sinceMs` on, oldest first, hours with no inferences omitted. */
  hourly(sinceMs: number): InferenceHour[];
}

/** Read access to a chat's alert thresholds (the alerts service implements it), for the ratio chart. */
export interface ThresholdReader {
  thresholdsFor(chat: ChatRef): number[];
}

/** Inferences per verification mode, and their sum. */
export interface ModeCounts {
  vanilla: number;
  tee: number;
  zkml: number;
  unknown: number;
  total: number;
}

/** The explorer's network counters (Blockscout `/stats`). */
export interface NetworkActivity {
  totalTransactions: number;
  transactionsToday: number;
  fetchedAtMs: number;
}

/** Where the inference indexer stands. Blocks are chain heights; times epoch ms. */
export interface IndexerStatus {
  fromBlock: number;
  /** Everything before this block is counted. */
  nextBlock: number;
  /** The head as last seen, and the highest block the indexer will read (head minus confirmations). */
  headBlock: number | null;
  safeHeadBlock: number | null;
  headSeenAtMs: number | null;
  /** Block time of the last counted block, when known. */
  indexedBlockTimeMs: number | null;
  lastRunAtMs: number | null;
  lastError: string | null;
  lastErrorAtMs: number | null;
  /** Logs that matched an inference event but could not be decoded (counted as `unknown`). */
  undecodableLogs: number;
}

/** Read access to the indexer's totals and progress, for `inferences`, `stats` and `supply`. */
export interface InferenceIndex {
  /** Inferences per mode in hours starting at or after `sinceMs`; all time when omitted. */
  totals(sinceMs?: number): ModeCounts;
  /** Null until the indexer has run once. */
  status(): IndexerStatus | null;
  network(): NetworkActivity | null;
}

export interface Services {
  inferences?: InferenceReader;
  indexer?: InferenceIndex;
  /** Callers, TEE operators and workflow developers, for `network`, `stats` and the callers chart. */
  participants?: ParticipantReader;
  thresholds?: ThresholdReader;
  /** History fills and PNG rendering for `chart`. */
  charts?: ChartService;
  /** Subscriptions and thresholds, for the `alerts` commands. */
  alerts?: AlertSettings;
  /** What adapters call when a chat migrates or the bot loses access to it. */
  chats?: ChatLifecycle;
}
