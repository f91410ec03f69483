/**
 * Updates taken, by id, for a platform that delivers again what was not acknowledged (Telegram's webhook
 * re-sends an update until an instance answers 200; its `getUpdates` hands out every update not yet confirmed
 * by a later offset, as to a new leader after the old one died). Kept in the shared store, so an update
 * delivered again runs once across every instance, and is never lost: a claim is released when its run fails,
 * and taken over once its lease lapses (the instance that held it died). src/db/telegram-update-store.ts
 * implements it.
 */
export interface UpdateLedger {
  /**
   * Takes `updateId` at `nowMs`, atomically across instances: `claimed` when this call took it (a new update, a
   * released claim, or a claim unfinished past `UPDATE_CLAIM_LEASE_MS`); `finished` when a run of it finished;
   * `running` when another claim on it is within its lease.
   */
  claim(updateId: number, nowMs: number): Promise<UpdateClaim>;
  /**
   * Records that a run of `updateId` finished: it never runs again. Recorded even when another instance took
   * the claim over meanwhile, since this run did happen.
   */
  finish(updateId: number, nowMs: number): Promise<void>;
  /**
   * Gives up the claim taken at `claimedAtMs` (its run failed), so the re-sent update runs again. A claim
   * another instance has taken over since is left alone.
   */
  release(updateId: number, claimedAtMs: number): Promise<void>;
  /** Forgets updates first received before `beforeMs`. @returns how many were forgotten. */
  prune(beforeMs: number): Promise<number>;
}

export type UpdateClaim = 'claimed' | 'finished' | 'running';

/** Telegram keeps an unconfirmed update for 24 hours; a ledger entry older than that can go. */
export const UPDATE_LEDGER_RETENTION_MS = 24 * 60 * 60_000;

/**
 * How long a claim keeps a re-sent update from running again while its run has not finished. Past it, the
 * claim counts as left behind by a dead instance and the next re-send takes it over.
 *
 * Longer than the webhook's answer deadline (10 s, after which grammY's webhookCallback answers Telegram 200
 * with `onTimeout: 'return'` and the run goes on): a re-send can only come before that 200, so a slow run (a
 * chart) is never started a second time while its first instance still works on it. Short enough that an
 * update whose instance was killed runs on a survivor at one of Telegram's next re-sends, well inside the
 * 24 hours Telegram keeps it.
 */
export const UPDATE_CLAIM_LEASE_MS = 30_000;
