/**
 * Alert subscriptions and their thresholds, in SQLite: what the `alerts` commands read and change. A cold
 * path (one chat at a time), so every statement goes through drizzle's query builder.
 *
 * A threshold of an active subscription points at the shared level of its ratio (see `alert_levels`); a new
 * or reset one joins the level of its ratio that has not seen the ratio yet, so the next evaluation only
 * records its side. A paused subscription's thresholds point at no level, so evaluation never reaches it.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Side } from '../core/alert-rules.js';
import type {
  NewSubscription,
  Subscription,
  SubscriptionStatus,
  SubscriptionStore,
  Threshold,
} from '../core/alert-ports.js';
import type { Platform } from '../core/chat.js';
import type { Database, Db } from './open.js';
import { prepareFanoutSplit } from './alert-outbox.js';
import { alertCooldowns, alertLevels, alertOutbox, alertSubscriptions, alertThresholds } from './schema/index.js';

/** A transaction or the database itself: drizzle gives both the same query API. */
type Queries = Pick<Db, 'select' | 'insert' | 'update' | 'delete'>;

const s = alertSubscriptions;

/** The columns of a `Subscription`: the subscription row and its cooldown. */
export const subscriptionColumns = {
  id: s.id,
  platform: sql<Platform>`${s.platform}`,
  chatId: s.chatId,
  threadId: s.threadId,
  guildId: s.guildId,
  createdBy: s.createdBy,
  createdAtMs: s.createdAtMs,
  status: sql<SubscriptionStatus>`${s.status}`,
  pauseReason: s.pauseReason,
  pausedAtMs: s.pausedAtMs,
  cooldownMinutes: sql<number>`coalesce(${alertCooldowns.cooldownMinutes}, 60)`,
  digestMinute: s.digestMinute,
  lastDigestAtMs: s.lastDigestAtMs,
  lastAlertAtMs: alertCooldowns.lastAlertAtMs,
};

function selectSubscriptions(q: Queries) {
  return q.select(subscriptionColumns).from(s).leftJoin(alertCooldowns, eq(alertCooldowns.subscriptionId, s.id));
}

function byChat(q: Queries, platform: Platform, chatId: string): Subscription | null {
  return (
    selectSubscriptions(q)
      .where(and(eq(s.platform, platform), eq(s.chatId, chatId)))
      .get() ?? null
  );
}

function byId(q: Queries, id: number): Subscription | null {
  return selectSubscriptions(q).where(eq(s.id, id)).get() ?? null;
}

/** The level of `ratio` that has not seen the ratio yet, created when missing. */
function unseenLevel(q: Queries, ratio: number): number {
  q.insert(alertLevels).values({ ratio, side: null }).onConflictDoNothing().run();
  const level = q
    .select({ id: alertLevels.id })
    .from(alertLevels)
    .where(and(eq(alertLevels.ratio, ratio), isNull(alertLevels.side)))
    .get();
  return level!.id;
}

/** A new threshold joins the unseen level of its ratio, or no level while the subscription is paused. */
function insertThreshold(q: Queries, subscriptionId: number, ratio: number, active: boolean): void {
  q.insert(alertThresholds)
    .values({ subscriptionId, ratio, levelId: active ? unseenLevel(q, ratio) : null })
    .run();
}

/** Forgets a subscription's sides: each of its thresholds joins the unseen level of its ratio. */
function resetLevels(q: Queries, subscriptionId: number): void {
  const thresholds = q
    .select({ id: alertThresholds.id, ratio: alertThresholds.ratio })
    .from(alertThresholds)
    .where(eq(alertThresholds.subscriptionId, subscriptionId))
    .all();
  for (const t of thresholds)
    q.update(alertThresholds)
      .set({ levelId: unseenLevel(q, t.ratio) })
      .where(eq(alertThresholds.id, t.id))
      .run();
}

function dropWaiting(q: Queries, subscriptionId: number): void {
  q.update(alertCooldowns).set({ pendingId: null }).where(eq(alertCooldowns.subscriptionId, subscriptionId)).run();
}

export function createSubscriptionStore(database: Database): SubscriptionStore {
  const { db } = database;
  // A chat's undelivered rows may still sit in a fan-out: split before dropping or moving them.
  const splitFanouts = prepareFanoutSplit(database);
  return {
    byChat: async (platform, chatId) => byChat(db, platform, chatId),
    byId: async (id) => byId(db, id),
    async thresholdsOf(subscriptionId): Promise<Threshold[]> {
      return db
        .select({ id: alertThresholds.id, ratio: alertThresholds.ratio, side: sql<Side | null>`${alertLevels.side}` })
        .from(alertThresholds)
        .leftJoin(alertLevels, eq(alertLevels.id, alertThresholds.levelId))
        .where(eq(alertThresholds.subscriptionId, subscriptionId))
        .orderBy(asc(alertThresholds.ratio))
        .all();
    },

    async subscribe(sub: NewSubscription, nowMs) {
      splitFanouts();
      return db.transaction((tx) => {
        const existing = byChat(tx, sub.platform, sub.chatId);
        if (existing) {
          tx.update(s)
            .set({
              status: 'active',
              pauseReason: null,
              pausedAtMs: null,
              threadId: sub.threadId,
              guildId: sub.guildId,
              createdBy: sub.createdBy,
            })
            .where(eq(s.id, existing.id))
            .run();
          dropWaiting(tx, existing.id);
          resetLevels(tx, existing.id);
          tx.update(alertOutbox)
            .set({ failedAtMs: nowMs, lastError: 'dropped: subscription was paused' })
            .where(
              and(
                eq(alertOutbox.subscriptionId, existing.id),
                isNull(alertOutbox.sentAtMs),
                isNull(alertOutbox.failedAtMs),
              ),
            )
            .run();
          return byId(tx, existing.id)!;
        }
        const { id } = tx
          .insert(s)
          .values({
            platform: sub.platform,
            chatId: sub.chatId,
            threadId: sub.threadId,
            guildId: sub.guildId,
            createdBy: sub.createdBy,
            createdAtMs: nowMs,
            status: 'active',
          })
          .returning({ id: s.id })
          .get();
        tx.insert(alertCooldowns).values({ subscriptionId: id }).onConflictDoNothing().run();
        for (const ratio of sub.thresholds) insertThreshold(tx, id, ratio, true);
        return byId(tx, id)!;
      });
    },

    async unsubscribe(id) {
      db.delete(s).where(eq(s.id, id)).run();
    },

    async pause(id, reason, nowMs) {
      db.transaction((tx) => {
        tx.update(s).set({ status: 'paused', pauseReason: reason, pausedAtMs: nowMs }).where(eq(s.id, id)).run();
        dropWaiting(tx, id);
        tx.update(alertThresholds).set({ levelId: null }).where(eq(alertThresholds.subscriptionId, id)).run();
      });
    },

    async addThreshold(subscriptionId, ratio) {
      db.transaction((tx) => {
        const status = tx.select({ status: s.status }).from(s).where(eq(s.id, subscriptionId)).get()?.status;
        insertThreshold(tx, subscriptionId, ratio, status === 'active');
      });
    },

    async removeThreshold(thresholdId) {
      db.delete(alertThresholds).where(eq(alertThresholds.id, thresholdId)).run();
    },

    async setCooldown(id, minutes) {
      db.insert(alertCooldowns)
        .values({ subscriptionId: id, cooldownMinutes: minutes })
        .onConflictDoUpdate({ target: alertCooldowns.subscriptionId, set: { cooldownMinutes: minutes } })
        .run();
    },

    async setDigest(id, minuteOfDay, nowMs) {
      db.update(s).set({ digestMinute: minuteOfDay, lastDigestAtMs: nowMs }).where(eq(s.id, id)).run();
    },

    async moveChat(platform, fromChatId, toChatId) {
      splitFanouts();
      db.transaction((tx) => {
        const from = byChat(tx, platform, fromChatId);
        if (!from) return;
        const to = byChat(tx, platform, toChatId);
        if (to) {
          tx.update(alertOutbox).set({ subscriptionId: to.id }).where(eq(alertOutbox.subscriptionId, from.id)).run();
          tx.delete(s).where(eq(s.id, from.id)).run();
        } else {
          tx.update(s).set({ chatId: toChatId }).where(eq(s.id, from.id)).run();
        }
      });
    },
  };
}
