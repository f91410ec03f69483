/**
 * What commands may use beyond the core's market snapshot. Each feature provides its service from
 * `src/app.ts`; commands reach it through `ctx.services`. A field is optional while a command must still
 * answer without it (for example `stats` before the inference indexer is configured).
 */
import type { AlertSettings } from './alerts.js';
import type { ChatRef } from './command.js';
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

export interface Services {
  inferences?: InferenceReader;
  thresholds?: ThresholdReader;
  /** Subscriptions and thresholds, for the `alerts` commands. */
  alerts?: AlertSettings;
  /** What adapters call when a chat migrates or the bot loses access to it. */
  chats?: ChatLifecycle;
}
