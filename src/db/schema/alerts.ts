import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * One alert subscription per chat (Telegram chat, Discord channel). `status` is `active` or `paused`;
 * a pause keeps its reason so `alerts` can show it. What evaluation writes per chat lives in the narrow
 * `alert_cooldowns`, so 100,000 chats alerting at once rewrite small rows, not these.
 */
export const alertSubscriptions = sqliteTable(
  'alert_subscriptions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    platform: text('platform').notNull(),
    chatId: text('chat_id').notNull(),
    threadId: text('thread_id'),
    guildId: text('guild_id'),
    createdBy: text('created_by').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    status: text('status').notNull(),
    pauseReason: text('pause_reason'),
    pausedAtMs: integer('paused_at_ms'),
    /** Minute of the day (UTC) for the daily digest, or null when off. */
    digestMinute: integer('digest_minute'),
    lastDigestAtMs: integer('last_digest_at_ms'),
  },
  (t) => [
    uniqueIndex('alert_subscriptions_chat').on(t.platform, t.chatId),
    index('alert_subscriptions_digest')
      .on(t.digestMinute)
      .where(sql`digest_minute is not null`),
  ],
);

/**
 * Crossings that happened inside a chat's cooldown, merged into its next message rather than lost. Chats
 * deferred with the same crossings share one row.
 */
export const alertPending = sqliteTable('alert_pending', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** JSON array of `Crossing`, oldest first. */
  crossingsJson: text('crossings_json').notNull(),
});

/**
 * A chat's cooldown: its length, when it was last alerted and the crossings waiting for it to pass. One
 * row per subscription, written with it; evaluation reads only this narrow table per chat.
 */
export const alertCooldowns = sqliteTable('alert_cooldowns', {
  subscriptionId: integer('subscription_id')
    .primaryKey()
    .references(() => alertSubscriptions.id, { onDelete: 'cascade' }),
  cooldownMinutes: integer('cooldown_minutes').notNull().default(60),
  lastAlertAtMs: integer('last_alert_at_ms'),
  /**
   * An `alert_pending` row, or null; always null while the chat is paused (evaluation relies on it). No
   * foreign key: evaluation drops pending rows nothing points at.
   */
  pendingId: integer('pending_id'),
});

/**
 * The state of a threshold value, shared by every threshold that has seen the same ratios: `side` is
 * `above`, `below` or null (not yet seen). Most chats keep the same thresholds (the defaults), so one
 * refresh decides a crossing once per level and flips one row, however many chats hold that threshold.
 * At most one level per ratio is unseen (new thresholds join it) and, after evaluation, at most one per
 * (ratio, side): levels that end up on the same side are merged.
 */
export const alertLevels = sqliteTable(
  'alert_levels',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ratio: real('ratio').notNull(),
    side: text('side'),
    lastCrossedAtMs: integer('last_crossed_at_ms'),
  },
  (t) => [
    index('alert_levels_side_ratio').on(t.side, t.ratio),
    uniqueIndex('alert_levels_unseen')
      .on(t.ratio)
      .where(sql`side is null`),
  ],
);

/**
 * Thresholds of a subscription. `level_id` points at the shared state of the threshold (see
 * `alert_levels`); it is null while the subscription is paused, so a paused chat is never evaluated.
 */
export const alertThresholds = sqliteTable(
  'alert_thresholds',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    subscriptionId: integer('subscription_id')
      .notNull()
      .references(() => alertSubscriptions.id, { onDelete: 'cascade' }),
    ratio: real('ratio').notNull(),
    levelId: integer('level_id'),
  },
  (t) => [
    uniqueIndex('alert_thresholds_sub_ratio').on(t.subscriptionId, t.ratio),
    index('alert_thresholds_level').on(t.levelId, t.subscriptionId),
    // Every threshold's level in subscription order: when several crossed levels hold most thresholds,
    // evaluation stages each chat's crossings in one pass over this index, grouped without a sort.
    index('alert_thresholds_sub_level').on(t.subscriptionId, t.levelId),
  ],
);

/**
 * Which reading alerts were last evaluated against: one row (id 1) holding its fetch time. An evaluation of an
 * older reading is skipped inside the evaluation's transaction, so a stepped-down leader's slower refresh that
 * commits after the new leader evaluated a newer reading never turns levels back to the older ratio.
 */
export const alertEvaluated = sqliteTable('alert_evaluated', {
  id: integer('id').primaryKey(),
  fetchedAtMs: integer('fetched_at_ms').notNull(),
});

/** A serialized `Reply`, shared by every outbox row of one evaluation that says the same thing. */
export const alertPayloads = sqliteTable('alert_payloads', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  replyJson: text('reply_json').notNull(),
  /** The crossings this alert reports (JSON array), for the digest's "alerts fired". */
  crossingsJson: text('crossings_json').notNull().default('[]'),
  createdAtMs: integer('created_at_ms').notNull(),
});

/**
 * Messages to deliver, one row per chat. A row is sent once `sent_at_ms` is set, which happens only after the
 * platform accepted it; the target is the subscription's current chat, so a migration moves undelivered rows
 * too. A chat's rows go out in the order their payloads were written (payload ids grow with time), whether a
 * row was written directly or split later from an `alert_outbox_fanouts` row.
 */
export const alertOutbox = sqliteTable(
  'alert_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    subscriptionId: integer('subscription_id')
      .notNull()
      .references(() => alertSubscriptions.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    payloadId: integer('payload_id')
      .notNull()
      .references(() => alertPayloads.id),
    createdAtMs: integer('created_at_ms').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAtMs: integer('next_attempt_at_ms').notNull(),
    sentAtMs: integer('sent_at_ms'),
    failedAtMs: integer('failed_at_ms'),
    lastError: text('last_error'),
    /**
     * Until when a dispatcher holds the row (ms; null: nobody). A row is claimed just before it is handed
     * to its platform and the lease ends when it is settled, so a second leader overlapping for a moment
     * never sends it again; a dispatcher that died mid-send frees it when the lease runs out.
     */
    claimedUntilMs: integer('claimed_until_ms'),
  },
  (t) => [
    index('alert_outbox_unsent')
      .on(t.subscriptionId, t.payloadId)
      .where(sql`sent_at_ms is null and failed_at_ms is null`),
    // Time order, so inserting 100,000 rows appends instead of touching every chat's part of an index.
    index('alert_outbox_created').on(t.createdAtMs),
  ],
);

/**
 * One message for many chats, as an evaluation writes it: one row per distinct payload, with the chats it goes
 * to as a JSON array of subscription ids (ascending). The outbox store splits it into `alert_outbox` rows, one
 * per chat that still has its subscription, the first time anything reads the outbox after it (the dispatcher's
 * next sweep), so an evaluation that alerts 100,000 chats writes a few rows instead of 100,000.
 */
export const alertOutboxFanouts = sqliteTable('alert_outbox_fanouts', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  kind: text('kind').notNull(),
  payloadId: integer('payload_id')
    .notNull()
    .references(() => alertPayloads.id),
  createdAtMs: integer('created_at_ms').notNull(),
  /** JSON array of `alert_subscriptions.id`, ascending. */
  recipientsJson: text('recipients_json').notNull(),
});
