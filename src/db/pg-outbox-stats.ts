/**
 * The alert outbox's waiting rows by platform on PostgreSQL (as outbox-stats.ts): undelivered rows of active
 * subscriptions, from the unsent rows' index, plus the chats of fan-out rows the dispatcher has not split yet.
 */
import { sql } from 'drizzle-orm';
import type { Platform } from '../core/chat.js';
import type { OutboxStats } from './outbox-stats.js';
import { alertOutbox as o, alertOutboxFanouts as f, alertSubscriptions as s } from './pg-schema/index.js';
import { pgRows } from './pg-statement.js';
import type { PgStoreDb } from './postgres.js';

export function createPgOutboxStats(db: PgStoreDb): OutboxStats {
  return {
    async pendingByPlatform() {
      const rows = await pgRows<{ platform: string; n: string | number }>(
        db,
        sql`
        SELECT platform, sum(n) AS n FROM (
          SELECT ${s.platform} AS platform, count(*) AS n
          FROM ${o} JOIN ${s} ON ${s.id} = ${o.subscriptionId}
          WHERE ${o.sentAtMs} IS NULL AND ${o.failedAtMs} IS NULL AND ${s.status} = 'active'
          GROUP BY ${s.platform}
          UNION ALL
          SELECT ${s.platform}, count(*)
          FROM ${f} CROSS JOIN LATERAL json_array_elements_text(${f.recipientsJson}::json) AS chat(id)
          JOIN ${s} ON ${s.id} = chat.id::bigint
          WHERE ${s.status} = 'active'
          GROUP BY ${s.platform}
        ) counted
        GROUP BY platform`,
      );
      return new Map(rows.map((r) => [r.platform as Platform, Number(r.n)]));
    },
  };
}
