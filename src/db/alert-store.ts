/**
 * Alert subscriptions, threshold state and the outbox, in SQLite. The hot paths (evaluation after a
 * refresh, the dispatcher's reads) use prepared statements on the raw connection; evaluation reads only
 * the thresholds that cross, through the (side, ratio) index, so 100,000 quiet subscriptions cost one
 * index probe each way.
 */
import type { Platform } from '../core/command.js';
import type { Crossing, Side } from '../core/alert-rules.js';
import type { Database } from './open.js';

export interface SubscriptionRow {
  id: number;
  platform: Platform;
  chatId: string;
  threadId: string | null;
  guildId: string | null;
  createdBy: string;
  createdAtMs: number;
  status: 'active' | 'paused';
  pauseReason: string | null;
  pausedAtMs: number | null;
  cooldownMinutes: number;
  digestMinute: number | null;
  lastDigestAtMs: number | null;
  lastAlertAtMs: number | null;
  pendingJson: string | null;
}

export interface ThresholdRow {
  id: number;
  subscriptionId: number;
  ratio: number;
  side: Side | 'off' | null;
  lastCrossedAtMs: number | null;
}

/** A threshold that may cross, with what evaluation needs of its subscription. */
export interface CandidateRow {
  id: number;
  subscriptionId: number;
  ratio: number;
  side: Side;
  cooldownMinutes: number;
  lastAlertAtMs: number | null;
  pendingJson: string | null;
}

/** The oldest undelivered row of one subscription, with its target. */
export interface OutboxHead {
  id: number;
  subscriptionId: number;
  kind: 'alert' | 'digest';
  payloadId: number;
  attempts: number;
  nextAttemptAtMs: number;
  platform: Platform;
  chatId: string;
  threadId: string | null;
  guildId: string | null;
}

export interface NewSubscription {
  platform: Platform;
  chatId: string;
  threadId: string | null;
  guildId: string | null;
  createdBy: string;
  thresholds: readonly number[];
}

export type AlertStore = ReturnType<typeof createAlertStore>;

const SUB_COLUMNS = `id, platform, chat_id AS chatId, thread_id AS threadId, guild_id AS guildId, created_by AS createdBy,
  created_at_ms AS createdAtMs, status, pause_reason AS pauseReason, paused_at_ms AS pausedAtMs,
  cooldown_minutes AS cooldownMinutes, digest_minute AS digestMinute, last_digest_at_ms AS lastDigestAtMs,
  last_alert_at_ms AS lastAlertAtMs, pending_json AS pendingJson`;

export function createAlertStore(database: Database) {
  const db = database.sqlite;
  const st = {
    byChat: db.prepare(`SELECT ${SUB_COLUMNS} FROM alert_subscriptions WHERE platform = ? AND chat_id = ?`),
    byId: db.prepare(`SELECT ${SUB_COLUMNS} FROM alert_subscriptions WHERE id = ?`),
    insertSub: db.prepare(
      `INSERT INTO alert_subscriptions (platform, chat_id, thread_id, guild_id, created_by, created_at_ms, status)
       VALUES (?, ?, ?, ?, ?, ?, 'active')`,
    ),
    reactivate: db.prepare(
      `UPDATE alert_subscriptions SET status = 'active', pause_reason = NULL, paused_at_ms = NULL, thread_id = ?, guild_id = ?,
       created_by = ?, pending_json = NULL WHERE id = ?`,
    ),
    deleteSub: db.prepare(`DELETE FROM alert_subscriptions WHERE id = ?`),
    pause: db.prepare(`UPDATE alert_subscriptions SET status = 'paused', pause_reason = ?, paused_at_ms = ?, pending_json = NULL WHERE id = ?`),
    thresholdsOf: db.prepare(
      `SELECT id, subscription_id AS subscriptionId, ratio, side, last_crossed_at_ms AS lastCrossedAtMs
       FROM alert_thresholds WHERE subscription_id = ? ORDER BY ratio`,
    ),
    insertThreshold: db.prepare(
      `INSERT INTO alert_thresholds (subscription_id, ratio, side)
       VALUES (?, ?, CASE WHEN (SELECT status FROM alert_subscriptions WHERE id = ?) = 'active' THEN NULL ELSE 'off' END)`,
    ),
    deleteThreshold: db.prepare(`DELETE FROM alert_thresholds WHERE id = ?`),
    setSides: db.prepare(`UPDATE alert_thresholds SET side = ? WHERE subscription_id = ?`),
    setCooldown: db.prepare(`UPDATE alert_subscriptions SET cooldown_minutes = ? WHERE id = ?`),
    setDigest: db.prepare(`UPDATE alert_subscriptions SET digest_minute = ?, last_digest_at_ms = ? WHERE id = ?`),
    dropUnsent: db.prepare(
      `UPDATE alert_outbox SET failed_at_ms = ?, last_error = ? WHERE subscription_id = ? AND sent_at_ms IS NULL AND failed_at_ms IS NULL`,
    ),
    moveOutbox: db.prepare(`UPDATE alert_outbox SET subscription_id = ? WHERE subscription_id = ?`),
    moveChat: db.prepare(`UPDATE alert_subscriptions SET chat_id = ? WHERE id = ?`),

    // Evaluation.
    recordUnseen: db.prepare(`UPDATE alert_thresholds SET side = CASE WHEN ratio <= ? THEN 'above' ELSE 'below' END WHERE side IS NULL`),
    upCandidates: db.prepare(
      `SELECT t.id, t.subscription_id AS subscriptionId, t.ratio, t.side, s.cooldown_minutes AS cooldownMinutes,
         s.last_alert_at_ms AS lastAlertAtMs, s.pending_json AS pendingJson
       FROM alert_thresholds t JOIN alert_subscriptions s ON s.id = t.subscription_id
       WHERE t.side = 'below' AND t.ratio <= ? AND s.status = 'active'`,
    ),
    downCandidates: db.prepare(
      `SELECT t.id, t.subscription_id AS subscriptionId, t.ratio, t.side, s.cooldown_minutes AS cooldownMinutes,
         s.last_alert_at_ms AS lastAlertAtMs, s.pending_json AS pendingJson
       FROM alert_thresholds t JOIN alert_subscriptions s ON s.id = t.subscription_id
       WHERE t.side = 'above' AND t.ratio > ? AND s.status = 'active'`,
    ),
    withPending: db.prepare(
      `SELECT id, cooldown_minutes AS cooldownMinutes, last_alert_at_ms AS lastAlertAtMs, pending_json AS pendingJson
       FROM alert_subscriptions WHERE pending_json IS NOT NULL AND status = 'active'
         AND (last_alert_at_ms IS NULL OR last_alert_at_ms + cooldown_minutes * 60000 <= ?)`,
    ),
    // The same bounds as the candidate queries, and the same float arithmetic as nextSide, so exactly the
    // rows evaluation saw cross are updated.
    crossUp: db.prepare(
      `UPDATE alert_thresholds SET side = 'above', last_crossed_at_ms = ? WHERE side = 'below' AND ratio <= ?
         AND subscription_id IN (SELECT id FROM alert_subscriptions WHERE status = 'active')`,
    ),
    crossDown: db.prepare(
      `UPDATE alert_thresholds SET side = 'below', last_crossed_at_ms = ? WHERE side = 'above' AND ratio > ? AND ratio * ? > ?
         AND subscription_id IN (SELECT id FROM alert_subscriptions WHERE status = 'active')`,
    ),
    insertPayload: db.prepare(`INSERT INTO alert_payloads (reply_json, crossings_json, created_at_ms) VALUES (?, ?, ?)`),
    insertOutbox: db.prepare(
      `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, next_attempt_at_ms) VALUES (?, ?, ?, ?, 0, ?)`,
    ),
    // Many subscriptions at once (a JSON array of ids): one statement per payload, no per-row round trip.
    insertOutboxMany: db.prepare(
      `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, next_attempt_at_ms)
       SELECT value, ?, ?, ?, 0, ? FROM json_each(?)`,
    ),
    markAlertedMany: db.prepare(`UPDATE alert_subscriptions SET last_alert_at_ms = ?, pending_json = NULL WHERE id IN (SELECT value FROM json_each(?))`),
    setPending: db.prepare(`UPDATE alert_subscriptions SET pending_json = ? WHERE id IN (SELECT value FROM json_each(?))`),

    // Digest.
    digestCandidates: db.prepare(`SELECT ${SUB_COLUMNS} FROM alert_subscriptions WHERE digest_minute IS NOT NULL AND status = 'active'`),
    markDigest: db.prepare(`UPDATE alert_subscriptions SET last_digest_at_ms = ? WHERE id = ?`),
    firedSince: db.prepare(
      `SELECT p.crossings_json AS crossingsJson FROM alert_outbox o JOIN alert_payloads p ON p.id = o.payload_id
       WHERE o.subscription_id = ? AND o.kind = 'alert' AND o.created_at_ms >= ? ORDER BY o.id`,
    ),

    // Dispatch.
    heads: db.prepare(
      `SELECT o.id, o.subscription_id AS subscriptionId, o.kind, o.payload_id AS payloadId, o.attempts,
         o.next_attempt_at_ms AS nextAttemptAtMs, s.platform, s.chat_id AS chatId, s.thread_id AS threadId, s.guild_id AS guildId
       FROM alert_outbox o JOIN alert_subscriptions s ON s.id = o.subscription_id
       WHERE o.id IN (SELECT min(id) FROM alert_outbox WHERE sent_at_ms IS NULL AND failed_at_ms IS NULL GROUP BY subscription_id)
         AND s.status = 'active'
       ORDER BY o.id LIMIT ?`,
    ),
    payload: db.prepare(`SELECT reply_json AS replyJson FROM alert_payloads WHERE id = ?`),
    markSent: db.prepare(`UPDATE alert_outbox SET sent_at_ms = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND sent_at_ms IS NULL`),
    markRetry: db.prepare(`UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at_ms = ?, last_error = ? WHERE id = ?`),
    markFailed: db.prepare(`UPDATE alert_outbox SET attempts = attempts + 1, failed_at_ms = ?, last_error = ? WHERE id = ?`),
    unsentCount: db.prepare(
      `SELECT count(*) AS n FROM alert_outbox o JOIN alert_subscriptions s ON s.id = o.subscription_id
       WHERE o.sent_at_ms IS NULL AND o.failed_at_ms IS NULL AND s.status = 'active'`,
    ),
    prune: db.prepare(`DELETE FROM alert_outbox WHERE (sent_at_ms IS NOT NULL AND sent_at_ms < ?) OR (failed_at_ms IS NOT NULL AND failed_at_ms < ?)`),
    prunePayloads: db.prepare(`DELETE FROM alert_payloads WHERE created_at_ms < ? AND id NOT IN (SELECT payload_id FROM alert_outbox)`),
  };

  return {
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),

    byChat: (platform: Platform, chatId: string) => (st.byChat.get(platform, chatId) as SubscriptionRow | undefined) ?? null,
    byId: (id: number) => (st.byId.get(id) as SubscriptionRow | undefined) ?? null,
    thresholdsOf: (subscriptionId: number) => st.thresholdsOf.all(subscriptionId) as ThresholdRow[],

    /** Creates or reactivates a chat's subscription. A reactivated one forgets its old sides and undelivered rows. */
    subscribe(sub: NewSubscription, nowMs: number): SubscriptionRow {
      return db.transaction(() => {
        const existing = st.byChat.get(sub.platform, sub.chatId) as SubscriptionRow | undefined;
        if (existing) {
          st.reactivate.run(sub.threadId, sub.guildId, sub.createdBy, existing.id);
          st.setSides.run(null, existing.id);
          st.dropUnsent.run(nowMs, 'dropped: subscription was paused', existing.id);
          return st.byId.get(existing.id) as SubscriptionRow;
        }
        const id = Number(st.insertSub.run(sub.platform, sub.chatId, sub.threadId, sub.guildId, sub.createdBy, nowMs).lastInsertRowid);
        for (const t of sub.thresholds) st.insertThreshold.run(id, t, id);
        return st.byId.get(id) as SubscriptionRow;
      })();
    },
    deleteSubscription: (id: number) => void st.deleteSub.run(id),
    pause(id: number, reason: string, nowMs: number) {
      db.transaction(() => {
        st.pause.run(reason, nowMs, id);
        st.setSides.run('off', id);
      })();
    },
    addThreshold: (subscriptionId: number, value: number) => void st.insertThreshold.run(subscriptionId, value, subscriptionId),
    deleteThreshold: (id: number) => void st.deleteThreshold.run(id),
    setCooldown: (id: number, minutes: number) => void st.setCooldown.run(minutes, id),
    /** `nowMs` counts as the last digest, so choosing a time that just passed does not post at once. */
    setDigest: (id: number, minute: number | null, nowMs: number) => void st.setDigest.run(minute, nowMs, id),
    /** Points `from` at a new chat id; if that chat already has a subscription, `from`'s rows join it. */
    moveChat(platform: Platform, fromChatId: string, toChatId: string): void {
      db.transaction(() => {
        const from = st.byChat.get(platform, fromChatId) as SubscriptionRow | undefined;
        if (!from) return;
        const to = st.byChat.get(platform, toChatId) as SubscriptionRow | undefined;
        if (to) {
          st.moveOutbox.run(to.id, from.id);
          st.deleteSub.run(from.id);
        } else {
          st.moveChat.run(toChatId, from.id);
        }
      })();
    },

    recordUnseen: (ratio: number) => st.recordUnseen.run(ratio).changes,
    upCandidates: (ratio: number) => st.upCandidates.all(ratio) as CandidateRow[],
    downCandidates: (ratioAbove: number) => st.downCandidates.all(ratioAbove) as CandidateRow[],
    /** Subscriptions with crossings waiting whose cooldown is over at `nowMs`. */
    withPendingDue: (nowMs: number) => st.withPending.all(nowMs) as Array<Pick<CandidateRow, 'cooldownMinutes' | 'lastAlertAtMs' | 'pendingJson'> & { id: number }>,
    /** Flips every active threshold at or under `ratio` that was below to above. @returns how many. */
    crossUp: (ratio: number, atMs: number) => st.crossUp.run(atMs, ratio).changes,
    /** Flips every active threshold with `ratio < threshold * keep` that was above to below (`keep` = 1 - hysteresis). */
    crossDown: (bound: number, keep: number, ratio: number, atMs: number) => st.crossDown.run(atMs, bound, keep, ratio).changes,
    insertPayload: (replyJson: string, crossings: readonly Crossing[], nowMs: number) =>
      Number(st.insertPayload.run(replyJson, JSON.stringify(crossings), nowMs).lastInsertRowid),
    enqueue: (subscriptionId: number, kind: 'alert' | 'digest', payloadId: number, nowMs: number) =>
      void st.insertOutbox.run(subscriptionId, kind, payloadId, nowMs, nowMs),
    /** Queues one alert payload for many subscriptions and starts their cooldown. */
    enqueueAlerts(subscriptionIds: readonly number[], payloadId: number, nowMs: number): void {
      const ids = JSON.stringify(subscriptionIds);
      st.insertOutboxMany.run('alert', payloadId, nowMs, nowMs, ids);
      st.markAlertedMany.run(nowMs, ids);
    },
    /** Stores the same pending crossings (serialized) on many subscriptions. */
    setPending: (subscriptionIds: readonly number[], pendingJson: string) => void st.setPending.run(pendingJson, JSON.stringify(subscriptionIds)),

    digestCandidates: () => st.digestCandidates.all() as SubscriptionRow[],
    markDigest: (id: number, atMs: number) => void st.markDigest.run(atMs, id),
    firedSince(subscriptionId: number, sinceMs: number): Crossing[] {
      const rows = st.firedSince.all(subscriptionId, sinceMs) as Array<{ crossingsJson: string }>;
      return rows.flatMap((r) => JSON.parse(r.crossingsJson) as Crossing[]);
    },

    heads: (limit: number) => st.heads.all(limit) as OutboxHead[],
    payload: (payloadId: number) => (st.payload.get(payloadId) as { replyJson: string } | undefined)?.replyJson ?? null,
    markSent: (id: number, nowMs: number) => void st.markSent.run(nowMs, id),
    markRetry: (id: number, nextAttemptAtMs: number, reason: string) => void st.markRetry.run(nextAttemptAtMs, reason, id),
    markFailed: (id: number, nowMs: number, reason: string) => void st.markFailed.run(nowMs, reason, id),
    unsentCount: () => (st.unsentCount.get() as { n: number }).n,
    /** Deletes delivered or abandoned rows older than `beforeMs`, and payloads nothing points at. */
    prune(beforeMs: number): void {
      db.transaction(() => {
        st.prune.run(beforeMs, beforeMs);
        st.prunePayloads.run(beforeMs);
      })();
    },
  };
}
