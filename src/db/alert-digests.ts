/**
 * Daily digests, in SQLite: which subscriptions want one, what each was alerted to over the day, and
 * queueing the digests (a payload and an outbox row each, and the time of the last digest) together.
 */
import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Crossing } from '../core/alert-rules.js';
import type { DigestStore } from '../core/alert-ports.js';
import type { Database } from './open.js';
import { alertCooldowns, alertOutbox, alertPayloads, alertSubscriptions } from './schema/index.js';
import { prepareFanoutSplit } from './alert-outbox.js';
import { subscriptionColumns } from './alert-subscriptions.js';
import { prepare } from './statement.js';

export function createDigestStore(database: Database): DigestStore {
  const { db, sqlite } = database;
  const o = alertOutbox;
  const p = alertPayloads;
  const splitFanouts = prepareFanoutSplit(database);
  // One pass over the period's rows (time index) for every chat whose digest is due; the chats' ids come as
  // one JSON array, so any number of them is one bound value.
  const alertedSince = prepare(
    sqlite,
    sql`SELECT ${o.subscriptionId} AS subscriptionId, ${p.crossingsJson} AS crossingsJson
        FROM ${o} JOIN ${p} ON ${p.id} = ${o.payloadId}
        WHERE ${o.createdAtMs} >= ${sql.placeholder('sinceMs')} AND ${o.kind} = 'alert'
          AND ${o.subscriptionId} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))
        ORDER BY ${o.payloadId}, ${o.id}`,
  );

  return {
    async withDigest() {
      return db
        .select(subscriptionColumns)
        .from(alertSubscriptions)
        .leftJoin(alertCooldowns, eq(alertCooldowns.subscriptionId, alertSubscriptions.id))
        .where(and(isNotNull(alertSubscriptions.digestMinute), eq(alertSubscriptions.status, 'active')))
        .all();
    },
    async alertedSince(subscriptionIds, sinceMs) {
      splitFanouts();
      const alerted = new Map<number, Crossing[]>();
      for (const row of alertedSince.all<{ subscriptionId: number; crossingsJson: string }>({
        sinceMs,
        ids: JSON.stringify(subscriptionIds),
      })) {
        const list = alerted.get(row.subscriptionId) ?? [];
        list.push(...(JSON.parse(row.crossingsJson) as Crossing[]));
        alerted.set(row.subscriptionId, list);
      }
      return alerted;
    },
    async queue(digests, nowMs) {
      return db.transaction((tx) => {
        let queued = 0;
        for (const digest of digests) {
          // Compare and set: the digest is this instance's to queue only if nobody recorded one since it was built.
          const claimed = tx
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
            .run();
          if (claimed.changes === 0) continue;
          const { id: payloadId } = tx
            .insert(p)
            .values({ replyJson: JSON.stringify(digest.reply), crossingsJson: '[]', createdAtMs: nowMs })
            .returning({ id: p.id })
            .get();
          tx.insert(o)
            .values({
              subscriptionId: digest.subscriptionId,
              kind: 'digest',
              payloadId,
              createdAtMs: nowMs,
              attempts: 0,
              nextAttemptAtMs: nowMs,
            })
            .run();
          queued += 1;
        }
        return queued;
      });
    },
  };
}
