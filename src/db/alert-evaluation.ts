/**
 * One alert evaluation, in SQLite: what happens to 100,000 subscriptions when a refresh brings a new
 * volume / market cap ratio. It is set-based (a few bulk statements, never a chat at a time through
 * JavaScript) and runs as one transaction, so a crash either keeps everything it wrote or nothing.
 *
 * 1. Levels. A threshold's state is kept in a shared level (`alert_levels`: one ratio and the side the ratio
 *    was last seen on), so a crossing is decided once per level, not per chat. The candidates are levels
 *    `below` at or under the ratio and `above` over the re-arm bound; the core's rule says which cross and
 *    in what order a message lists them.
 * 2. Staging. The crossed levels are numbered in message order (`alert_eval_crossed_levels`). Each chat
 *    holding a threshold of one gets one row in the scratch table `alert_eval_chats`: the positions of the
 *    crossed levels it holds as one text (`'0,2'`, ascending), whether it is sent its message now (its
 *    cooldown is over), and its row of crossings already waiting (`alert_pending`), or null. Chats whose
 *    waiting crossings fall due now, with nothing fresh (`''`), get a row too.
 * 3. Messages. Chats with the same crossed levels and the same waiting row get the same words: one payload
 *    per distinct pair for chats sent now, one merged waiting row per distinct pair for chats still inside
 *    their cooldown (waiting crossings first, then the fresh ones).
 * 4. Writing. One fan-out row per payload lists the chats whose cooldown is over (the outbox store splits
 *    it into a row per chat when the dispatcher reads it), and those chats' cooldowns restart and their
 *    waiting rows clear; chats inside their cooldown point at their merged waiting row. Waiting rows nothing
 *    points at any more are dropped.
 * 5. Flipping. Crossed levels take their new side; unseen levels (new thresholds) record theirs; levels
 *    that now share a ratio and side merge into the one most thresholds point at; empty levels go.
 *
 * Before all of it, the round's reading is recorded as the one evaluated (`alert_evaluated`), unless a reading
 * fetched later was evaluated already: then the round does nothing (two leaders overlapping for a moment, the
 * old one's slower refresh last), so levels never go back to an older ratio.
 *
 * Quiet refreshes cost one index probe each way (step 1 finds no candidate).
 */
import { sql } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { Crossing, Side } from '../core/alert-rules.js';
import type {
  AlertEvaluationStore,
  EvaluationCounts,
  EvaluationRound,
  Level,
  LevelCrossing,
} from '../core/alert-ports.js';
import { cooldownOverSql } from './cooldown-sql.js';
import type { Database } from './open.js';
import {
  alertCooldowns,
  alertEvaluated,
  alertLevels,
  alertOutboxFanouts,
  alertPayloads,
  alertPending,
  alertThresholds,
} from './schema/index.js';
import { bare, prepare } from './statement.js';

/**
 * Which of an evaluation's crossed levels a chat holds: their positions in the message order, ascending,
 * joined by commas (`'0,2'`); `''` for none. Each set has one text, so chats holding the same set match.
 */
type CrossedSet = string;

/** Positions (ascending, so in message order) of the crossed levels in a set. */
function positionsOf(set: CrossedSet): number[] {
  return set === '' ? [] : set.split(',').map(Number);
}

// Scratch tables of one evaluation, local to this connection and emptied inside its transaction.
const evalChats = sqliteTable('alert_eval_chats', {
  subscriptionId: integer('subscription_id').primaryKey(),
  /** The chat's cooldown is over: it gets its message now. */
  sendNow: integer('send_now', { mode: 'boolean' }).notNull(),
  crossed: text('crossed').$type<CrossedSet>().notNull(),
  /** The chat's row of crossings waiting for its cooldown, or null. */
  pendingId: integer('pending_id'),
});
/** A payload and a merged waiting row per distinct (crossed, pendingId): what each staged chat gets. */
const evalMessages = sqliteTable('alert_eval_messages', {
  crossed: text('crossed').$type<CrossedSet>().notNull(),
  pendingId: integer('pending_id'),
  payloadId: integer('payload_id'),
  newPendingId: integer('new_pending_id'),
});
/** The round's crossed levels and their positions in the message order. */
const evalCrossedLevels = sqliteTable('alert_eval_crossed_levels', {
  levelId: integer('level_id').primaryKey(),
  position: integer('position').notNull(),
});

/**
 * Chats that get the same message (their crossed set and waiting row) and whose cooldown says the same. One
 * message can make two groups: the chats whose cooldown is over, and the chats still inside it.
 */
interface MessageGroup {
  crossed: CrossedSet;
  /** Their row of crossings waiting for the cooldown, or null. */
  pendingId: number | null;
  /** Their cooldown is over: they get the message now. */
  sendNow: boolean;
  /** They have fresh crossings inside their cooldown: they keep them waiting. */
  keepWaiting: boolean;
}

/** What a group's chats get: the payload for those sent now, the merged waiting row for the others. */
interface GroupMessage {
  crossed: CrossedSet;
  /** Their row of crossings waiting for the cooldown, or null. */
  pendingId: number | null;
  payloadId: number | null;
  newPendingId: number | null;
}

export function createAlertEvaluationStore(database: Database): AlertEvaluationStore {
  const { sqlite } = database;
  const t = alertThresholds;
  const c = alertCooldowns;
  const l = alertLevels;
  const f = alertOutboxFanouts;
  const now = sql.placeholder('now');
  const cooldownOver = cooldownOverSql(c, now);

  // The joins on (crossed, pending_id) use `IS` for pending_id, which matches null to null and uses the index.
  sqlite.exec(`
    CREATE TEMP TABLE IF NOT EXISTS alert_eval_chats (
      subscription_id INTEGER PRIMARY KEY, send_now INTEGER NOT NULL, crossed TEXT NOT NULL, pending_id INTEGER);
    CREATE TEMP TABLE IF NOT EXISTS alert_eval_messages (
      crossed TEXT NOT NULL, pending_id INTEGER, payload_id INTEGER, new_pending_id INTEGER,
      UNIQUE (crossed, pending_id));
    CREATE TEMP TABLE IF NOT EXISTS alert_eval_crossed_levels (
      level_id INTEGER PRIMARY KEY, position INTEGER NOT NULL);
  `);

  const e = alertEvaluated;
  const q = {
    // 0. Order: records the round's reading unless a later one was evaluated (then nothing changes).
    markEvaluated: prepare(
      sqlite,
      sql`INSERT INTO ${e} (${bare(e.id)}, ${bare(e.fetchedAtMs)}) VALUES (1, ${sql.placeholder('fetchedAtMs')})
          ON CONFLICT (${bare(e.id)}) DO UPDATE SET ${bare(e.fetchedAtMs)} = excluded.${bare(e.fetchedAtMs)}
          WHERE excluded.${bare(e.fetchedAtMs)} >= ${e.fetchedAtMs}`,
    ),

    // 1. Levels.
    candidates: prepare(
      sqlite,
      sql`SELECT ${l.id} AS id, ${l.ratio} AS ratio, ${l.side} AS side FROM ${l}
            WHERE ${l.side} = 'below' AND ${l.ratio} <= ${sql.placeholder('ratio')}
          UNION ALL SELECT ${l.id}, ${l.ratio}, ${l.side} FROM ${l}
            WHERE ${l.side} = 'above' AND ${l.ratio} > ${sql.placeholder('downBound')}`,
    ),

    // 2. Staging.
    clearChats: prepare(sqlite, sql`DELETE FROM ${evalChats}`),
    clearMessages: prepare(sqlite, sql`DELETE FROM ${evalMessages}`),
    clearCrossedLevels: prepare(sqlite, sql`DELETE FROM ${evalCrossedLevels}`),
    insertCrossedLevel: prepare(
      sqlite,
      sql`INSERT INTO ${evalCrossedLevels} (${bare(evalCrossedLevels.levelId)}, ${bare(evalCrossedLevels.position)})
          VALUES (${sql.placeholder('levelId')}, ${sql.placeholder('position')})`,
    ),
    thresholdCount: prepare(sqlite, sql`SELECT count(*) FROM ${t}`),
    crossedThresholdCount: prepare(
      sqlite,
      sql`SELECT count(*) FROM ${evalCrossedLevels}
          CROSS JOIN ${t} INDEXED BY alert_thresholds_level ON ${t.levelId} = ${evalCrossedLevels.levelId}`,
    ),
    // Only thresholds of active chats point at a level (pausing detaches them), so staging reads no status.
    // One pass per crossed level, in message order: each chat holding it gets a row, or the level's position
    // is appended to its set, which so stays ascending.
    stageLevel: prepare(
      sqlite,
      sql`INSERT INTO ${evalChats} (${bare(evalChats.subscriptionId)}, ${bare(evalChats.sendNow)},
            ${bare(evalChats.crossed)}, ${bare(evalChats.pendingId)})
          SELECT ${t.subscriptionId}, ${cooldownOver}, ${sql.placeholder('position')}, ${c.pendingId}
          FROM ${t} LEFT JOIN ${c} ON ${c.subscriptionId} = ${t.subscriptionId}
          WHERE ${t.levelId} = ${sql.placeholder('levelId')}
          ON CONFLICT (${bare(evalChats.subscriptionId)}) DO UPDATE
            SET ${bare(evalChats.crossed)} = ${bare(evalChats.crossed)} || ',' || excluded.${bare(evalChats.crossed)}`,
    ),
    // Every crossed level in one pass over all thresholds in subscription order (a covering index), so each
    // chat's levels are grouped without a sort and its row written once; only its few positions are sorted.
    stageAllLevels: prepare(
      sqlite,
      sql`INSERT INTO ${evalChats} (${bare(evalChats.subscriptionId)}, ${bare(evalChats.sendNow)},
            ${bare(evalChats.crossed)}, ${bare(evalChats.pendingId)})
          SELECT held.subscription_id, ${cooldownOver}, held.crossed, ${c.pendingId}
          FROM (SELECT ${t.subscriptionId} AS subscription_id,
                  group_concat(${evalCrossedLevels.position}, ',' ORDER BY ${evalCrossedLevels.position}) AS crossed
                FROM ${t} INDEXED BY alert_thresholds_sub_level
                CROSS JOIN ${evalCrossedLevels} ON ${evalCrossedLevels.levelId} = ${t.levelId}
                GROUP BY ${t.subscriptionId}) held
          LEFT JOIN ${c} ON ${c.subscriptionId} = held.subscription_id`,
    ),
    anyWaiting: prepare(sqlite, sql`SELECT EXISTS (SELECT 1 FROM ${alertPending})`),
    // Chats whose waiting crossings are due now, with nothing fresh. A paused chat holds none (pausing and
    // resubscribing drop them, migration 0006 dropped any left), so the wide subscription rows are not read.
    stageDue: prepare(
      sqlite,
      sql`INSERT INTO ${evalChats} (${bare(evalChats.subscriptionId)}, ${bare(evalChats.sendNow)},
            ${bare(evalChats.crossed)}, ${bare(evalChats.pendingId)})
          SELECT ${c.subscriptionId}, TRUE, '', ${c.pendingId} FROM ${c}
          WHERE ${c.pendingId} IS NOT NULL AND ${cooldownOver}
          ON CONFLICT DO NOTHING`,
    ),

    // 3. Messages. DISTINCT probes a small ephemeral index per row instead of sorting every row as GROUP BY
    // would.
    groups: prepare(
      sqlite,
      sql`SELECT DISTINCT ${evalChats.crossed} AS crossed, ${evalChats.pendingId} AS pendingId,
            ${evalChats.sendNow} AS sendNow, NOT ${evalChats.sendNow} AND ${evalChats.crossed} <> '' AS keepWaiting
          FROM ${evalChats}`,
    ),
    waitingCrossings: prepare(
      sqlite,
      sql`SELECT ${alertPending.crossingsJson} FROM ${alertPending}
          WHERE ${alertPending.id} = ${sql.placeholder('id')}`,
    ),
    insertWaiting: prepare(
      sqlite,
      sql`INSERT INTO ${alertPending} (${bare(alertPending.crossingsJson)})
          VALUES (${sql.placeholder('crossingsJson')})`,
    ),
    insertPayload: prepare(
      sqlite,
      sql`INSERT INTO ${alertPayloads} (${bare(alertPayloads.replyJson)}, ${bare(alertPayloads.crossingsJson)},
            ${bare(alertPayloads.createdAtMs)})
          VALUES (${sql.placeholder('replyJson')}, ${sql.placeholder('crossingsJson')}, ${now})`,
    ),
    insertMessage: prepare(
      sqlite,
      sql`INSERT INTO ${evalMessages} (${bare(evalMessages.crossed)}, ${bare(evalMessages.pendingId)},
            ${bare(evalMessages.payloadId)}, ${bare(evalMessages.newPendingId)})
          VALUES (${sql.placeholder('crossed')}, ${sql.placeholder('pendingId')},
            ${sql.placeholder('payloadId')}, ${sql.placeholder('newPendingId')})`,
    ),

    // 4. Writing. One fan-out row per payload lists the chats it goes to (the outbox store splits it into a
    // row per chat when the dispatcher next reads the outbox). With a single message the payload or waiting row
    // is bound directly; with several, each chat finds its own through `alert_eval_messages`.
    enqueueEach: prepare(
      sqlite,
      sql`INSERT INTO ${f} (${bare(f.kind)}, ${bare(f.payloadId)}, ${bare(f.createdAtMs)}, ${bare(f.recipientsJson)})
          SELECT 'alert', chats.payload_id, ${now}, json_group_array(chats.subscription_id)
          FROM (SELECT ${evalChats.subscriptionId} AS subscription_id, ${evalMessages.payloadId} AS payload_id
                FROM ${evalChats} JOIN ${evalMessages}
                  ON ${evalMessages.crossed} = ${evalChats.crossed}
                  AND ${evalMessages.pendingId} IS ${evalChats.pendingId}
                WHERE ${evalChats.sendNow} AND ${evalMessages.payloadId} IS NOT NULL) chats
          GROUP BY chats.payload_id
          RETURNING json_array_length(${bare(f.recipientsJson)})`,
    ),
    enqueueOne: prepare(
      sqlite,
      sql`INSERT INTO ${f} (${bare(f.kind)}, ${bare(f.payloadId)}, ${bare(f.createdAtMs)}, ${bare(f.recipientsJson)})
          SELECT 'alert', ${sql.placeholder('payloadId')}, ${now}, json_group_array(${evalChats.subscriptionId})
          FROM ${evalChats} WHERE ${evalChats.sendNow}
          RETURNING json_array_length(${bare(f.recipientsJson)})`,
    ),
    restartCooldowns: prepare(
      sqlite,
      sql`INSERT INTO ${c} (${bare(c.subscriptionId)}, ${bare(c.lastAlertAtMs)}, ${bare(c.pendingId)})
          SELECT ${evalChats.subscriptionId}, ${now}, NULL FROM ${evalChats} WHERE ${evalChats.sendNow}
          ON CONFLICT (${bare(c.subscriptionId)})
            DO UPDATE SET ${bare(c.lastAlertAtMs)} = excluded.${bare(c.lastAlertAtMs)}, ${bare(c.pendingId)} = NULL`,
    ),
    keepEachWaiting: prepare(
      sqlite,
      sql`INSERT INTO ${c} (${bare(c.subscriptionId)}, ${bare(c.lastAlertAtMs)}, ${bare(c.pendingId)})
          SELECT ${evalChats.subscriptionId}, NULL, ${evalMessages.newPendingId}
          FROM ${evalChats} JOIN ${evalMessages}
            ON ${evalMessages.crossed} = ${evalChats.crossed} AND ${evalMessages.pendingId} IS ${evalChats.pendingId}
          WHERE NOT ${evalChats.sendNow} AND ${evalChats.crossed} <> ''
          ON CONFLICT (${bare(c.subscriptionId)}) DO UPDATE SET ${bare(c.pendingId)} = excluded.${bare(c.pendingId)}`,
    ),
    keepOneWaiting: prepare(
      sqlite,
      sql`INSERT INTO ${c} (${bare(c.subscriptionId)}, ${bare(c.lastAlertAtMs)}, ${bare(c.pendingId)})
          SELECT ${evalChats.subscriptionId}, NULL, ${sql.placeholder('pendingId')}
          FROM ${evalChats} WHERE NOT ${evalChats.sendNow} AND ${evalChats.crossed} <> ''
          ON CONFLICT (${bare(c.subscriptionId)}) DO UPDATE SET ${bare(c.pendingId)} = excluded.${bare(c.pendingId)}`,
    ),
    dropUnusedWaiting: prepare(
      sqlite,
      sql`DELETE FROM ${alertPending}
          WHERE ${alertPending.id} NOT IN (SELECT ${c.pendingId} FROM ${c} WHERE ${c.pendingId} IS NOT NULL)`,
    ),

    // 5. Flipping.
    flipLevel: prepare(
      sqlite,
      sql`UPDATE ${l} SET ${bare(l.side)} = ${sql.placeholder('side')}, ${bare(l.lastCrossedAtMs)} = ${now}
          WHERE ${l.id} = ${sql.placeholder('id')}`,
    ),
    recordUnseen: prepare(
      sqlite,
      sql`UPDATE ${l}
          SET ${bare(l.side)} = CASE WHEN ${l.ratio} <= ${sql.placeholder('ratio')} THEN 'above' ELSE 'below' END
          WHERE ${l.side} IS NULL`,
    ),
    sameSideLevels: prepare(
      sqlite,
      sql`SELECT ${l.id} AS id, ${l.ratio} AS ratio, ${l.side} AS side,
            (SELECT count(*) FROM ${t} WHERE ${t.levelId} = ${l.id}) AS thresholds
          FROM ${l} JOIN (SELECT ${l.ratio} AS ratio, ${l.side} AS side FROM ${l} WHERE ${l.side} IS NOT NULL
                          GROUP BY ${l.ratio}, ${l.side} HAVING count(*) > 1) shared
            ON shared.ratio = ${l.ratio} AND shared.side = ${l.side}
          ORDER BY ${l.ratio}, ${l.side}, thresholds DESC, ${l.id}`,
    ),
    repoint: prepare(
      sqlite,
      sql`UPDATE ${t} SET ${bare(t.levelId)} = ${sql.placeholder('to')}
          WHERE ${t.levelId} = ${sql.placeholder('from')}`,
    ),
    deleteLevel: prepare(sqlite, sql`DELETE FROM ${l} WHERE ${l.id} = ${sql.placeholder('id')}`),
    dropEmptyLevels: prepare(
      sqlite,
      sql`DELETE FROM ${l} WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${t.levelId} = ${l.id})`,
    ),
  };

  function clearScratch(): void {
    q.clearChats.run();
    q.clearMessages.run();
    q.clearCrossedLevels.run();
  }

  /**
   * Step 2: stages every chat a crossing reaches, and chats with waiting crossings now due. @returns crossings
   * staged.
   */
  function stage(crossings: readonly LevelCrossing[], nowMs: number): number {
    let thresholdsCrossed = 0;
    if (crossings.length > 1) {
      crossings.forEach((x, position) => q.insertCrossedLevel.run({ levelId: x.levelId, position }));
      thresholdsCrossed = q.crossedThresholdCount.value<number>() ?? 0;
    }
    // One pass over every threshold costs about what a pass per crossed level does once those levels hold
    // four fifths of all thresholds (measured on 100,000 chats × 3: with two thirds the passes take 0.85 of
    // the one pass's time, with all of them 1.2 times): below that, the passes per level win.
    if (crossings.length > 1 && 5 * thresholdsCrossed >= 4 * (q.thresholdCount.value<number>() ?? 0)) {
      q.stageAllLevels.run({ now: nowMs });
    } else {
      thresholdsCrossed = 0;
      crossings.forEach((x, position) => {
        thresholdsCrossed += q.stageLevel.run({ now: nowMs, levelId: x.levelId, position }).changes;
      });
    }
    if (q.anyWaiting.value<number>() === 1) q.stageDue.run({ now: nowMs });
    return thresholdsCrossed;
  }

  /** Step 3: one payload, and one merged waiting row, per distinct message. */
  function writeMessages(crossings: readonly LevelCrossing[], round: EvaluationRound): GroupMessage[] {
    const messages = new Map<string, GroupMessage>();
    // SQLite answers a boolean as 0 or 1.
    const groups = q.groups
      .all<{ crossed: CrossedSet; pendingId: number | null; sendNow: number; keepWaiting: number }>()
      .map((g): MessageGroup => ({ ...g, sendNow: Boolean(g.sendNow), keepWaiting: Boolean(g.keepWaiting) }));
    for (const group of groups) {
      const key = `${group.crossed}|${group.pendingId}`;
      let message = messages.get(key);
      if (!message)
        messages.set(
          key,
          (message = { crossed: group.crossed, pendingId: group.pendingId, payloadId: null, newPendingId: null }),
        );
      if (!group.sendNow && !group.keepWaiting) continue;
      const waiting =
        group.pendingId === null
          ? []
          : (JSON.parse(q.waitingCrossings.value<string>({ id: group.pendingId }) ?? '[]') as Crossing[]);
      const all = [...waiting, ...positionsOf(group.crossed).map((i) => crossings[i]!.crossing)];
      const crossingsJson = JSON.stringify(all);
      if (group.sendNow && message.payloadId === null) {
        const replyJson = JSON.stringify(round.message(all));
        message.payloadId = Number(q.insertPayload.run({ replyJson, crossingsJson, now: round.nowMs }).lastInsertRowid);
      }
      if (group.keepWaiting && message.newPendingId === null) {
        message.newPendingId = Number(q.insertWaiting.run({ crossingsJson }).lastInsertRowid);
      }
    }
    return [...messages.values()];
  }

  /** Step 4: the outbox rows, restarted cooldowns and waiting rows. */
  function writeChats(messages: readonly GroupMessage[], nowMs: number): { messages: number; deferred: number } {
    const payloadIds = messages.flatMap((m) => (m.payloadId === null ? [] : [m.payloadId]));
    const waitingIds = messages.flatMap((m) => (m.newPendingId === null ? [] : [m.newPendingId]));
    if (payloadIds.length > 1 || waitingIds.length > 1) {
      for (const m of messages) q.insertMessage.run({ ...m });
    }
    const written = { messages: 0, deferred: 0 };
    if (payloadIds.length > 0) {
      const queued =
        payloadIds.length === 1
          ? q.enqueueOne.all<{ n: number }>({ now: nowMs, payloadId: payloadIds[0] })
          : q.enqueueEach.all<{ n: number }>({ now: nowMs });
      written.messages = queued.reduce((sum, row) => sum + Object.values(row)[0]!, 0);
      q.restartCooldowns.run({ now: nowMs });
    }
    if (waitingIds.length > 0) {
      written.deferred = (
        waitingIds.length === 1 ? q.keepOneWaiting.run({ pendingId: waitingIds[0] }) : q.keepEachWaiting.run()
      ).changes;
    }
    if (q.anyWaiting.value<number>() === 1) q.dropUnusedWaiting.run();
    return written;
  }

  /** Step 5: levels take their new sides, and levels on the same side merge. */
  function flipLevels(crossings: readonly LevelCrossing[], ratio: number, nowMs: number): void {
    for (const x of crossings) q.flipLevel.run({ side: x.side, now: nowMs, id: x.levelId });
    q.recordUnseen.run({ ratio });
    let keep: { id: number; ratio: number; side: Side } | null = null;
    for (const level of q.sameSideLevels.all<{ id: number; ratio: number; side: Side }>()) {
      if (keep && keep.ratio === level.ratio && keep.side === level.side) {
        q.repoint.run({ to: keep.id, from: level.id });
        q.deleteLevel.run({ id: level.id });
      } else keep = level;
    }
    q.dropEmptyLevels.run();
  }

  function evaluateNow(round: EvaluationRound): EvaluationCounts | null {
    if (q.markEvaluated.run({ fetchedAtMs: round.fetchedAtMs }).changes === 0) return null;
    clearScratch();
    const crossings = round.crossingsOf(q.candidates.all<Level>({ ratio: round.ratio, downBound: round.downBound }));
    const thresholdsCrossed = stage(crossings, round.nowMs);
    const written = writeChats(writeMessages(crossings, round), round.nowMs);
    flipLevels(crossings, round.ratio, round.nowMs);
    clearScratch();
    return { crossings: thresholdsCrossed, ...written };
  }

  return {
    evaluate: async (round) => withForeignKeysOff(database, () => evaluateNow(round)),
  };
}

/**
 * Runs `fn` in a transaction with foreign-key checks off: they cost two parent lookups per outbox row, and
 * every row an evaluation writes points at a row that exists (staged chats come from threshold and cooldown
 * rows, which go with their subscription; payloads are written in the same transaction). Evaluation deletes
 * no row a foreign key points at, so no cascade is missed. Checks are back on when `fn` returns or throws.
 * Inside an outer transaction the pragma cannot change: checks stay on.
 */
export function withForeignKeysOff<T>(database: Database, fn: () => T): T {
  const { sqlite } = database;
  const toggle = !sqlite.inTransaction && sqlite.pragma('foreign_keys', { simple: true }) === 1;
  if (toggle) sqlite.pragma('foreign_keys = OFF');
  try {
    return sqlite.transaction(fn)();
  } finally {
    if (toggle) sqlite.pragma('foreign_keys = ON');
  }
}
