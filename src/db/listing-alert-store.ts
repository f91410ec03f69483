/**
 * New-listing alerts in the alert outbox, and each subscription's choice to take them. Kept apart from
 * `alert-store.ts`: a listing is one message for every active chat with listings on, written in one
 * statement, under the same cooldown rule as ratio alerts (`cooldownOver` in src/core/alert-rules.ts): a chat
 * whose cooldown has passed gets it now; one inside its cooldown gets it when the cooldown ends, and that
 * time counts as its last alert, so the next ratio alert waits a full cooldown after it.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { ListingSettings } from '../core/markets.js';
import { sendAtSql } from './cooldown-sql.js';
import type { Database } from './open.js';
import { alertCooldowns, alertListingPrefs, alertOutbox, alertPayloads, alertSubscriptions } from './schema/index.js';
import { bare, prepare } from './statement.js';

/** Writes one listing alert to the outbox; run it inside the transaction that recorded the reading. */
export type ListingOutboxWrite = (replyJson: string, nowMs: number) => number;

/** The listing write on `database` (markets-store.ts calls it in its reading's transaction). */
export function listingOutboxWrite(database: Database): ListingOutboxWrite {
  const { sqlite } = database;
  const s = alertSubscriptions;
  const c = alertCooldowns;
  const p = alertListingPrefs;
  const o = alertOutbox;
  const pl = alertPayloads;
  const now = sql.placeholder('now');
  const insertPayload = prepare(
    sqlite,
    sql`INSERT INTO ${pl} (${bare(pl.replyJson)}, ${bare(pl.crossingsJson)}, ${bare(pl.createdAtMs)})
        VALUES (${sql.placeholder('replyJson')}, '[]', ${now})`,
  );
  const enqueue = prepare(
    sqlite,
    sql`INSERT INTO ${o} (${bare(o.subscriptionId)}, ${bare(o.kind)}, ${bare(o.payloadId)}, ${bare(o.createdAtMs)},
          ${bare(o.attempts)}, ${bare(o.nextAttemptAtMs)})
        SELECT ${s.id}, 'listing', ${sql.placeholder('payloadId')}, ${now}, 0, ${sendAtSql(c, now)}
        FROM ${s}
          LEFT JOIN ${c} ON ${c.subscriptionId} = ${s.id}
          LEFT JOIN ${p} ON ${p.subscriptionId} = ${s.id}
        WHERE ${s.status} = 'active' AND coalesce(${p.listingsOn}, 1) = 1
        ORDER BY ${s.id}`,
  );
  // The rows just written, found through the outbox's time index: each chat's send time is its last alert.
  const markAlerted = prepare(
    sqlite,
    sql`INSERT INTO ${c} (${bare(c.subscriptionId)}, ${bare(c.lastAlertAtMs)})
        SELECT ${o.subscriptionId}, ${o.nextAttemptAtMs} FROM ${o}
        WHERE ${o.createdAtMs} = ${now} AND ${o.payloadId} = ${sql.placeholder('payloadId')}
        ON CONFLICT (${bare(c.subscriptionId)})
          DO UPDATE SET ${bare(c.lastAlertAtMs)} = excluded.${bare(c.lastAlertAtMs)}`,
  );
  return (replyJson, nowMs) =>
    sqlite.transaction(() => {
      const payloadId = Number(insertPayload.run({ replyJson, now: nowMs }).lastInsertRowid);
      const rows = enqueue.run({ payloadId, now: nowMs }).changes;
      if (rows > 0) markAlerted.run({ payloadId, now: nowMs });
      return rows;
    })();
}

/** Each subscription's listings choice: cold paths, through the query builder. */
export function createListingAlertStore(database: Database): ListingSettings {
  const { db } = database;
  const s = alertSubscriptions;
  const p = alertListingPrefs;
  const subscriptionOf = (chat: { platform: string; chatId: string }) =>
    db
      .select({ id: s.id, listingsOn: p.listingsOn })
      .from(s)
      .leftJoin(p, eq(p.subscriptionId, s.id))
      .where(and(eq(s.platform, chat.platform), eq(s.chatId, chat.chatId)))
      .get();
  return {
    async listingsOn(chat) {
      const row = subscriptionOf(chat);
      if (!row) return null;
      return (row.listingsOn ?? 1) === 1;
    },
    async setListings(chat, on) {
      const row = subscriptionOf(chat);
      if (!row) return false;
      db.insert(p)
        .values({ subscriptionId: row.id, listingsOn: on ? 1 : 0 })
        .onConflictDoUpdate({ target: p.subscriptionId, set: { listingsOn: on ? 1 : 0 } })
        .run();
      return true;
    },
  };
}
