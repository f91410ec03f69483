/**
 * The alert outbox, in PostgreSQL: as `alert-outbox.ts`, for dispatchers that may run in two processes at
 * once (two leaders overlapping for a moment). A claim locks the row with `FOR UPDATE SKIP LOCKED`, so a
 * concurrent claimer passes over it instead of waiting, and takes the lease only when nobody holds it; the
 * lease, not the lock, is what keeps the other dispatcher away while the message is in flight.
 */
import { and, eq, isNotNull, lt, notInArray, or, sql } from 'drizzle-orm';
import type { OutboxHead, OutboxStore } from '../core/alert-ports.js';
import type { Reply } from '../core/reply.js';
import { alertOutbox, alertOutboxFanouts, alertPayloads, alertSubscriptions } from './pg-schema/index.js';
import { pgRows, pgRun } from './pg-statement.js';
import { heldOutboxRow } from './outbox-claim-sql.js';
import type { PgStoreDb } from './postgres.js';

/**
 * Splits every fan-out row (one per message of an evaluation, listing its chats) into outbox rows, one per chat
 * whose subscription still exists, as `prepareFanoutSplit` in alert-outbox.ts does. Deleting the fan-outs first
 * locks them, so two leaders splitting at once split each fan-out once: the second finds it gone. Run it inside
 * the caller's transaction, or alone (its statement is one transaction).
 * @returns how many outbox rows it wrote.
 */
export async function splitFanouts(q: Pick<PgStoreDb, 'execute'>): Promise<number> {
  const f = alertOutboxFanouts;
  const o = alertOutbox;
  const s = alertSubscriptions;
  const [any] = await pgRows<{ any: boolean }>(q, sql`SELECT EXISTS (SELECT 1 FROM ${f}) AS "any"`);
  if (any?.any !== true) return 0;
  // A column of the deleted rows, as the CTE `fanouts` returns them (named by the schema, so a rename follows).
  const taken = (column: { name: string }) => sql`fanouts.${sql.identifier(column.name)}`;
  return pgRun(
    q,
    sql`WITH fanouts AS (DELETE FROM ${f} RETURNING *)
        INSERT INTO ${o} (${sql.identifier(o.subscriptionId.name)}, ${sql.identifier(o.kind.name)},
          ${sql.identifier(o.payloadId.name)}, ${sql.identifier(o.createdAtMs.name)},
          ${sql.identifier(o.attempts.name)}, ${sql.identifier(o.nextAttemptAtMs.name)})
        SELECT ${s.id}, ${taken(f.kind)}, ${taken(f.payloadId)}, ${taken(f.createdAtMs)}, 0, ${taken(f.createdAtMs)}
        FROM fanouts CROSS JOIN LATERAL json_array_elements_text(${taken(f.recipientsJson)}::json) AS chat(id)
          JOIN ${s} ON ${s.id} = chat.id::bigint
        ORDER BY ${taken(f.createdAtMs)}, ${s.id}, ${taken(f.id)}`,
  );
}

export function createPgOutboxStore(db: PgStoreDb): OutboxStore {
  const o = alertOutbox;
  const s = alertSubscriptions;
  const held = (id: number, claimedUntilMs: number | null) => heldOutboxRow(o, id, claimedUntilMs);
  const ids = { id: o.id };
  const changed = (rows: unknown[]) => rows.length === 1;
  return {
    // The oldest undelivered row per subscription (by payload, so by the time its message was written) comes
    // from the partial index of unsent rows.
    async heads(platform, limit) {
      await splitFanouts(db);
      const rows = await pgRows<OutboxHead>(
        db,
        sql`SELECT ${o.id}::float8 AS "id", ${o.subscriptionId}::float8 AS "subscriptionId", ${o.kind} AS "kind",
              ${o.payloadId}::float8 AS "payloadId", ${o.attempts} AS "attempts",
              ${o.nextAttemptAtMs}::float8 AS "nextAttemptAtMs", ${o.claimedUntilMs}::float8 AS "claimedUntilMs",
              ${s.platform} AS "platform", ${s.chatId} AS "chatId", ${s.threadId} AS "threadId",
              ${s.guildId} AS "guildId"
            FROM ${o} JOIN ${s} ON ${s.id} = ${o.subscriptionId}
            WHERE (${o.subscriptionId}, ${o.payloadId}) IN (SELECT ${o.subscriptionId}, min(${o.payloadId}) FROM ${o}
                                                            WHERE ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL
                                                            GROUP BY ${o.subscriptionId})
              AND ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL
              AND ${s.status} = 'active' AND ${s.platform} = ${platform}
            ORDER BY ${o.id} LIMIT ${limit}`,
      );
      return rows;
    },
    async payload(payloadId) {
      const [row] = await db
        .select({ replyJson: alertPayloads.replyJson })
        .from(alertPayloads)
        .where(eq(alertPayloads.id, payloadId));
      return row === undefined ? null : (JSON.parse(row.replyJson) as Reply);
    },
    async claim(id, nowMs, leaseMs) {
      const claimed = await pgRun(
        db,
        sql`UPDATE ${o} SET ${sql.identifier(o.claimedUntilMs.name)} = ${nowMs + leaseMs}
            WHERE ${o.id} = (SELECT ${o.id} FROM ${o}
                             WHERE ${o.id} = ${id} AND ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL
                               AND (${o.claimedUntilMs} IS NULL OR ${o.claimedUntilMs} <= ${nowMs})
                             FOR UPDATE SKIP LOCKED)
              AND ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL
              AND (${o.claimedUntilMs} IS NULL OR ${o.claimedUntilMs} <= ${nowMs})`,
      );
      return claimed === 1 ? nowMs + leaseMs : null;
    },
    async release(id, claimedUntilMs) {
      return changed(await db.update(o).set({ claimedUntilMs: null }).where(held(id, claimedUntilMs)).returning(ids));
    },
    async markSent(id, claimedUntilMs, nowMs) {
      const rows = await db
        .update(o)
        .set({ sentAtMs: nowMs, attempts: sql`${o.attempts} + 1`, lastError: null, claimedUntilMs: null })
        .where(held(id, claimedUntilMs))
        .returning(ids);
      return changed(rows);
    },
    async markRetry(id, claimedUntilMs, nextAttemptAtMs, reason) {
      const rows = await db
        .update(o)
        .set({ attempts: sql`${o.attempts} + 1`, nextAttemptAtMs, lastError: reason, claimedUntilMs: null })
        .where(held(id, claimedUntilMs))
        .returning(ids);
      return changed(rows);
    },
    async markFailed(id, claimedUntilMs, nowMs, reason) {
      const rows = await db
        .update(o)
        .set({ attempts: sql`${o.attempts} + 1`, failedAtMs: nowMs, lastError: reason, claimedUntilMs: null })
        .where(held(id, claimedUntilMs))
        .returning(ids);
      return changed(rows);
    },
    async prune(beforeMs) {
      await splitFanouts(db);
      await db.transaction(async (tx) => {
        await tx
          .delete(o)
          .where(
            or(
              and(isNotNull(o.sentAtMs), lt(o.sentAtMs, beforeMs)),
              and(isNotNull(o.failedAtMs), lt(o.failedAtMs, beforeMs)),
            ),
          );
        await tx
          .delete(alertPayloads)
          .where(
            and(
              lt(alertPayloads.createdAtMs, beforeMs),
              notInArray(alertPayloads.id, tx.select({ id: o.payloadId }).from(o)),
            ),
          );
      });
    },
  };
}
