/**
 * The alert outbox, in SQLite: messages waiting for delivery, as the dispatcher reads and settles them. A
 * row points at a shared payload (one per distinct message of an evaluation) and at its subscription, whose
 * current chat is the target, so a chat that moved takes its undelivered rows along.
 *
 * An evaluation writes one fan-out row per distinct message (`alert_outbox_fanouts`: the payload and the chats
 * it goes to) rather than a row per chat; `splitFanouts` turns those into the per-chat rows the dispatcher
 * claims and settles, before anything reads or changes a chat's rows (the dispatcher's sweep, the digests,
 * re-subscribing, a chat's move). A chat's rows go out oldest payload first, so a row split late still goes
 * before a message written after it.
 */
import { and, isNotNull, isNull, lt, notInArray, or, sql } from 'drizzle-orm';
import type { OutboxHead, OutboxStore } from '../core/alert-ports.js';
import type { Reply } from '../core/reply.js';
import type { Database } from './open.js';
import { heldOutboxRow } from './outbox-claim-sql.js';
import { alertOutbox, alertOutboxFanouts, alertPayloads, alertSubscriptions } from './schema/index.js';
import { bare, prepare } from './statement.js';

/**
 * Prepares the split of fan-out rows on one connection. @returns a function that writes one outbox row per
 * chat of every fan-out (chats whose subscription is gone are left out), in the order the rows would have been
 * written one by one (by time, then chat), deletes the fan-outs, and returns how many rows it wrote. It runs
 * in a transaction of its own, or inside the caller's.
 */
export function prepareFanoutSplit(database: Database): () => number {
  const { sqlite } = database;
  const f = alertOutboxFanouts;
  const o = alertOutbox;
  const s = alertSubscriptions;
  const any = prepare(sqlite, sql`SELECT EXISTS (SELECT 1 FROM ${f})`);
  const split = prepare(
    sqlite,
    sql`INSERT INTO ${o} (${bare(o.subscriptionId)}, ${bare(o.kind)}, ${bare(o.payloadId)}, ${bare(o.createdAtMs)},
          ${bare(o.attempts)}, ${bare(o.nextAttemptAtMs)})
        SELECT ${s.id}, ${f.kind}, ${f.payloadId}, ${f.createdAtMs}, 0, ${f.createdAtMs}
        FROM ${f} CROSS JOIN json_each(${f.recipientsJson}) AS chat JOIN ${s} ON ${s.id} = chat.value
        ORDER BY ${f.createdAtMs}, ${s.id}, ${f.id}`,
  );
  const clear = prepare(sqlite, sql`DELETE FROM ${f}`);
  const splitAll = sqlite.transaction(() => {
    const written = split.run().changes;
    clear.run();
    return written;
  });
  return () => (any.value<number>() === 1 ? splitAll() : 0);
}

export function createOutboxStore(database: Database): OutboxStore {
  const { db, sqlite } = database;
  const o = alertOutbox;
  const s = alertSubscriptions;
  const splitFanouts = prepareFanoutSplit(database);
  const held = (id: number, claimedUntilMs: number | null) => heldOutboxRow(o, id, claimedUntilMs);
  // Read on every dispatcher sweep: prepared once. The oldest undelivered row per subscription (by payload,
  // so by the time its message was written) comes from the partial index of unsent rows; only active chats
  // on the platform are tried.
  const heads = prepare(
    sqlite,
    sql`SELECT ${o.id} AS id, ${o.subscriptionId} AS subscriptionId, ${o.kind} AS kind, ${o.payloadId} AS payloadId,
          ${o.attempts} AS attempts, ${o.nextAttemptAtMs} AS nextAttemptAtMs, ${o.claimedUntilMs} AS claimedUntilMs,
          ${s.platform} AS platform, ${s.chatId} AS chatId, ${s.threadId} AS threadId, ${s.guildId} AS guildId
        FROM ${o} JOIN ${s} ON ${s.id} = ${o.subscriptionId}
        WHERE (${o.subscriptionId}, ${o.payloadId}) IN (SELECT ${o.subscriptionId}, min(${o.payloadId}) FROM ${o}
                                                        WHERE ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL
                                                        GROUP BY ${o.subscriptionId})
          AND ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL
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
    async heads(platform, limit) {
      splitFanouts();
      return heads.all<OutboxHead>({ platform, limit });
    },
    async payload(payloadId) {
      const json = payload.value<string>({ id: payloadId });
      return json === undefined ? null : (JSON.parse(json) as Reply);
    },
    async claim(id, nowMs, leaseMs) {
      const until = nowMs + leaseMs;
      return claim.run({ id, now: nowMs, until }).changes === 1 ? until : null;
    },
    async release(id, claimedUntilMs) {
      return db.update(o).set({ claimedUntilMs: null }).where(held(id, claimedUntilMs)).run().changes === 1;
    },
    async markSent(id, claimedUntilMs, nowMs) {
      return (
        db
          .update(o)
          .set({ sentAtMs: nowMs, attempts: sql`${o.attempts} + 1`, lastError: null, claimedUntilMs: null })
          .where(held(id, claimedUntilMs))
          .run().changes === 1
      );
    },
    async markRetry(id, claimedUntilMs, nextAttemptAtMs, reason) {
      return (
        db
          .update(o)
          .set({ attempts: sql`${o.attempts} + 1`, nextAttemptAtMs, lastError: reason, claimedUntilMs: null })
          .where(held(id, claimedUntilMs))
          .run().changes === 1
      );
    },
    async markFailed(id, claimedUntilMs, nowMs, reason) {
      return (
        db
          .update(o)
          .set({ attempts: sql`${o.attempts} + 1`, failedAtMs: nowMs, lastError: reason, claimedUntilMs: null })
          .where(held(id, claimedUntilMs))
          .run().changes === 1
      );
    },
    async prune(beforeMs) {
      splitFanouts();
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
