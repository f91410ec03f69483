/**
 * Updates already taken, by id, for a platform that re-sends what was not acknowledged (Telegram's webhook
 * re-sends an update until an instance answers 200). Kept in the shared store, so a re-sent update runs once
 * across every instance. src/db/telegram-update-store.ts implements it.
 */
export interface UpdateLedger {
  /** Records `updateId` as taken; true when this call took it, false when it was taken before. */
  claim(updateId: number, nowMs: number): Promise<boolean>;
  /** Forgets updates taken before `beforeMs`. @returns how many were forgotten. */
  prune(beforeMs: number): Promise<number>;
}

/** Telegram keeps an unconfirmed update for 24 hours; a ledger entry older than that can go. */
export const UPDATE_LEDGER_RETENTION_MS = 24 * 60 * 60_000;
