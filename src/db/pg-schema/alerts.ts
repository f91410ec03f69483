import { sql } from 'drizzle-orm';
import { bigint, doublePrecision, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';

/** PostgreSQL mirror of `schema/alerts.ts` (what each table holds is documented there). */
export const alertSubscriptions = pgTable(
  'alert_subscriptions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    platform: text('platform').notNull(),
    chatId: text('chat_id').notNull(),
    threadId: text('thread_id'),
    guildId: text('guild_id'),
    createdBy: text('created_by').notNull(),
    createdAtMs: bigint('created_at_ms', { mode: 'number' }).notNull(),
    status: text('status').notNull(),
    pauseReason: text('pause_reason'),
    pausedAtMs: bigint('paused_at_ms', { mode: 'number' }),
    digestMinute: integer('digest_minute'),
    lastDigestAtMs: bigint('last_digest_at_ms', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('alert_subscriptions_chat').on(t.platform, t.chatId),
    index('alert_subscriptions_digest')
      .on(t.digestMinute)
      .where(sql`digest_minute is not null`),
  ],
);

export const alertPending = pgTable('alert_pending', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  crossingsJson: text('crossings_json').notNull(),
});

export const alertCooldowns = pgTable('alert_cooldowns', {
  subscriptionId: bigint('subscription_id', { mode: 'number' })
    .primaryKey()
    .references(() => alertSubscriptions.id, { onDelete: 'cascade' }),
  cooldownMinutes: integer('cooldown_minutes').notNull().default(60),
  lastAlertAtMs: bigint('last_alert_at_ms', { mode: 'number' }),
  pendingId: bigint('pending_id', { mode: 'number' }),
});

export const alertLevels = pgTable(
  'alert_levels',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    ratio: doublePrecision('ratio').notNull(),
    side: text('side'),
    lastCrossedAtMs: bigint('last_crossed_at_ms', { mode: 'number' }),
  },
  (t) => [
    index('alert_levels_side_ratio').on(t.side, t.ratio),
    uniqueIndex('alert_levels_unseen')
      .on(t.ratio)
      .where(sql`side is null`),
  ],
);

export const alertThresholds = pgTable(
  'alert_thresholds',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    subscriptionId: bigint('subscription_id', { mode: 'number' })
      .notNull()
      .references(() => alertSubscriptions.id, { onDelete: 'cascade' }),
    ratio: doublePrecision('ratio').notNull(),
    levelId: bigint('level_id', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('alert_thresholds_sub_ratio').on(t.subscriptionId, t.ratio),
    index('alert_thresholds_level').on(t.levelId, t.subscriptionId),
    index('alert_thresholds_sub_level').on(t.subscriptionId, t.levelId),
  ],
);

export const alertEvaluated = pgTable('alert_evaluated', {
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  fetchedAtMs: bigint('fetched_at_ms', { mode: 'number' }).notNull(),
});

export const alertPayloads = pgTable('alert_payloads', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  replyJson: text('reply_json').notNull(),
  crossingsJson: text('crossings_json').notNull().default('[]'),
  createdAtMs: bigint('created_at_ms', { mode: 'number' }).notNull(),
});

export const alertOutbox = pgTable(
  'alert_outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    subscriptionId: bigint('subscription_id', { mode: 'number' })
      .notNull()
      .references(() => alertSubscriptions.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    payloadId: bigint('payload_id', { mode: 'number' })
      .notNull()
      .references(() => alertPayloads.id),
    createdAtMs: bigint('created_at_ms', { mode: 'number' }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAtMs: bigint('next_attempt_at_ms', { mode: 'number' }).notNull(),
    sentAtMs: bigint('sent_at_ms', { mode: 'number' }),
    failedAtMs: bigint('failed_at_ms', { mode: 'number' }),
    lastError: text('last_error'),
    claimedUntilMs: bigint('claimed_until_ms', { mode: 'number' }),
  },
  (t) => [
    index('alert_outbox_unsent')
      .on(t.subscriptionId, t.payloadId)
      .where(sql`sent_at_ms is null and failed_at_ms is null`),
    index('alert_outbox_created').on(t.createdAtMs),
  ],
);

export const alertOutboxFanouts = pgTable('alert_outbox_fanouts', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  kind: text('kind').notNull(),
  payloadId: bigint('payload_id', { mode: 'number' })
    .notNull()
    .references(() => alertPayloads.id),
  createdAtMs: bigint('created_at_ms', { mode: 'number' }).notNull(),
  recipientsJson: text('recipients_json').notNull(),
});
