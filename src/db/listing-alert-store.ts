/**
 * New-listing alerts in the alert outbox, and each subscription's choice to take them. Kept apart from
 * `alert-store.ts`: a listing is one message for every active chat with listings on, written in one
 * statement, under the same cooldown rule as ratio alerts (`cooldownOver` in src/core/alert-rules.ts): a chat
 * whose cooldown has passed gets it now; one inside its cooldown gets it when the cooldown ends, and that
 * time counts as its last alert, so the next ratio alert waits a full cooldown after it.
 */
import type { Platform } from '../core/command.js';
import type { ListingOutbox } from '../core/markets.js';
import type { Database } from './open.js';

export interface ListingAlertStore extends ListingOutbox {
  /** Null when the chat has no subscription. */
  listingsOn(platform: Platform, chatId: string): boolean | null;
  /** @returns false when the chat has no subscription (nothing is stored). */
  setListings(platform: Platform, chatId: string, on: boolean): boolean;
}

export function createListingAlertStore(database: Database): ListingAlertStore {
  const db = database.sqlite;
  const st = {
    insertPayload: db.prepare(
      `INSERT INTO alert_payloads (reply_json, crossings_json, created_at_ms) VALUES (?, '[]', ?)`,
    ),
    enqueue: db.prepare(
      `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, next_attempt_at_ms)
       SELECT s.id, 'listing', :payloadId, :now, 0,
         CASE WHEN c.last_alert_at_ms IS NULL OR :now - c.last_alert_at_ms >= coalesce(c.cooldown_minutes, 60) * 60000 THEN :now
              ELSE c.last_alert_at_ms + coalesce(c.cooldown_minutes, 60) * 60000 END
       FROM alert_subscriptions s
         LEFT JOIN alert_cooldowns c ON c.subscription_id = s.id
         LEFT JOIN alert_listing_prefs p ON p.subscription_id = s.id
       WHERE s.status = 'active' AND coalesce(p.listings_on, 1) = 1
       ORDER BY s.id`,
    ),
    markAlerted: db.prepare(
      `INSERT INTO alert_cooldowns (subscription_id, last_alert_at_ms)
       SELECT subscription_id, next_attempt_at_ms FROM alert_outbox WHERE created_at_ms = ? AND payload_id = ?
       ON CONFLICT (subscription_id) DO UPDATE SET last_alert_at_ms = excluded.last_alert_at_ms`,
    ),
    subOf: db.prepare(`SELECT id FROM alert_subscriptions WHERE platform = ? AND chat_id = ?`).pluck(),
    prefOf: db.prepare(`SELECT listings_on FROM alert_listing_prefs WHERE subscription_id = ?`).pluck(),
    setPref: db.prepare(
      `INSERT INTO alert_listing_prefs (subscription_id, listings_on) VALUES (?, ?)
       ON CONFLICT (subscription_id) DO UPDATE SET listings_on = excluded.listings_on`,
    ),
  };
  return {
    enqueueListing(replyJson, nowMs) {
      return db.transaction(() => {
        const payloadId = Number(st.insertPayload.run(replyJson, nowMs).lastInsertRowid);
        const rows = st.enqueue.run({ payloadId, now: nowMs }).changes;
        // The rows just written, found through the outbox's time index.
        if (rows > 0) st.markAlerted.run(nowMs, payloadId);
        return rows;
      })();
    },
    listingsOn(platform, chatId) {
      const id = st.subOf.get(platform, chatId) as number | undefined;
      if (id === undefined) return null;
      return ((st.prefOf.get(id) as number | undefined) ?? 1) === 1;
    },
    setListings(platform, chatId, on) {
      const id = st.subOf.get(platform, chatId) as number | undefined;
      if (id === undefined) return false;
      st.setPref.run(id, on ? 1 : 0);
      return true;
    },
  };
}
