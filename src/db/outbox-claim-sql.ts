/**
 * Which outbox row a settling call may change (core/alert-ports.ts `OutboxStore`), written once for both
 * dialects' outboxes: the row `id`, undelivered, while it still carries the lease the caller names (null: no
 * lease). A claim's lease end is its token, so a dispatcher whose lease ran out and was claimed again by
 * another settles nothing.
 */
import { and, eq, isNull, type Column, type SQL } from 'drizzle-orm';

export function heldOutboxRow(
  columns: { id: Column; sentAtMs: Column; failedAtMs: Column; claimedUntilMs: Column },
  id: number,
  claimedUntilMs: number | null,
): SQL {
  return and(
    eq(columns.id, id),
    isNull(columns.sentAtMs),
    isNull(columns.failedAtMs),
    claimedUntilMs === null ? isNull(columns.claimedUntilMs) : eq(columns.claimedUntilMs, claimedUntilMs),
  )!;
}
