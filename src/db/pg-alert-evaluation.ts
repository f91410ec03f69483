/**
 * One alert evaluation, in PostgreSQL: the algorithm of `alert-evaluation.ts` (read its comment: levels,
 * staging, messages, writing, flipping), with the same results, in one transaction of set-based statements.
 *
 * - Evaluations take a transaction-scoped advisory lock first, so two leaders overlapping for a moment run
 *   them one after the other: the second sees the levels the first flipped and finds nothing to cross again.
 *   Under the lock, a round whose reading is older than the one last evaluated (`alert_evaluated`) does
 *   nothing, so the old leader's slower refresh committing last never turns levels back to an older ratio.
 * - A chat's crossed set is an array of positions in the message order (`int[]`, ascending; `{}` for none);
 *   staging is one INSERT … SELECT grouping every crossed threshold by its chat, from the thresholds of the
 *   crossed levels (bound as one array, with their positions). `send_now` says its cooldown is over, and
 *   `pending_id` is its waiting row or null, matched with `IS NOT DISTINCT FROM`.
 * - The scratch tables are temporary and dropped at commit; they are only made when something crossed or
 *   crossings are waiting, so a quiet refresh reads two index ranges and writes nothing.
 */
import { sql } from 'drizzle-orm';
import type { Crossing } from '../core/alert-rules.js';
import type {
  AlertEvaluationStore,
  EvaluationCounts,
  EvaluationRound,
  Level,
  LevelCrossing,
} from '../core/alert-ports.js';
import { cooldownOverSql } from './cooldown-sql.js';
import type { PgQueries } from './pg-alert-subscriptions.js';
import {
  alertCooldowns,
  alertEvaluated,
  alertLevels,
  alertOutboxFanouts,
  alertPayloads,
  alertPending,
  alertThresholds,
} from './pg-schema/index.js';
import { pgRows, pgRun } from './pg-statement.js';
import { ADVISORY_LOCK_NAMESPACE, EVALUATION_LOCK_KEY } from './postgres-settings.js';
import type { PgStoreDb } from './postgres.js';

/** A column's bare name, where SQL wants no table in front (INSERT column lists, SET). */
const col = (column: { name: string }) => sql.identifier(column.name);

/** A PostgreSQL array literal of numbers, bound as one text value. */
const arrayOf = (values: readonly number[]) => `{${values.join(',')}}`;

/** Chats that get the same message (crossed set and waiting row), and whether their cooldown is over. */
interface GroupRow {
  /** The crossed set as PostgreSQL prints an `int[]` (`{0,2}`, `{}` for none): the key messages join on. */
  crossed: string;
  /** Their row of crossings waiting for the cooldown, or null. */
  pendingId: number | null;
  sendNow: boolean;
  keepWaiting: boolean;
  waitingJson: string | null;
}

interface GroupMessage {
  crossed: string;
  pendingId: number | null;
  payloadId: number | null;
  newPendingId: number | null;
}

export function createPgAlertEvaluationStore(db: PgStoreDb): AlertEvaluationStore {
  const t = alertThresholds;
  const c = alertCooldowns;
  const l = alertLevels;
  const f = alertOutboxFanouts;

  async function candidates(q: PgQueries, round: EvaluationRound): Promise<Level[]> {
    return pgRows<Level>(
      q,
      sql`SELECT ${l.id}::float8 AS "id", ${l.ratio} AS "ratio", ${l.side} AS "side" FROM ${l}
            WHERE ${l.side} = 'below' AND ${l.ratio} <= ${round.ratio}
          UNION ALL SELECT ${l.id}::float8, ${l.ratio}, ${l.side} FROM ${l}
            WHERE ${l.side} = 'above' AND ${l.ratio} > ${round.downBound}`,
    );
  }

  /** Step 2. @returns crossings staged (thresholds of crossed levels). */
  async function stage(
    q: PgQueries,
    crossings: readonly LevelCrossing[],
    nowMs: number,
    waiting: boolean,
  ): Promise<number> {
    await q.execute(sql`CREATE TEMP TABLE alert_eval_chats (
      subscription_id bigint PRIMARY KEY, send_now boolean NOT NULL, crossed int[] NOT NULL,
      pending_id bigint) ON COMMIT DROP`);
    let thresholdsCrossed = 0;
    if (crossings.length > 0) {
      // The crossed levels in message order: a chat's set is the positions of the levels it holds.
      const levels = arrayOf(crossings.map((x) => x.levelId));
      const position = sql`array_position(${levels}::bigint[], ${t.levelId})`;
      await q.execute(
        sql`INSERT INTO alert_eval_chats (subscription_id, send_now, crossed, pending_id)
            SELECT held.subscription_id, ${cooldownOverSql(c, sql`${nowMs}::bigint`)}, held.crossed, ${c.pendingId}
            FROM (SELECT ${t.subscriptionId} AS subscription_id,
                         array_agg(${position} - 1 ORDER BY ${position})::int[] AS crossed
                  FROM ${t} WHERE ${t.levelId} = ANY(${levels}::bigint[])
                  GROUP BY ${t.subscriptionId}) held
            LEFT JOIN ${c} ON ${c.subscriptionId} = held.subscription_id`,
      );
      const [row] = await pgRows<{ n: number }>(
        q,
        sql`SELECT coalesce(sum(cardinality(crossed)), 0)::float8 AS "n" FROM alert_eval_chats`,
      );
      thresholdsCrossed = row?.n ?? 0;
    }
    // Chats whose waiting crossings are due now, with nothing fresh.
    if (waiting) {
      await q.execute(
        sql`INSERT INTO alert_eval_chats (subscription_id, send_now, crossed, pending_id)
            SELECT ${c.subscriptionId}, true, '{}', ${c.pendingId} FROM ${c}
            WHERE ${c.pendingId} IS NOT NULL AND ${cooldownOverSql(c, sql`${nowMs}::bigint`)}
            ON CONFLICT DO NOTHING`,
      );
    }
    return thresholdsCrossed;
  }

  /** Step 3: one payload, and one merged waiting row, per distinct message. */
  async function writeMessages(
    q: PgQueries,
    crossings: readonly LevelCrossing[],
    round: EvaluationRound,
  ): Promise<GroupMessage[]> {
    const groups = await pgRows<GroupRow>(
      q,
      sql`SELECT g.crossed::text AS "crossed", g.pending_id::float8 AS "pendingId", g.send_now AS "sendNow",
            g.keep_waiting AS "keepWaiting", ${alertPending.crossingsJson} AS "waitingJson"
          FROM (SELECT DISTINCT crossed, pending_id, send_now, NOT send_now AND cardinality(crossed) > 0 AS keep_waiting
                FROM alert_eval_chats) g
          LEFT JOIN ${alertPending} ON ${alertPending.id} = g.pending_id`,
    );
    const messages = new Map<string, GroupMessage>();
    for (const group of groups) {
      const key = `${group.crossed}|${group.pendingId}`;
      let message = messages.get(key);
      if (!message)
        messages.set(
          key,
          (message = { crossed: group.crossed, pendingId: group.pendingId, payloadId: null, newPendingId: null }),
        );
      if (!group.sendNow && !group.keepWaiting) continue;
      const waiting = group.waitingJson === null ? [] : (JSON.parse(group.waitingJson) as Crossing[]);
      const positions = group.crossed === '{}' ? [] : group.crossed.slice(1, -1).split(',').map(Number);
      const all = [...waiting, ...positions.map((i) => crossings[i]!.crossing)];
      const crossingsJson = JSON.stringify(all);
      if (group.sendNow && message.payloadId === null) {
        const [payload] = await q
          .insert(alertPayloads)
          .values({ replyJson: JSON.stringify(round.message(all)), crossingsJson, createdAtMs: round.nowMs })
          .returning({ id: alertPayloads.id });
        message.payloadId = payload!.id;
      }
      if (group.keepWaiting && message.newPendingId === null) {
        const [pending] = await q.insert(alertPending).values({ crossingsJson }).returning({ id: alertPending.id });
        message.newPendingId = pending!.id;
      }
    }
    return [...messages.values()];
  }

  /** Step 4: the outbox rows, restarted cooldowns and waiting rows. */
  async function writeChats(
    q: PgQueries,
    messages: readonly GroupMessage[],
    nowMs: number,
  ): Promise<{ messages: number; deferred: number }> {
    const written = { messages: 0, deferred: 0 };
    const toSend = messages.filter((m) => m.payloadId !== null);
    const toKeep = messages.filter((m) => m.newPendingId !== null);
    if (toSend.length > 0 || toKeep.length > 0) {
      await q.execute(sql`CREATE TEMP TABLE alert_eval_messages (
        crossed text NOT NULL, pending_id bigint, payload_id bigint, new_pending_id bigint) ON COMMIT DROP`);
      const rows = JSON.stringify(
        messages.map((m) => ({
          crossed: m.crossed,
          pending_id: m.pendingId,
          payload_id: m.payloadId,
          new_pending_id: m.newPendingId,
        })),
      );
      await q.execute(
        sql`INSERT INTO alert_eval_messages (crossed, pending_id, payload_id, new_pending_id)
            SELECT m.crossed, m.pending_id, m.payload_id, m.new_pending_id
            FROM jsonb_to_recordset(${rows}::jsonb)
              AS m(crossed text, pending_id bigint, payload_id bigint, new_pending_id bigint)`,
      );
    }
    if (toSend.length > 0) {
      // One fan-out row per payload, listing its chats (split into a row per chat when the dispatcher next
      // reads the outbox): a row per chat here, each with its foreign-key checks, was most of the evaluation.
      // With one payload every chat sent now gets it: no join with the messages.
      const recipients =
        toSend.length === 1
          ? sql`SELECT ${toSend[0]!.payloadId}::bigint AS payload_id,
                  json_agg(e.subscription_id ORDER BY e.subscription_id)::text AS recipients
                FROM alert_eval_chats e WHERE e.send_now`
          : sql`SELECT m.payload_id, json_agg(e.subscription_id ORDER BY e.subscription_id)::text AS recipients
                FROM alert_eval_chats e
                JOIN alert_eval_messages m
                  ON m.crossed = e.crossed::text AND m.pending_id IS NOT DISTINCT FROM e.pending_id
                WHERE e.send_now AND m.payload_id IS NOT NULL
                GROUP BY m.payload_id`;
      const [queued] = await pgRows<{ n: number }>(
        q,
        sql`WITH fanouts AS (
              INSERT INTO ${f} (${col(f.kind)}, ${col(f.payloadId)}, ${col(f.createdAtMs)}, ${col(f.recipientsJson)})
              SELECT 'alert', r.payload_id, ${nowMs}, r.recipients FROM (${recipients}) r
              RETURNING json_array_length(${col(f.recipientsJson)}::json) AS n)
            SELECT coalesce(sum(n), 0)::float8 AS "n" FROM fanouts`,
      );
      written.messages = queued?.n ?? 0;
      // Every subscription has its cooldown row (subscribing writes it), so an UPDATE … FROM restarts them:
      // an upsert of 100,000 rows costs twice as much. Rows missing anyway (fewer updated than sent) are written after.
      const restarted = await pgRun(
        q,
        sql`UPDATE ${c} SET ${col(c.lastAlertAtMs)} = ${nowMs}, ${col(c.pendingId)} = NULL
            FROM alert_eval_chats e WHERE e.send_now AND ${c.subscriptionId} = e.subscription_id`,
      );
      if (restarted < written.messages) {
        await q.execute(
          sql`INSERT INTO ${c} (${col(c.subscriptionId)}, ${col(c.lastAlertAtMs)}, ${col(c.pendingId)})
              SELECT e.subscription_id, ${nowMs}, NULL FROM alert_eval_chats e
              WHERE e.send_now AND NOT EXISTS (SELECT 1 FROM ${c} WHERE ${c.subscriptionId} = e.subscription_id)
              ON CONFLICT DO NOTHING`,
        );
      }
    }
    if (toKeep.length > 0) {
      // A chat inside its cooldown was alerted, so its cooldown row exists.
      written.deferred = await pgRun(
        q,
        sql`UPDATE ${c} SET ${col(c.pendingId)} = m.new_pending_id
            FROM alert_eval_chats e
            JOIN alert_eval_messages m
              ON m.crossed = e.crossed::text AND m.pending_id IS NOT DISTINCT FROM e.pending_id
            WHERE NOT e.send_now AND cardinality(e.crossed) > 0 AND ${c.subscriptionId} = e.subscription_id`,
      );
    }
    await q.execute(
      sql`DELETE FROM ${alertPending} WHERE NOT EXISTS (SELECT 1 FROM ${c} WHERE ${c.pendingId} = ${alertPending.id})`,
    );
    return written;
  }

  /** Step 5: levels take their new sides, and levels on the same side merge into the one most thresholds point at. */
  async function flipLevels(
    q: PgQueries,
    crossings: readonly LevelCrossing[],
    ratio: number,
    nowMs: number,
  ): Promise<void> {
    if (crossings.length > 0) {
      const ids = arrayOf(crossings.map((x) => x.levelId));
      const sides = `{${crossings.map((x) => x.side).join(',')}}`;
      await q.execute(
        sql`UPDATE ${l} SET ${col(l.side)} = x.side, ${col(l.lastCrossedAtMs)} = ${nowMs}
            FROM unnest(${ids}::bigint[], ${sides}::text[]) AS x(id, side)
            WHERE ${l.id} = x.id`,
      );
    }
    await q.execute(
      sql`UPDATE ${l} SET ${col(l.side)} = CASE WHEN ${l.ratio} <= ${ratio} THEN 'above' ELSE 'below' END
          WHERE ${l.side} IS NULL`,
    );
    await q.execute(
      sql`WITH shared AS (
            SELECT ${l.id} AS id, first_value(${l.id}) OVER (
              PARTITION BY ${l.ratio}, ${l.side}
              ORDER BY (SELECT count(*) FROM ${t} WHERE ${t.levelId} = ${l.id}) DESC, ${l.id}) AS keep
            FROM ${l}
            JOIN (SELECT ${l.ratio} AS ratio, ${l.side} AS side FROM ${l} WHERE ${l.side} IS NOT NULL
                  GROUP BY ${l.ratio}, ${l.side} HAVING count(*) > 1) s
              ON s.ratio = ${l.ratio} AND s.side = ${l.side})
          UPDATE ${t} SET ${col(t.levelId)} = shared.keep
          FROM shared WHERE ${t.levelId} = shared.id AND shared.id <> shared.keep`,
    );
    await q.execute(sql`DELETE FROM ${l} WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${t.levelId} = ${l.id})`);
  }

  async function evaluateIn(q: PgQueries, round: EvaluationRound): Promise<EvaluationCounts | null> {
    await q.execute(sql`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_NAMESPACE}, ${EVALUATION_LOCK_KEY})`);
    const e = alertEvaluated;
    const recorded = await pgRun(
      q,
      sql`INSERT INTO ${e} (${col(e.id)}, ${col(e.fetchedAtMs)}) VALUES (1, ${round.fetchedAtMs})
          ON CONFLICT (${col(e.id)}) DO UPDATE SET ${col(e.fetchedAtMs)} = excluded.${col(e.fetchedAtMs)}
          WHERE excluded.${col(e.fetchedAtMs)} >= ${e.fetchedAtMs}`,
    );
    if (recorded === 0) return null;
    const crossings = round.crossingsOf(await candidates(q, round));
    const [any] = await pgRows<{ waiting: boolean }>(
      q,
      sql`SELECT EXISTS (SELECT 1 FROM ${alertPending}) AS "waiting"`,
    );
    const waiting = any?.waiting === true;
    let counts: EvaluationCounts = { crossings: 0, messages: 0, deferred: 0 };
    if (crossings.length > 0 || waiting) {
      const thresholdsCrossed = await stage(q, crossings, round.nowMs, waiting);
      const written = await writeChats(q, await writeMessages(q, crossings, round), round.nowMs);
      counts = { crossings: thresholdsCrossed, ...written };
    }
    await flipLevels(q, crossings, round.ratio, round.nowMs);
    return counts;
  }

  return {
    evaluate: (round) => db.transaction((tx) => evaluateIn(tx, round)),
  };
}
