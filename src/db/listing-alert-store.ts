/**
 * New-listing alerts in the alert outbox, and each subscription's choice to take them. Kept apart from
 * `alert-store.ts`: a listing is one message for every active chat with listings on, written in one
 * statement, under the same cooldown rule as ratio alerts (`cooldownOver` in src/core/alert-rules.ts): a chat
 * whose cooldown has passed gets it now; one inside its cooldown gets it when the cooldown ends, and that
 * time counts as its last alert, so the next ratio alert waits a full cooldown after it.
 */
import type { ListingSettings } from '../core/markets.js';
import type { Database } from './open.js';

/** Writes one listing alert to the outbox; run it inside the transaction that recorded the reading. */
export type ListingOutboxWrite = (replyJson: string, nowMs: number) => number;

/** The listing write on `database` (markets-store.ts calls it in its reading's transaction). */
export function listingOutboxWrite(database: Database): ListingOutboxWrite {
  const db = database.sqlite;
  const insertPayload = db.prepare(
    `INSERT INTO alert_payloads (reply_json, crossings_json, created_at_ms) VALUES (?, '[]', ?)`,
  );
  const enqueue = db.prepare(
    `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, next_attempt_at_ms)
     SELECT s.id, 'listing', :payloadId, :now, 0,
       CASE WHEN c.last_alert_at_ms IS NULL OR :now - c.last_alert_at_ms >= coalesce(c.cooldown_minutes, 60) * 60000 THEN :now
            ELSE c.last_alert_at_ms + coalesce(c.cooldown_minutes, 60) * 60000 END
     FROM alert_subscriptions s
       LEFT JOIN alert_cooldowns c ON c.subscription_id = s.id
       LEFT JOIN alert_listing_prefs p ON p.subscription_id = s.id
     WHERE s.status = 'active' AND coalesce(p.listings_on, 1) = 1
     ORDER BY s.id`,
  );
  const markAlerted = db.prepare(
    `INSERT INTO alert_cooldowns (subscription_id, last_alert_at_ms)
     SELECT subscription_id, next_attempt_at_ms FROM alert_outbox WHERE created_at_ms = ? AND payload_id = ?
     ON CONFLICT (subscription_id) DO UPDATE SET last_alert_at_ms = excluded.last_alert_at_ms`,
  );
  return (replyJson, nowMs) =>
    db.transaction(() => {
      const payloadId = Number(insertPayload.run(replyJson, nowMs).lastInsertRowid);
      const rows = enqueue.run({ payloadId, now: nowMs }).changes;
      // The rows just written, found through the outbox's time index.
      if (rows > 0) markAlerted.run(nowMs, payloadId);
      return rows;
    })();
}

export function createListingAlertStore(database: Database): ListingSettings {
  const db = database.sqlite;
  const st = {
    subOf: db.prepare(`SELECT id FROM alert_subscriptions WHERE platform = ? AND chat_id = ?`).pluck(),
    prefOf: db.prepare(`SELECT listings_on FROM alert_listing_prefs WHERE subscription_id = ?`).pluck(),
    setPref: db.prepare(
      `INSERT INTO alert_listing_prefs (subscription_id, listings_on) VALUES (?, ?)
       ON CONFLICT (subscription_id) DO UPDATE SET listings_on = excluded.listings_on`,
    ),
  };
  return {
    async listingsOn(chat) {
      const id = st.subOf.get(chat.platform, chat.chatId) as number | undefined;
      if (id === undefined) return null;
      return ((st.prefOf.get(id) as number | undefined) ?? 1) === 1;
    },
    async setListings(chat, on) {
      const id = st.subOf.get(chat.platform, chat.chatId) as number | undefined;
      if (id === undefined) return false;
      st.setPref.run(id, on ? 1 : 0);
      return true;
    },
  };
}
