/**
 * New-listing alerts and each subscription's choice to take them, in PostgreSQL: as `listing-alert-store.ts`
 * (read its comment for the cooldown rule). The write takes the evaluation's advisory lock for its
 * transaction: both set chats' cooldowns, so a listing and a ratio alert written at once by two overlapping
 * leaders still keep a chat's cooldown between them.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { ListingSettings } from '../core/markets.js';
import type { PgQueries } from './pg-alert-subscriptions.js';
import {
  alertCooldowns,
  alertListingPrefs,
  alertOutbox,
  alertPayloads,
  alertSubscriptions,
} from './pg-schema/index.js';
import { sendAtSql } from './cooldown-sql.js';
import { pgRows, pgRun } from './pg-statement.js';
import { ADVISORY_LOCK_NAMESPACE, EVALUATION_LOCK_KEY } from './postgres-settings.js';
import type { PgStoreDb } from './postgres.js';

const col = (column: { name: string }) => sql.identifier(column.name);

/**
 * Writes one listing alert to the outbox of every active chat with listings on, in one statement; call it
 * inside the transaction that recorded the reading (pg-markets-store.ts).
 * @returns outbox rows written.
 */
export async function writePgListing(q: PgQueries, replyJson: string, nowMs: number): Promise<number> {
  const s = alertSubscriptions;
  const c = alertCooldowns;
  const p = alertListingPrefs;
  const o = alertOutbox;
  const pl = alertPayloads;
  const now = sql`${nowMs}::bigint`;
  await q.execute(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_NAMESPACE}, ${EVALUATION_LOCK_KEY})`);
  const [written] = await pgRows<{ rows: number }>(
    q,
    sql`WITH payload AS (
          INSERT INTO ${pl} (${col(pl.replyJson)}, ${col(pl.crossingsJson)}, ${col(pl.createdAtMs)})
          VALUES (${replyJson}, '[]', ${now}) RETURNING ${col(pl.id)} AS id),
        queued AS (
          INSERT INTO ${o} (${col(o.subscriptionId)}, ${col(o.kind)}, ${col(o.payloadId)}, ${col(o.createdAtMs)},
            ${col(o.attempts)}, ${col(o.nextAttemptAtMs)})
          SELECT ${s.id}, 'listing', (SELECT id FROM payload), ${now}, 0, ${sendAtSql(c, now)}
          FROM ${s}
            LEFT JOIN ${c} ON ${c.subscriptionId} = ${s.id}
            LEFT JOIN ${p} ON ${p.subscriptionId} = ${s.id}
          WHERE ${s.status} = 'active' AND coalesce(${p.listingsOn}, 1) = 1
          ORDER BY ${s.id}
          RETURNING ${col(o.subscriptionId)} AS subscription_id, ${col(o.nextAttemptAtMs)} AS next_attempt_at_ms),
        alerted AS (
          INSERT INTO ${c} (${col(c.subscriptionId)}, ${col(c.lastAlertAtMs)})
          SELECT subscription_id, next_attempt_at_ms FROM queued
          ON CONFLICT (${col(c.subscriptionId)})
            DO UPDATE SET ${col(c.lastAlertAtMs)} = excluded.${col(c.lastAlertAtMs)})
        SELECT count(*)::float8 AS "rows" FROM queued`,
  );
  return written?.rows ?? 0;
}

export function createPgListingAlertStore(db: PgStoreDb): ListingSettings {
  const s = alertSubscriptions;
  const p = alertListingPrefs;
  return {
    async listingsOn(chat) {
      const [row] = await db
        .select({ listingsOn: p.listingsOn })
        .from(s)
        .leftJoin(p, eq(p.subscriptionId, s.id))
        .where(and(eq(s.platform, chat.platform), eq(s.chatId, chat.chatId)));
      if (!row) return null;
      return (row.listingsOn ?? 1) === 1;
    },
    async setListings(chat, on) {
      // One statement: a subscription removed meanwhile leaves nothing behind, and answers false.
      const stored = await pgRun(
        db,
        sql`INSERT INTO ${p} (${col(p.subscriptionId)}, ${col(p.listingsOn)})
            SELECT ${s.id}, ${on ? 1 : 0}::integer FROM ${s}
            WHERE ${s.platform} = ${chat.platform} AND ${s.chatId} = ${chat.chatId}
            ON CONFLICT (${col(p.subscriptionId)}) DO UPDATE SET ${col(p.listingsOn)} = excluded.${col(p.listingsOn)}`,
      );
      return stored > 0;
    },
  };
}
