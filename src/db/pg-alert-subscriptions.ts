/**
 * Alert subscriptions and their thresholds, in PostgreSQL: the same rules as `alert-subscriptions.ts`
 * (read its comment), on the pg schema through drizzle's query builder. A cold path, one chat at a time.
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
import { splitFanouts } from './pg-alert-outbox.js';
import { alertCooldowns, alertLevels, alertOutbox, alertSubscriptions, alertThresholds } from './pg-schema/index.js';
import type { PgStoreDb } from './postgres.js';
import { ADVISORY_LOCK_NAMESPACE, EVALUATION_LOCK_KEY } from './postgres-settings.js';

/** A transaction or the database itself: drizzle gives both the same query API. */
export type PgQueries = Pick<PgStoreDb, 'select' | 'insert' | 'update' | 'delete' | 'execute'>;

const s = alertSubscriptions;

/** The columns of a `Subscription`: the subscription row and its cooldown. */
export const pgSubscriptionColumns = {
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
  cooldownMinutes: sql<number>`coalesce(${alertCooldowns.cooldownMinutes}, 60)`.mapWith(Number),
  digestMinute: s.digestMinute,
  lastDigestAtMs: s.lastDigestAtMs,
  lastAlertAtMs: alertCooldowns.lastAlertAtMs,
};

export function selectPgSubscriptions(q: PgQueries) {
  return q.select(pgSubscriptionColumns).from(s).leftJoin(alertCooldowns, eq(alertCooldowns.subscriptionId, s.id));
}

async function byChat(q: PgQueries, platform: Platform, chatId: string): Promise<Subscription | null> {
  const [row] = await selectPgSubscriptions(q).where(and(eq(s.platform, platform), eq(s.chatId, chatId)));
  return row ?? null;
}

async function byId(q: PgQueries, id: number): Promise<Subscription | null> {
  const [row] = await selectPgSubscriptions(q).where(eq(s.id, id));
  return row ?? null;
}

/**
 * The level of `ratio` that has not seen the ratio yet, created when missing. Call inside a transaction: it
 * waits for an evaluation in progress (which gives unseen levels their side) and keeps the next one out until
 * the transaction ends, so a threshold never joins a level an evaluation is turning, and the level it created
 * or found is still unseen when it is read back.
 */
async function unseenLevel(q: PgQueries, ratio: number): Promise<number> {
  await q.execute(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_NAMESPACE}, ${EVALUATION_LOCK_KEY})`);
  await q.insert(alertLevels).values({ ratio, side: null }).onConflictDoNothing();
  const [level] = await q
    .select({ id: alertLevels.id })
    .from(alertLevels)
    .where(and(eq(alertLevels.ratio, ratio), isNull(alertLevels.side)));
  return level!.id;
}

/** A new threshold joins the unseen level of its ratio, or no level while the subscription is paused. */
async function insertThreshold(q: PgQueries, subscriptionId: number, ratio: number, active: boolean): Promise<void> {
  await q
    .insert(alertThresholds)
    .values({ subscriptionId, ratio, levelId: active ? await unseenLevel(q, ratio) : null });
}

/** Forgets a subscription's sides: each of its thresholds joins the unseen level of its ratio. */
async function resetLevels(q: PgQueries, subscriptionId: number): Promise<void> {
  const thresholds = await q
    .select({ id: alertThresholds.id, ratio: alertThresholds.ratio })
    .from(alertThresholds)
    .where(eq(alertThresholds.subscriptionId, subscriptionId));
  for (const t of thresholds)
    await q
      .update(alertThresholds)
      .set({ levelId: await unseenLevel(q, t.ratio) })
      .where(eq(alertThresholds.id, t.id));
}

async function dropWaiting(q: PgQueries, subscriptionId: number): Promise<void> {
  await q.update(alertCooldowns).set({ pendingId: null }).where(eq(alertCooldowns.subscriptionId, subscriptionId));
}

export function createPgSubscriptionStore(db: PgStoreDb): SubscriptionStore {
  return {
    byChat: (platform, chatId) => byChat(db, platform, chatId),
    byId: (id) => byId(db, id),
    async thresholdsOf(subscriptionId): Promise<Threshold[]> {
      return db
        .select({ id: alertThresholds.id, ratio: alertThresholds.ratio, side: sql<Side | null>`${alertLevels.side}` })
        .from(alertThresholds)
        .leftJoin(alertLevels, eq(alertLevels.id, alertThresholds.levelId))
        .where(eq(alertThresholds.subscriptionId, subscriptionId))
        .orderBy(asc(alertThresholds.ratio));
    },

    async subscribe(sub: NewSubscription, nowMs) {
      return db.transaction(async (tx) => {
        // A chat's undelivered rows may still sit in a fan-out: split before dropping them.
        await splitFanouts(tx);
        const existing = await byChat(tx, sub.platform, sub.chatId);
        if (existing) {
          await tx
            .update(s)
            .set({
              status: 'active',
              pauseReason: null,
              pausedAtMs: null,
              threadId: sub.threadId,
              guildId: sub.guildId,
              createdBy: sub.createdBy,
            })
            .where(eq(s.id, existing.id));
          await dropWaiting(tx, existing.id);
          await resetLevels(tx, existing.id);
          await tx
            .update(alertOutbox)
            .set({ failedAtMs: nowMs, lastError: 'dropped: subscription was paused' })
            .where(
              and(
                eq(alertOutbox.subscriptionId, existing.id),
                isNull(alertOutbox.sentAtMs),
                isNull(alertOutbox.failedAtMs),
              ),
            );
          return (await byId(tx, existing.id))!;
        }
        const [created] = await tx
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
          .returning({ id: s.id });
        const id = created!.id;
        await tx.insert(alertCooldowns).values({ subscriptionId: id }).onConflictDoNothing();
        for (const ratio of sub.thresholds) await insertThreshold(tx, id, ratio, true);
        return (await byId(tx, id))!;
      });
    },

    async unsubscribe(id) {
      await db.delete(s).where(eq(s.id, id));
    },

    async pause(id, reason, nowMs) {
      await db.transaction(async (tx) => {
        await tx.update(s).set({ status: 'paused', pauseReason: reason, pausedAtMs: nowMs }).where(eq(s.id, id));
        await dropWaiting(tx, id);
        await tx.update(alertThresholds).set({ levelId: null }).where(eq(alertThresholds.subscriptionId, id));
      });
    },

    async addThreshold(subscriptionId, ratio) {
      await db.transaction(async (tx) => {
        const [row] = await tx.select({ status: s.status }).from(s).where(eq(s.id, subscriptionId));
        await insertThreshold(tx, subscriptionId, ratio, row?.status === 'active');
      });
    },

    async removeThreshold(thresholdId) {
      await db.delete(alertThresholds).where(eq(alertThresholds.id, thresholdId));
    },

    async setCooldown(id, minutes) {
      await db
        .insert(alertCooldowns)
        .values({ subscriptionId: id, cooldownMinutes: minutes })
        .onConflictDoUpdate({ target: alertCooldowns.subscriptionId, set: { cooldownMinutes: minutes } });
    },

    async setDigest(id, minuteOfDay, nowMs) {
      await db.update(s).set({ digestMinute: minuteOfDay, lastDigestAtMs: nowMs }).where(eq(s.id, id));
    },

    async moveChat(platform, fromChatId, toChatId) {
      await db.transaction(async (tx) => {
        await splitFanouts(tx);
        const from = await byChat(tx, platform, fromChatId);
        if (!from) return;
        const to = await byChat(tx, platform, toChatId);
        if (to) {
          await tx.update(alertOutbox).set({ subscriptionId: to.id }).where(eq(alertOutbox.subscriptionId, from.id));
          await tx.delete(s).where(eq(s.id, from.id));
        } else {
          await tx.update(s).set({ chatId: toChatId }).where(eq(s.id, from.id));
        }
      });
    },
  };
}
