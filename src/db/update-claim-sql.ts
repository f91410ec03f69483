/**
 * When an instance may take a Telegram update (core/update-ledger.ts), written once for both dialects' ledgers:
 * the update has not finished, and no claim holds it (released after a failed run) or its claim is older than
 * the lease (its instance died mid-run).
 */
import { and, isNull, lte, or, type Column, type SQL } from 'drizzle-orm';
import { UPDATE_CLAIM_LEASE_MS } from '../core/update-ledger.js';

export function claimable(columns: { claimedAtMs: Column; finishedAtMs: Column }, nowMs: number): SQL {
  return and(
    isNull(columns.finishedAtMs),
    or(isNull(columns.claimedAtMs), lte(columns.claimedAtMs, nowMs - UPDATE_CLAIM_LEASE_MS)),
  )!;
}
