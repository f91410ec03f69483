/**
 * The alert outbox, in SQLite: messages waiting for delivery, as the dispatcher reads and settles them. A
 * row points at a shared payload (one per distinct message of an evaluation) and at its subscription, whose
 * current chat is the target, so a chat that moved takes its undelivered rows along.
 */
import { and, eq, isNotNull, isNull, lt, notInArray, or, sql } from 'drizzle-orm';
import type { OutboxHead, OutboxStore } from '../core/alert-ports.js';
import type { Reply } from '../core/reply.js';
import type { Database } from './open.js';
import { alertOutbox, alertPayloads, alertSubscriptions } from './schema/index.js';
import { bare, prepare } from './statement.js';

export function createOutboxStore(database: Database): OutboxStore {
  const { db, sqlite } = database;
  const o = alertOutbox;
  const s = alertSubscriptions;
  // Read on every dispatcher sweep: prepared once. The oldest undelivered row per subscription comes from
  // the partial index of unsent rows; only active chats on the platform are tried.
  const heads = prepare(
    sqlite,
    sql`SELECT ${o.id} AS id, ${o.subscriptionId} AS subscriptionId, ${o.kind} AS kind, ${o.payloadId} AS payloadId, ${o.attempts} AS attempts,
          ${o.nextAttemptAtMs} AS nextAttemptAtMs, ${o.claimedUntilMs} AS claimedUntilMs, ${s.platform} AS platform, ${s.chatId} AS chatId, ${s.threadId} AS threadId, ${s.guildId} AS guildId
        FROM ${o} JOIN ${s} ON ${s.id} = ${o.subscriptionId}
        WHERE ${o.id} IN (SELECT min(${o.id}) FROM ${o} WHERE ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL GROUP BY ${o.subscriptionId})
          AND ${s.status} = 'active' AND ${s.platform} = ${sql.placeholder('platform')}
        ORDER BY ${o.id} LIMIT ${sql.placeholder('limit')}`,
  );
  // SQLite has one writer at a time, so the guarded UPDATE is the whole claim: whoever writes first wins.
  const claim = prepare(
    sqlite,
    sql`UPDATE ${o} SET ${bare(o.claimedUntilMs)} = ${sql.placeholder('until')}
        WHERE ${o.id} = ${sql.placeholder('id')} AND ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL
          AND (${o.claimedUntilMs} IS NULL OR ${o.claimedUntilMs} <= ${sql.placeholder('now')})`,
  );
  // A SQLite file serves one process: a lease found at start was left by a process that is gone (killed
  // mid-send), so it ends here and that row goes out again at once, as it did before leases.
  db.update(o)
    .set({ claimedUntilMs: null })
    .where(and(isNotNull(o.claimedUntilMs), isNull(o.sentAtMs), isNull(o.failedAtMs)))
    .run();
  const payload = prepare(
    sqlite,
    sql`SELECT ${alertPayloads.replyJson} FROM ${alertPayloads} WHERE ${alertPayloads.id} = ${sql.placeholder('id')}`,
  );

  return {
    heads: async (platform, limit) => heads.all<OutboxHead>({ platform, limit }),
    async payload(payloadId) {
      const json = payload.value<string>({ id: payloadId });
      return json === undefined ? null : (JSON.parse(json) as Reply);
    },
    claim: async (id, nowMs, leaseMs) => claim.run({ id, now: nowMs, until: nowMs + leaseMs }).changes === 1,
    async release(id) {
      db.update(o).set({ claimedUntilMs: null }).where(eq(o.id, id)).run();
    },
    async markSent(id, nowMs) {
      db.update(o)
        .set({ sentAtMs: nowMs, attempts: sql`${o.attempts} + 1`, lastError: null, claimedUntilMs: null })
        .where(and(eq(o.id, id), isNull(o.sentAtMs)))
        .run();
    },
    async markRetry(id, nextAttemptAtMs, reason) {
      db.update(o)
        .set({ attempts: sql`${o.attempts} + 1`, nextAttemptAtMs, lastError: reason, claimedUntilMs: null })
        .where(eq(o.id, id))
        .run();
    },
    async markFailed(id, nowMs, reason) {
      db.update(o)
        .set({ attempts: sql`${o.attempts} + 1`, failedAtMs: nowMs, lastError: reason, claimedUntilMs: null })
        .where(eq(o.id, id))
        .run();
    },
    async prune(beforeMs) {
      db.transaction((tx) => {
        tx.delete(o)
          .where(
            or(
              and(isNotNull(o.sentAtMs), lt(o.sentAtMs, beforeMs)),
              and(isNotNull(o.failedAtMs), lt(o.failedAtMs, beforeMs)),
            ),
          )
          .run();
        tx.delete(alertPayloads)
          .where(
            and(
              lt(alertPayloads.createdAtMs, beforeMs),
              notInArray(alertPayloads.id, tx.select({ id: o.payloadId }).from(o)),
            ),
          )
          .run();
      });
    },
  };
}
