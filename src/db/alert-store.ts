/**
 * Alert subscriptions, threshold state and the outbox, in SQLite. The hot paths (evaluation after a
 * refresh, the dispatcher's reads) use prepared statements on the raw connection. Threshold state lives in
 * shared levels (see `alert_levels`), so a refresh decides crossings per distinct threshold value and the
 * per-chat work is a handful of set-based statements through connection-local temp tables, never a row
 * at a time through JavaScript: 100,000 quiet subscriptions cost one index probe each way, 100,000
 * crossing ones a few bulk statements.
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

/** A level (the shared state of one threshold value) that may cross. */
export interface LevelRow {
  id: number;
  ratio: number;
  side: Side;
}

/** A level that crossed in this evaluation: `order` sorts a chat's crossings, `crossingJson` is one `Crossing`. */
export interface LevelFlip {
  levelId: number;
  side: Side;
  order: number;
  crossingJson: string;
}

/** What one evaluation staged: crossings (threshold rows), messages due now, chats deferred by cooldown. */
export interface StagedCounts {
  crossings: number;
  messages: number;
  deferred: number;
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
  // Scratch space of one evaluation, local to this connection and emptied inside its transaction.
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS alert_eval_flips (level_id INTEGER PRIMARY KEY, ord INTEGER NOT NULL, crossing TEXT NOT NULL);
    CREATE TEMP TABLE IF NOT EXISTS alert_eval_subs (subscription_id INTEGER PRIMARY KEY, ready INTEGER NOT NULL, fresh INTEGER NOT NULL, all_json TEXT NOT NULL);
    CREATE TEMP TABLE IF NOT EXISTS alert_eval_payloads (all_json TEXT PRIMARY KEY, payload_id INTEGER NOT NULL);
  `);
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
      `SELECT t.id, t.subscription_id AS subscriptionId, t.ratio, CASE WHEN t.level_id IS NULL THEN 'off' ELSE l.side END AS side,
         l.last_crossed_at_ms AS lastCrossedAtMs
       FROM alert_thresholds t LEFT JOIN alert_levels l ON l.id = t.level_id WHERE t.subscription_id = ? ORDER BY t.ratio`,
    ),
    statusOf: db.prepare(`SELECT status FROM alert_subscriptions WHERE id = ?`).pluck(),
    ensureUnseen: db.prepare(`INSERT OR IGNORE INTO alert_levels (ratio, side) VALUES (?, NULL)`),
    insertThreshold: db.prepare(
      `INSERT INTO alert_thresholds (subscription_id, ratio, level_id)
       VALUES (?, ?, CASE WHEN ? THEN (SELECT id FROM alert_levels WHERE ratio = ? AND side IS NULL) END)`,
    ),
    deleteThreshold: db.prepare(`DELETE FROM alert_thresholds WHERE id = ?`),
    ratiosOf: db.prepare(`SELECT ratio FROM alert_thresholds WHERE subscription_id = ?`).pluck(),
    toUnseen: db.prepare(
      `UPDATE alert_thresholds SET level_id = (SELECT l.id FROM alert_levels l WHERE l.ratio = alert_thresholds.ratio AND l.side IS NULL)
       WHERE subscription_id = ?`,
    ),
    detach: db.prepare(`UPDATE alert_thresholds SET level_id = NULL WHERE subscription_id = ?`),
    setCooldown: db.prepare(`UPDATE alert_subscriptions SET cooldown_minutes = ? WHERE id = ?`),
    setDigest: db.prepare(`UPDATE alert_subscriptions SET digest_minute = ?, last_digest_at_ms = ? WHERE id = ?`),
    dropUnsent: db.prepare(
      `UPDATE alert_outbox SET failed_at_ms = ?, last_error = ? WHERE subscription_id = ? AND sent_at_ms IS NULL AND failed_at_ms IS NULL`,
    ),
    moveOutbox: db.prepare(`UPDATE alert_outbox SET subscription_id = ? WHERE subscription_id = ?`),
    moveChat: db.prepare(`UPDATE alert_subscriptions SET chat_id = ? WHERE id = ?`),

    // Evaluation, on levels.
    levelCandidates: db.prepare(
      `SELECT id, ratio, side FROM alert_levels WHERE side = 'below' AND ratio <= ?
       UNION ALL SELECT id, ratio, side FROM alert_levels WHERE side = 'above' AND ratio > ?`,
    ),
    flipLevel: db.prepare(`UPDATE alert_levels SET side = ?, last_crossed_at_ms = ? WHERE id = ?`),
    recordUnseen: db.prepare(`UPDATE alert_levels SET side = CASE WHEN ratio <= ? THEN 'above' ELSE 'below' END WHERE side IS NULL`),
    duplicateLevels: db.prepare(
      `SELECT l.id, l.ratio, l.side, (SELECT count(*) FROM alert_thresholds t WHERE t.level_id = l.id) AS n
       FROM alert_levels l JOIN (SELECT ratio, side FROM alert_levels WHERE side IS NOT NULL GROUP BY ratio, side HAVING count(*) > 1) d
         ON d.ratio = l.ratio AND d.side = l.side
       ORDER BY l.ratio, l.side, n DESC, l.id`,
    ),
    repoint: db.prepare(`UPDATE alert_thresholds SET level_id = ? WHERE level_id = ?`),
    deleteLevel: db.prepare(`DELETE FROM alert_levels WHERE id = ?`),
    dropEmptyLevels: db.prepare(`DELETE FROM alert_levels WHERE NOT EXISTS (SELECT 1 FROM alert_thresholds t WHERE t.level_id = alert_levels.id)`),
    clearFlips: db.prepare(`DELETE FROM temp.alert_eval_flips`),
    clearStaged: db.prepare(`DELETE FROM temp.alert_eval_subs`),
    clearPayloads: db.prepare(`DELETE FROM temp.alert_eval_payloads`),
    stageFlip: db.prepare(`INSERT INTO temp.alert_eval_flips (level_id, ord, crossing) VALUES (?, ?, ?)`),
    // One row per chat with fresh crossings: whether its cooldown is over, how many, and the message's
    // crossings (pending first, then fresh), as a JSON array built by concatenating JSON.stringify output.
    stageFresh: db.prepare(
      `INSERT INTO temp.alert_eval_subs (subscription_id, ready, fresh, all_json)
       SELECT s.id, (s.last_alert_at_ms IS NULL OR :now - s.last_alert_at_ms >= s.cooldown_minutes * 60000), c.n,
         CASE WHEN s.pending_json IS NULL OR s.pending_json = '[]' THEN '[' || c.list || ']'
              ELSE substr(s.pending_json, 1, length(s.pending_json) - 1) || ',' || c.list || ']' END
       FROM (SELECT t.subscription_id AS sid, count(*) AS n, group_concat(f.crossing, ',' ORDER BY f.ord) AS list
             FROM temp.alert_eval_flips f JOIN alert_thresholds t ON t.level_id = f.level_id GROUP BY t.subscription_id) c
       JOIN alert_subscriptions s ON s.id = c.sid
       WHERE s.status = 'active'`,
    ),
    // Chats whose deferred crossings are due now, with nothing fresh.
    stageDue: db.prepare(
      `INSERT OR IGNORE INTO temp.alert_eval_subs (subscription_id, ready, fresh, all_json)
       SELECT id, 1, 0, pending_json FROM alert_subscriptions
       WHERE pending_json IS NOT NULL AND pending_json <> '[]' AND status = 'active'
         AND (last_alert_at_ms IS NULL OR last_alert_at_ms + cooldown_minutes * 60000 <= ?)`,
    ),
    stagedCounts: db.prepare(
      `SELECT coalesce(sum(fresh), 0) AS crossings, coalesce(sum(ready), 0) AS messages,
         coalesce(sum(ready = 0 AND fresh > 0), 0) AS deferred FROM temp.alert_eval_subs`,
    ),
    stagedMessages: db.prepare(`SELECT DISTINCT all_json FROM temp.alert_eval_subs WHERE ready = 1`).pluck(),
    stagePayload: db.prepare(`INSERT INTO temp.alert_eval_payloads (all_json, payload_id) VALUES (?, ?)`),
    enqueueStaged: db.prepare(
      `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, next_attempt_at_ms)
       SELECT c.subscription_id, 'alert', p.payload_id, :now, 0, :now
       FROM temp.alert_eval_subs c JOIN temp.alert_eval_payloads p ON p.all_json = c.all_json
       WHERE c.ready = 1 ORDER BY c.subscription_id`,
    ),
    markStagedAlerted: db.prepare(
      `UPDATE alert_subscriptions SET last_alert_at_ms = ?, pending_json = NULL
       WHERE id IN (SELECT subscription_id FROM temp.alert_eval_subs WHERE ready = 1)`,
    ),
    deferStaged: db.prepare(
      `UPDATE alert_subscriptions SET pending_json = c.all_json FROM temp.alert_eval_subs c
       WHERE c.subscription_id = alert_subscriptions.id AND c.ready = 0 AND c.fresh > 0`,
    ),
    insertPayload: db.prepare(`INSERT INTO alert_payloads (reply_json, crossings_json, created_at_ms) VALUES (?, ?, ?)`),
    insertOutbox: db.prepare(
      `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, next_attempt_at_ms) VALUES (?, ?, ?, ?, 0, ?)`,
    ),

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

  /** A new threshold joins the unseen level of its ratio, or no level while the subscription is paused. */
  function insertThreshold(subscriptionId: number, value: number): void {
    const active = st.statusOf.get(subscriptionId) === 'active';
    if (active) st.ensureUnseen.run(value);
    st.insertThreshold.run(subscriptionId, value, active ? 1 : 0, value);
  }

  /** Forgets a subscription's sides: each of its thresholds joins the unseen level of its ratio. */
  function resetLevels(subscriptionId: number): void {
    for (const ratio of st.ratiosOf.all(subscriptionId) as number[]) st.ensureUnseen.run(ratio);
    st.toUnseen.run(subscriptionId);
  }

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
          resetLevels(existing.id);
          st.dropUnsent.run(nowMs, 'dropped: subscription was paused', existing.id);
          return st.byId.get(existing.id) as SubscriptionRow;
        }
        const id = Number(st.insertSub.run(sub.platform, sub.chatId, sub.threadId, sub.guildId, sub.createdBy, nowMs).lastInsertRowid);
        for (const t of sub.thresholds) insertThreshold(id, t);
        return st.byId.get(id) as SubscriptionRow;
      })();
    },
    deleteSubscription: (id: number) => void st.deleteSub.run(id),
    pause(id: number, reason: string, nowMs: number) {
      db.transaction(() => {
        st.pause.run(reason, nowMs, id);
        st.detach.run(id);
      })();
    },
    addThreshold: (subscriptionId: number, value: number) => db.transaction(() => insertThreshold(subscriptionId, value))(),
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

    /** Levels that may cross at `ratio`: below and at or under it, or above and over `downBound`. */
    levelCandidates: (ratio: number, downBound: number) => st.levelCandidates.all(ratio, downBound) as LevelRow[],
    /**
     * Stages one evaluation: the chats holding a threshold of a flipped level, plus the chats whose deferred
     * crossings are due at `nowMs`. Levels are not flipped yet (see `applyFlips`). Call inside a transaction.
     */
    stage(flips: readonly LevelFlip[], nowMs: number): StagedCounts {
      st.clearFlips.run();
      st.clearStaged.run();
      st.clearPayloads.run();
      for (const f of flips) st.stageFlip.run(f.levelId, f.order, f.crossingJson);
      if (flips.length > 0) st.stageFresh.run({ now: nowMs });
      st.stageDue.run(nowMs);
      return st.stagedCounts.get() as StagedCounts;
    },
    /** The distinct messages (JSON arrays of crossings) staged for chats whose cooldown is over. */
    stagedMessages: () => st.stagedMessages.all() as string[],
    /**
     * Writes what `stage` found: one outbox row per ready chat pointing at the payload of its message
     * (`payloadIds` maps each staged message to a stored payload), starts their cooldown, and stores the
     * merged crossings of the deferred chats. Empties the scratch tables.
     */
    commitStaged(payloadIds: ReadonlyMap<string, number>, nowMs: number): void {
      for (const [allJson, payloadId] of payloadIds) st.stagePayload.run(allJson, payloadId);
      if (payloadIds.size > 0) {
        st.enqueueStaged.run({ now: nowMs });
        st.markStagedAlerted.run(nowMs);
      }
      st.deferStaged.run();
      st.clearFlips.run();
      st.clearStaged.run();
      st.clearPayloads.run();
    },
    /**
     * Flips the crossed levels, records the side of unseen ones at `ratio`, merges levels that now share a
     * (ratio, side) into the one most thresholds point at, and drops levels nothing points at.
     */
    applyFlips(flips: readonly LevelFlip[], ratio: number, nowMs: number): void {
      for (const f of flips) st.flipLevel.run(f.side, nowMs, f.levelId);
      st.recordUnseen.run(ratio);
      let keep: { id: number; ratio: number; side: string } | null = null;
      for (const l of st.duplicateLevels.all() as Array<{ id: number; ratio: number; side: string }>) {
        if (keep && keep.ratio === l.ratio && keep.side === l.side) {
          st.repoint.run(keep.id, l.id);
          st.deleteLevel.run(l.id);
        } else keep = l;
      }
      st.dropEmptyLevels.run();
    },
    insertPayload: (replyJson: string, crossingsJson: string, nowMs: number) => Number(st.insertPayload.run(replyJson, crossingsJson, nowMs).lastInsertRowid),
    enqueue: (subscriptionId: number, kind: 'alert' | 'digest', payloadId: number, nowMs: number) =>
      void st.insertOutbox.run(subscriptionId, kind, payloadId, nowMs, nowMs),

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
