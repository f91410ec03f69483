/**
 * Who uses the OpenGradient network, as the chain shows it (DATA-SOURCES.md §4): callers (the senders of
 * transactions that emitted a precompile inference event), TEE operators and workflow developers. The
 * figures are counts of what the indexer stored; this file holds the port the store implements and the
 * windows every figure is measured over, so a command and its tests agree on them.
 *
 * Caller windows are whole UTC days ending at the start of today, so every window is as long as the one it
 * is compared with and a figure does not dip at midnight: "the last 7 days" are the 7 full UTC days before
 * today, "the 7 days before" the 7 before those, "the last 30 days" the 30 full UTC days before today. Today
 * so far counts in none of them. A caller is active in a window when it sent at least one such transaction
 * on one of its days.
 */

export const DAY_MS = 86_400_000;

/** The UTC day that holds `ms`. */
export const dayStart = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

export interface CallerWindows {
  /** The start of today, exclusive: the last 7 and last 30 days end here. */
  endMs: number;
  /** First day of the last 7 days, of the 7 days before them (which end at `last7Ms`), and of the last 30 days. */
  last7Ms: number;
  previous7Ms: number;
  last30Ms: number;
}

export function callerWindows(nowMs: number): CallerWindows {
  const today = dayStart(nowMs);
  return {
    endMs: today,
    last7Ms: today - 7 * DAY_MS,
    previous7Ms: today - 14 * DAY_MS,
    last30Ms: today - 30 * DAY_MS,
  };
}

export interface CallerFigures {
  /** Callers active in the last 7 days, and those of them first seen in those days. */
  active7: number;
  new7: number;
  /** Callers active in the 7 days before, and those of them active again in the last 7. */
  previous7: number;
  retained7: number;
  /** Over the last 30 days: callers, their precompile inferences, those sent by callers active on 2+ days. */
  callers30: number;
  inferences30: number;
  repeatInferences30: number;
  /** Inferences of the 10 callers with the most in the last 30 days. */
  top10Inferences30: number;
}

export interface OperatorFigures {
  /** Distinct TEE ids with a `TEERegistered` event (and no `TEERemoved` since). */
  registered: number;
  /**
   * Those by the type their registration gave (0 LLM proxy, 1 validator, another value not defined by the
   * SDK). A TEE registered with one type on one registry and another on a second counts under each type.
   */
  registeredLlmProxy: number;
  registeredValidator: number;
  registeredOtherType: number;
  /** Distinct TEE ids enabled now. */
  enabled: number;
  /** Those by type, as `registered…` (a TEE of two types on two registries counts under each). */
  enabledLlmProxy: number;
  enabledValidator: number;
  /** Enabled with a type never seen (registered before the indexed history) or not defined by the SDK. */
  enabledOtherType: number;
  /**
   * TEEs enabled now on each registry that emitted an event read, by lowercase address (ascending). A TEE
   * enabled on two registries counts on each, and once in the figures above.
   */
  enabledByRegistry: ReadonlyArray<{ registry: string; enabled: number }>;
  /** TEEs with at least one `IndividualSettlement` in the last 7 days, those settlements, and the busiest's. */
  settling7: number;
  settlements7: number;
  busiestSettlements7: number;
  /** TEEs with a `HeartbeatReceived` at or after the given time. */
  heartbeats: number;
}

export interface DeveloperFigures {
  /** Accounts with a `TaskRegistered` event. */
  registrants: number;
  /** Tasks registered or updated, not stopped, whose end time is after now. */
  activeTasks: number;
}

export interface CallerWeek {
  startMs: number;
  active: number;
  /** Of `active`, first seen that week. */
  newCallers: number;
}

export interface ParticipantCoverage {
  /** The first block whose participants were read, and its time. */
  fromBlock: number;
  fromBlockTimeMs: number;
}

/** A TEE registry or task scheduler event, decoded; addresses and ids lowercase. */
export type ParticipantEvent =
  | { type: 'tee-registered'; registry: string; teeId: string; owner: string; teeType: number }
  | { type: 'tee-enabled' | 'tee-disabled' | 'tee-removed' | 'heartbeat'; registry: string; teeId: string }
  | {
      type: 'task-registered' | 'task-updated';
      user: string;
      contractAddress: string;
      endTimeSec: number;
      frequency: number;
    }
  | { type: 'task-stopped'; user: string; contractAddress: string };

/** What one indexed range adds. */
export interface ParticipantChunk {
  network: string;
  /** `dayMs|address` (see `callerDayKey`) → precompile inference events in transactions the address sent that day. */
  callerDays: ReadonlyMap<string, number>;
  /** `dayMs|teeId` → `IndividualSettlement` events of that TEE that day. */
  teeDays: ReadonlyMap<string, number>;
  /** Registry and task events, in chain order, each with its block's time. */
  events: ReadonlyArray<{ event: ParticipantEvent; blockTimeMs: number }>;
  /** Set by the first range recorded: where the participant history starts. */
  coverage?: ParticipantCoverage;
}

export const callerDayKey = (dayMs: number, address: string) => `${dayMs}|${address}`;

/** Read access to the stored participant figures (the participant stores implement it). */
export interface ParticipantReader {
  /** Null until the indexer has committed a range with participants recorded. */
  coverage(): Promise<ParticipantCoverage | null>;
  callers(windows: CallerWindows): Promise<CallerFigures>;
  operators(windows: CallerWindows, heartbeatSinceMs: number): Promise<OperatorFigures>;
  developers(nowMs: number): Promise<DeveloperFigures>;
  /** Weeks of 7 UTC days starting at each of `weekStartsMs` (ascending, 7 days apart), up to `endMs`. */
  callerWeeks(weekStartsMs: readonly number[], endMs: number): Promise<CallerWeek[]>;
}

/**
 * The indexer's port to the participant tables (db/participant-store.ts and db/pg-participant-store.ts
 * implement it). A range's findings are written by `InferenceStore.commitChunk`, in the transaction that
 * moves the cursor.
 */
export interface ParticipantStore extends ParticipantReader {
  coverageOf(network: string): Promise<ParticipantCoverage | null>;
  /** Computes the caller figures for the windows of `nowMs` ahead of the commands that will ask. */
  warm(nowMs: number): Promise<void>;
}
