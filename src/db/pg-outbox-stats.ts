/** The alert outbox's waiting rows by platform on PostgreSQL (as outbox-stats.ts), from the unsent rows' index. */
import { and, count, eq, isNull } from 'drizzle-orm';
import type { Platform } from '../core/chat.js';
import type { OutboxStats } from './outbox-stats.js';
import { alertOutbox, alertSubscriptions } from './pg-schema/index.js';
import type { PgStoreDb } from './postgres.js';

export function createPgOutboxStats(db: PgStoreDb): OutboxStats {
  const o = alertOutbox;
  const s = alertSubscriptions;
  return {
    async pendingByPlatform() {
      const rows = await db
        .select({ platform: s.platform, n: count() })
        .from(o)
        .innerJoin(s, eq(s.id, o.subscriptionId))
        .where(and(isNull(o.sentAtMs), isNull(o.failedAtMs), eq(s.status, 'active')))
        .groupBy(s.platform);
      return new Map(rows.map((r) => [r.platform as Platform, r.n]));
    },
  };
}
