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

/** A level that crossed in this evaluation: `order` sorts a chat's crossings, `crossingJson` is one `Crossing` (JSON). */
export interface LevelFlip {
  levelId: number;
  side: Side;
  order: number;
  crossingJson: string;
}

/**
 * Which of an evaluation's flips a staged chat holds, as a key: a bit mask over their positions in `flips`
 * while up to `MASK_FLIPS` levels flipped, else their positions as text (`',0,3'`). Nothing fresh is 0.
 */
export type FlipSet = number | string;

/** Chats staged with the same message: the flips they hold and their pending row (0: none). */
export interface StagedGroup {
  levels: FlipSet;
  /** Positions in `flips` of the levels in `levels`, ascending (message order). */
  fresh: number[];
  pendingId: number;
  /** 1 when these chats' cooldown is over: they get the message now. */
  ready: number;
  /** 1 when these chats have fresh crossings inside their cooldown: they keep them pending. */
  deferred: number;
}

/** What one evaluation wrote: crossings (threshold rows), outbox rows, chats deferred by their cooldown. */
export interface EvaluationCounts {
  crossings: number;
  messages: number;
  deferred: number;
}

/** A staged group with what to write: the payload for its ready chats, the merged pending row for its deferred ones. */
export interface StagedMessage {
  levels: FlipSet;
  pendingId: number;
  payloadId: number | null;
  newPendingId: number | null;
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

const SUB_COLUMNS = `s.id, s.platform, s.chat_id AS chatId, s.thread_id AS threadId, s.guild_id AS guildId, s.created_by AS createdBy,
  s.created_at_ms AS createdAtMs, s.status, s.pause_reason AS pauseReason, s.paused_at_ms AS pausedAtMs,
  coalesce(c.cooldown_minutes, 60) AS cooldownMinutes, s.digest_minute AS digestMinute, s.last_digest_at_ms AS lastDigestAtMs,
  c.last_alert_at_ms AS lastAlertAtMs, p.crossings_json AS pendingJson`;
const SUB_FROM = `alert_subscriptions s LEFT JOIN alert_cooldowns c ON c.subscription_id = s.id LEFT JOIN alert_pending p ON p.id = c.pending_id`;

/** Up to this many flips, a chat's set of them is a bit mask that a JS number holds exactly. */
const MASK_FLIPS = 52;

/** Positions (ascending) of the flips in a `FlipSet`. */
function positionsOf(levels: FlipSet): number[] {
  const positions: number[] = [];
  if (typeof levels === 'string') {
    for (const p of levels.split(',').slice(1)) positions.push(Number(p));
    return positions.sort((a, b) => a - b);
  }
  for (let i = 0, rest = levels; rest > 0; i++, rest = Math.floor(rest / 2)) if (rest % 2 === 1) positions.push(i);
  return positions;
}

export function createAlertStore(database: Database) {
  const db = database.sqlite;
  // Scratch space of one evaluation, local to this connection and emptied inside its transaction. `levels`
  // is a FlipSet: INTEGER affinity keeps a mask an integer, and text lists start with a comma so they stay text.
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS alert_eval_subs (
      subscription_id INTEGER PRIMARY KEY, ready INTEGER NOT NULL, levels INTEGER NOT NULL, pending_id INTEGER NOT NULL);
    CREATE TEMP TABLE IF NOT EXISTS alert_eval_messages (
      levels INTEGER NOT NULL, pending_id INTEGER NOT NULL, payload_id INTEGER, new_pending_id INTEGER, PRIMARY KEY (levels, pending_id));
    CREATE TEMP TABLE IF NOT EXISTS alert_eval_flips (level_id INTEGER PRIMARY KEY, bit INTEGER NOT NULL);
  `);
  const st = {
    byChat: db.prepare(`SELECT ${SUB_COLUMNS} FROM ${SUB_FROM} WHERE s.platform = ? AND s.chat_id = ?`),
    byId: db.prepare(`SELECT ${SUB_COLUMNS} FROM ${SUB_FROM} WHERE s.id = ?`),
    insertSub: db.prepare(
      `INSERT INTO alert_subscriptions (platform, chat_id, thread_id, guild_id, created_by, created_at_ms, status)
       VALUES (?, ?, ?, ?, ?, ?, 'active')`,
    ),
    reactivate: db.prepare(
      `UPDATE alert_subscriptions SET status = 'active', pause_reason = NULL, paused_at_ms = NULL, thread_id = ?, guild_id = ?,
       created_by = ? WHERE id = ?`,
    ),
    insertCooldown: db.prepare(`INSERT OR IGNORE INTO alert_cooldowns (subscription_id) VALUES (?)`),
    dropPending: db.prepare(`UPDATE alert_cooldowns SET pending_id = NULL WHERE subscription_id = ?`),
    deleteSub: db.prepare(`DELETE FROM alert_subscriptions WHERE id = ?`),
    pause: db.prepare(`UPDATE alert_subscriptions SET status = 'paused', pause_reason = ?, paused_at_ms = ? WHERE id = ?`),
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
    setCooldown: db.prepare(
      `INSERT INTO alert_cooldowns (subscription_id, cooldown_minutes) VALUES (:id, :minutes)
       ON CONFLICT (subscription_id) DO UPDATE SET cooldown_minutes = excluded.cooldown_minutes`,
    ),
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
    clearStaged: db.prepare(`DELETE FROM temp.alert_eval_subs`),
    clearMessages: db.prepare(`DELETE FROM temp.alert_eval_messages`),
    clearFlips: db.prepare(`DELETE FROM temp.alert_eval_flips`),
    insertFlip: db.prepare(`INSERT INTO temp.alert_eval_flips (level_id, bit) VALUES (?, ?)`),
    thresholdCount: db.prepare(`SELECT count(*) FROM alert_thresholds`).pluck(),
    flippedThresholds: db.prepare(
      `SELECT count(*) FROM temp.alert_eval_flips f CROSS JOIN alert_thresholds t INDEXED BY alert_thresholds_level ON t.level_id = f.level_id`,
    ).pluck(),
    // Only thresholds of active chats point at a level (pause detaches them), so staging checks no status.
    // One pass per flipped level: each chat holding it gets a row (whether its cooldown is over, its pending
    // crossings) or, if it already has one, the level added to its set. Index order, no sort.
    stageLevel: db.prepare(
      `INSERT INTO temp.alert_eval_subs (subscription_id, ready, levels, pending_id)
       SELECT t.subscription_id, (c.last_alert_at_ms IS NULL OR :now - c.last_alert_at_ms >= coalesce(c.cooldown_minutes, 60) * 60000),
         :flip, coalesce(c.pending_id, 0)
       FROM alert_thresholds t LEFT JOIN alert_cooldowns c ON c.subscription_id = t.subscription_id
       WHERE t.level_id = :levelId
       ON CONFLICT (subscription_id) DO UPDATE SET
         levels = CASE WHEN typeof(levels) = 'integer' THEN levels | excluded.levels ELSE levels || excluded.levels END`,
    ),
    // All flipped levels in one pass over every threshold in subscription order (a covering index), so each
    // chat's levels are grouped without a sort and its row is written once. A chat holds a level at most once
    // (one per ratio), so the sum of its bits is their mask.
    stageLevels: db.prepare(
      `INSERT INTO temp.alert_eval_subs (subscription_id, ready, levels, pending_id)
       SELECT g.subscription_id, (c.last_alert_at_ms IS NULL OR :now - c.last_alert_at_ms >= coalesce(c.cooldown_minutes, 60) * 60000),
         g.levels, coalesce(c.pending_id, 0)
       FROM (SELECT t.subscription_id, sum(f.bit) AS levels
             FROM alert_thresholds t INDEXED BY alert_thresholds_sub_level CROSS JOIN temp.alert_eval_flips f ON f.level_id = t.level_id
             GROUP BY t.subscription_id) g
       LEFT JOIN alert_cooldowns c ON c.subscription_id = g.subscription_id`,
    ),
    anyPending: db.prepare(`SELECT EXISTS (SELECT 1 FROM alert_pending)`).pluck(),
    // Chats whose deferred crossings are due now, with nothing fresh. A paused chat holds none (pausing and
    // resubscribing drop them, migration 0006 dropped any left), so the wide subscription rows are not read.
    stageDue: db.prepare(
      `INSERT OR IGNORE INTO temp.alert_eval_subs (subscription_id, ready, levels, pending_id)
       SELECT c.subscription_id, 1, 0, c.pending_id FROM alert_cooldowns c
       WHERE c.pending_id IS NOT NULL AND (c.last_alert_at_ms IS NULL OR c.last_alert_at_ms + c.cooldown_minutes * 60000 <= ?)`,
    ),
    // DISTINCT probes a small ephemeral index per row instead of sorting every row as GROUP BY would.
    // A text list is never equal to the integer 0, so `levels <> 0` means fresh crossings in either form.
    stagedGroups: db.prepare(`SELECT DISTINCT levels, pending_id AS pendingId, ready, ready = 0 AND levels <> 0 AS deferred FROM temp.alert_eval_subs`),
    pendingJson: db.prepare(`SELECT crossings_json FROM alert_pending WHERE id = ?`).pluck(),
    insertPending: db.prepare(`INSERT INTO alert_pending (crossings_json) VALUES (?)`),
    stageMessage: db.prepare(`INSERT INTO temp.alert_eval_messages (levels, pending_id, payload_id, new_pending_id) VALUES (?, ?, ?, ?)`),
    enqueueStaged: db.prepare(
      `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, next_attempt_at_ms)
       SELECT c.subscription_id, 'alert', m.payload_id, :now, 0, :now
       FROM temp.alert_eval_subs c JOIN temp.alert_eval_messages m ON m.levels = c.levels AND m.pending_id = c.pending_id
       WHERE c.ready = 1 ORDER BY c.subscription_id`,
    ),
    // When every ready chat gets the same message (the usual case), its payload id is written as is: no lookup per row.
    enqueueStagedOne: db.prepare(
      `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, next_attempt_at_ms)
       SELECT subscription_id, 'alert', :payloadId, :now, 0, :now FROM temp.alert_eval_subs WHERE ready = 1 ORDER BY subscription_id`,
    ),
    markStagedAlerted: db.prepare(
      `INSERT INTO alert_cooldowns (subscription_id, last_alert_at_ms, pending_id)
       SELECT subscription_id, ?, NULL FROM temp.alert_eval_subs WHERE ready = 1
       ON CONFLICT (subscription_id) DO UPDATE SET last_alert_at_ms = excluded.last_alert_at_ms, pending_id = NULL`,
    ),
    deferStaged: db.prepare(
      `INSERT INTO alert_cooldowns (subscription_id, last_alert_at_ms, pending_id)
       SELECT c.subscription_id, NULL, m.new_pending_id
       FROM temp.alert_eval_subs c JOIN temp.alert_eval_messages m ON m.levels = c.levels AND m.pending_id = c.pending_id
       WHERE c.ready = 0 AND c.levels <> 0
       ON CONFLICT (subscription_id) DO UPDATE SET pending_id = excluded.pending_id`,
    ),
    deferStagedOne: db.prepare(
      `INSERT INTO alert_cooldowns (subscription_id, last_alert_at_ms, pending_id)
       SELECT subscription_id, NULL, :pendingId FROM temp.alert_eval_subs WHERE ready = 0 AND levels <> 0
       ON CONFLICT (subscription_id) DO UPDATE SET pending_id = excluded.pending_id`,
    ),
    dropUnusedPending: db.prepare(`DELETE FROM alert_pending WHERE id NOT IN (SELECT pending_id FROM alert_cooldowns WHERE pending_id IS NOT NULL)`),
    insertPayload: db.prepare(`INSERT INTO alert_payloads (reply_json, crossings_json, created_at_ms) VALUES (?, ?, ?)`),
    insertOutbox: db.prepare(
      `INSERT INTO alert_outbox (subscription_id, kind, payload_id, created_at_ms, attempts, next_attempt_at_ms) VALUES (?, ?, ?, ?, 0, ?)`,
    ),

    // Digest.
    digestCandidates: db.prepare(`SELECT ${SUB_COLUMNS} FROM ${SUB_FROM} WHERE s.digest_minute IS NOT NULL AND s.status = 'active'`),
    markDigest: db.prepare(`UPDATE alert_subscriptions SET last_digest_at_ms = ? WHERE id = ?`),
    // One pass over the period's rows (time index) for every chat whose digest is due.
    firedSince: db.prepare(
      `SELECT o.subscription_id AS subscriptionId, p.crossings_json AS crossingsJson
       FROM alert_outbox o JOIN alert_payloads p ON p.id = o.payload_id
       WHERE o.created_at_ms >= ? AND o.kind = 'alert' AND o.subscription_id IN (SELECT value FROM json_each(?)) ORDER BY o.id`,
    ),

    // Dispatch.
    heads: db.prepare(
      `SELECT o.id, o.subscription_id AS subscriptionId, o.kind, o.payload_id AS payloadId, o.attempts,
         o.next_attempt_at_ms AS nextAttemptAtMs, s.platform, s.chat_id AS chatId, s.thread_id AS threadId, s.guild_id AS guildId
       FROM alert_outbox o JOIN alert_subscriptions s ON s.id = o.subscription_id
       WHERE o.id IN (SELECT min(id) FROM alert_outbox WHERE sent_at_ms IS NULL AND failed_at_ms IS NULL GROUP BY subscription_id)
         AND s.status = 'active' AND s.platform = ?
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
    /**
     * Runs one evaluation in a transaction with foreign-key checks off: they cost two parent lookups per
     * outbox row, and every row evaluation writes points at a row that exists (staged chats come from
     * threshold and cooldown rows, which go with their subscription; payloads are written in the same
     * transaction). Evaluation deletes no row a foreign key points at, so no cascade is missed. Checks are
     * back on when `fn` returns or throws. Inside an outer transaction the pragma cannot change: checks stay on.
     */
    evaluation<T>(fn: () => T): T {
      const toggle = !db.inTransaction && db.pragma('foreign_keys', { simple: true }) === 1;
      if (toggle) db.pragma('foreign_keys = OFF');
      try {
        return db.transaction(fn)();
      } finally {
        if (toggle) db.pragma('foreign_keys = ON');
      }
    },

    byChat: (platform: Platform, chatId: string) => (st.byChat.get(platform, chatId) as SubscriptionRow | undefined) ?? null,
    byId: (id: number) => (st.byId.get(id) as SubscriptionRow | undefined) ?? null,
    thresholdsOf: (subscriptionId: number) => st.thresholdsOf.all(subscriptionId) as ThresholdRow[],

    /** Creates or reactivates a chat's subscription. A reactivated one forgets its old sides and undelivered rows. */
    subscribe(sub: NewSubscription, nowMs: number): SubscriptionRow {
      return db.transaction(() => {
        const existing = st.byChat.get(sub.platform, sub.chatId) as SubscriptionRow | undefined;
        if (existing) {
          st.reactivate.run(sub.threadId, sub.guildId, sub.createdBy, existing.id);
          st.dropPending.run(existing.id);
          resetLevels(existing.id);
          st.dropUnsent.run(nowMs, 'dropped: subscription was paused', existing.id);
          return st.byId.get(existing.id) as SubscriptionRow;
        }
        const id = Number(st.insertSub.run(sub.platform, sub.chatId, sub.threadId, sub.guildId, sub.createdBy, nowMs).lastInsertRowid);
        st.insertCooldown.run(id);
        for (const t of sub.thresholds) insertThreshold(id, t);
        return st.byId.get(id) as SubscriptionRow;
      })();
    },
    deleteSubscription: (id: number) => void st.deleteSub.run(id),
    pause(id: number, reason: string, nowMs: number) {
      db.transaction(() => {
        st.pause.run(reason, nowMs, id);
        st.dropPending.run(id);
        st.detach.run(id);
      })();
    },
    addThreshold: (subscriptionId: number, value: number) => db.transaction(() => insertThreshold(subscriptionId, value))(),
    deleteThreshold: (id: number) => void st.deleteThreshold.run(id),
    setCooldown: (id: number, minutes: number) => void st.setCooldown.run({ id, minutes }),
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
     * Stages one evaluation in connection-local scratch tables: the chats holding a threshold of a flipped
     * level, plus (when any chat has crossings waiting) the chats whose cooldown is over at `nowMs`. Levels
     * are not flipped yet (see `applyFlips`). Call inside a transaction, then `commitStaged`.
     * @param flips in message order.
     * @returns each distinct message (the flips it reports and the pending row it extends), once for chats
     *   that get it now and once for chats that keep it pending, and how many crossings.
     */
    stage(flips: readonly LevelFlip[], nowMs: number): { groups: StagedGroup[]; crossings: number } {
      st.clearStaged.run();
      st.clearMessages.run();
      st.clearFlips.run();
      const masks = flips.length <= MASK_FLIPS;
      let crossings = 0;
      if (masks && flips.length > 1) {
        flips.forEach((f, i) => st.insertFlip.run(f.levelId, 2 ** i));
        crossings = st.flippedThresholds.get() as number;
      }
      // One pass over every threshold costs about what a pass per crossed level does once those levels hold
      // two thirds of all thresholds (measured on 100,000 chats × 3): below that, the passes per level win.
      if (masks && flips.length > 1 && 3 * crossings >= 2 * (st.thresholdCount.get() as number)) {
        st.stageLevels.run({ now: nowMs });
      } else {
        crossings = 0;
        flips.forEach((f, i) => {
          crossings += st.stageLevel.run({ now: nowMs, levelId: f.levelId, flip: masks ? 2 ** i : `,${i}` }).changes;
        });
      }
      if (st.anyPending.get() === 1) st.stageDue.run(nowMs);
      const groups = (st.stagedGroups.all() as Array<Omit<StagedGroup, 'fresh'>>).map((g) => ({ ...g, fresh: positionsOf(g.levels) }));
      return { groups, crossings };
    },
    /** The crossings (JSON array) of a pending row. */
    pendingJson: (pendingId: number) => (st.pendingJson.get(pendingId) as string | undefined) ?? '[]',
    insertPending: (crossingsJson: string) => Number(st.insertPending.run(crossingsJson).lastInsertRowid),
    /**
     * Writes what `stage` found: one outbox row per ready chat pointing at its message's payload, starts
     * their cooldown and clears their pending crossings; points deferred chats at their merged pending row.
     * Drops pending rows nothing points at any more and empties the scratch tables.
     */
    commitStaged(messages: ReadonlyArray<StagedMessage>, nowMs: number): { messages: number; deferred: number } {
      const payloadIds = messages.flatMap((m) => (m.payloadId === null ? [] : [m.payloadId]));
      const pendingIds = messages.flatMap((m) => (m.newPendingId === null ? [] : [m.newPendingId]));
      // Only a choice between several messages needs the lookup table.
      if (payloadIds.length > 1 || pendingIds.length > 1) {
        for (const m of messages) st.stageMessage.run(m.levels, m.pendingId, m.payloadId, m.newPendingId);
      }
      const written = { messages: 0, deferred: 0 };
      if (payloadIds.length > 0) {
        written.messages = (
          payloadIds.length === 1 ? st.enqueueStagedOne.run({ now: nowMs, payloadId: payloadIds[0] }) : st.enqueueStaged.run({ now: nowMs })
        ).changes;
        st.markStagedAlerted.run(nowMs);
      }
      if (pendingIds.length > 0) {
        written.deferred = (pendingIds.length === 1 ? st.deferStagedOne.run({ pendingId: pendingIds[0] }) : st.deferStaged.run()).changes;
      }
      if (st.anyPending.get() === 1) st.dropUnusedPending.run();
      st.clearStaged.run();
      st.clearMessages.run();
      st.clearFlips.run();
      return written;
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
    /** The crossings alerted to each of `subscriptionIds` since `sinceMs`, oldest first (chats with none are absent). */
    firedSince(subscriptionIds: readonly number[], sinceMs: number): Map<number, Crossing[]> {
      const fired = new Map<number, Crossing[]>();
      for (const r of st.firedSince.all(sinceMs, JSON.stringify(subscriptionIds)) as Array<{ subscriptionId: number; crossingsJson: string }>) {
        const list = fired.get(r.subscriptionId) ?? [];
        list.push(...(JSON.parse(r.crossingsJson) as Crossing[]));
        fired.set(r.subscriptionId, list);
      }
      return fired;
    },

    /** The oldest undelivered row of each active subscription on `platform`, oldest first. */
    heads: (platform: Platform, limit: number) => st.heads.all(platform, limit) as OutboxHead[],
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
