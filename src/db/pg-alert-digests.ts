/** Daily digests, in PostgreSQL: as `alert-digests.ts`, the chats' ids bound as one array. */
import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Crossing } from '../core/alert-rules.js';
import type { DigestStore } from '../core/alert-ports.js';
import { splitFanouts } from './pg-alert-outbox.js';
import { selectPgSubscriptions } from './pg-alert-subscriptions.js';
import { alertOutbox, alertPayloads, alertSubscriptions } from './pg-schema/index.js';
import { pgRows } from './pg-statement.js';
import type { PgStoreDb } from './postgres.js';

export function createPgDigestStore(db: PgStoreDb): DigestStore {
  const o = alertOutbox;
  const p = alertPayloads;
  return {
    async withDigest() {
      return selectPgSubscriptions(db).where(
        and(isNotNull(alertSubscriptions.digestMinute), eq(alertSubscriptions.status, 'active')),
      );
    },
    async alertedSince(subscriptionIds, sinceMs) {
      await splitFanouts(db);
      const alerted = new Map<number, Crossing[]>();
      const rows = await pgRows<{ subscriptionId: number; crossingsJson: string }>(
        db,
        sql`SELECT ${o.subscriptionId}::float8 AS "subscriptionId", ${p.crossingsJson} AS "crossingsJson"
            FROM ${o} JOIN ${p} ON ${p.id} = ${o.payloadId}
            WHERE ${o.createdAtMs} >= ${sinceMs} AND ${o.kind} = 'alert'
              AND ${o.subscriptionId} = ANY(${`{${subscriptionIds.join(',')}}`}::bigint[])
            ORDER BY ${o.payloadId}, ${o.id}`,
      );
      for (const row of rows) {
        const list = alerted.get(row.subscriptionId) ?? [];
        list.push(...(JSON.parse(row.crossingsJson) as Crossing[]));
        alerted.set(row.subscriptionId, list);
      }
      return alerted;
    },
    async queue(digests, nowMs) {
      return db.transaction(async (tx) => {
        let queued = 0;
        for (const digest of digests) {
          // Compare and set, as in SQLite: an UPDATE waits for another instance's transaction on the row and then
          // re-reads it, so of two leaders overlapping in a hand-over only the first queues the digest.
          const claimed = await tx
            .update(alertSubscriptions)
            .set({ lastDigestAtMs: nowMs })
            .where(
              and(
                eq(alertSubscriptions.id, digest.subscriptionId),
                digest.lastDigestAtMs === null
                  ? isNull(alertSubscriptions.lastDigestAtMs)
                  : eq(alertSubscriptions.lastDigestAtMs, digest.lastDigestAtMs),
              ),
            )
            .returning({ id: alertSubscriptions.id });
          if (claimed.length === 0) continue;
          const [payload] = await tx
            .insert(p)
            .values({ replyJson: JSON.stringify(digest.reply), crossingsJson: '[]', createdAtMs: nowMs })
            .returning({ id: p.id });
          await tx.insert(o).values({
            subscriptionId: digest.subscriptionId,
            kind: 'digest',
            payloadId: payload!.id,
            createdAtMs: nowMs,
            attempts: 0,
            nextAttemptAtMs: nowMs,
          });
          queued += 1;
        }
        return queued;
      });
    },
  };
}
