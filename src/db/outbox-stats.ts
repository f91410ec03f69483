/**
 * The alert outbox as an operator sees it: rows waiting for delivery, per platform. Counted from the
 * partial index of unsent rows (`alert_outbox_unsent`), each looked up in active subscriptions, so rows of
 * a paused chat (which the dispatcher never tries) do not read as an outbox that does not drain.
 *
 * The CROSS JOIN keeps SQLite from driving the count from the subscriptions: the cost follows the rows
 * waiting (nothing for an empty outbox), not the number of chats. With 100,000 waiting it is tens of ms
 * (see `npm run bench -- operations`), which is why it is refreshed off the scrape path.
 * src/db/pg-outbox-stats.ts counts the same on PostgreSQL.
 */
import { sql } from 'drizzle-orm';
import type { Platform } from '../core/chat.js';
import type { Database } from './open.js';
import { alertOutbox, alertOutboxFanouts, alertSubscriptions } from './schema/index.js';
import { prepare } from './statement.js';

export interface OutboxStats {
  /** Undelivered rows of active subscriptions, by platform; a platform with none is absent. */
  pendingByPlatform(): Promise<Map<Platform, number>>;
}

export function createOutboxStats(database: Database): OutboxStats {
  // Rows still in a fan-out (an evaluation's message for many chats, not yet split by the dispatcher) count
  // once per chat they go to.
  const o = alertOutbox;
  const s = alertSubscriptions;
  const f = alertOutboxFanouts;
  const pending = prepare(
    database.sqlite,
    sql`SELECT platform, sum(n) AS n FROM (
          SELECT ${s.platform} AS platform, count(*) AS n
          FROM ${o} INDEXED BY alert_outbox_unsent CROSS JOIN ${s} ON ${s.id} = ${o.subscriptionId}
          WHERE ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL AND ${s.status} = 'active'
          GROUP BY ${s.platform}
          UNION ALL
          SELECT ${s.platform}, count(*)
          FROM ${f} CROSS JOIN json_each(${f.recipientsJson}) chat
            CROSS JOIN ${s} ON ${s.id} = chat.value
          WHERE ${s.status} = 'active'
          GROUP BY ${s.platform})
        GROUP BY platform`,
  );
  return {
    async pendingByPlatform() {
      const rows = pending.all<{ platform: Platform; n: number }>();
      return new Map(rows.map((r) => [r.platform, r.n]));
    },
  };
}
