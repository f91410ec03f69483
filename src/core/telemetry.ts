/**
 * What the core reports about its own work, for the operator's metrics. A port: the core calls it, the
 * operations module (`src/ops`) implements it with Prometheus counters; nothing here knows about
 * Prometheus. Labels are bounded by design: a platform and a command path, never a chat, user or guild id.
 */
import type { Platform } from './chat.js';

/** How a command ended: answered, refused (moderators only), bad input, or failed. */
export type CommandOutcome = 'ok' | 'refused' | 'usage' | 'error';

export interface Telemetry {
  /**
   * A command was answered. `command` is its path, such as `alerts add`, or `(unresolved)` for input that named none.
   */
  commandRan(platform: Platform, command: string, outcome: CommandOutcome, durationMs: number): void;
  /** One alert evaluation over every subscription, after a fresh refresh. */
  alertsEvaluated(durationMs: number): void;
  /** An alert was given up undelivered: refused for good, or still failing after the last attempt. */
  alertGivenUp(platform: Platform): void;
}

/** Reports nothing: the default where no operations endpoint is configured, and in tests. */
export const noTelemetry: Telemetry = {
  commandRan: () => {},
  alertsEvaluated: () => {},
  alertGivenUp: () => {},
};
