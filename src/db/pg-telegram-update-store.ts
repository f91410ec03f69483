/** The Telegram ledger of updates taken (core/update-ledger.ts) on PostgreSQL, shared by every instance. */
import { and, eq, isNull, lt } from 'drizzle-orm';
import type { UpdateLedger } from '../core/update-ledger.js';
import { claimable } from './update-claim-sql.js';
import { telegramUpdates as t } from './pg-schema/index.js';
import type { PgStoreDb } from './postgres.js';

export function createPgTelegramUpdateStore(db: PgStoreDb): UpdateLedger {
  return {
    async claim(updateId, nowMs) {
      // Two instances given the same re-sent update race on the primary key: the second waits for the first's
      // row, then re-checks the condition against it, so exactly one statement returns a row.
      const taken = await db
        .insert(t)
        .values({ updateId, receivedAtMs: nowMs, claimedAtMs: nowMs })
        .onConflictDoUpdate({
          target: t.updateId,
          set: { claimedAtMs: nowMs },
          setWhere: claimable(t, nowMs),
        })
        .returning({ updateId: t.updateId });
      if (taken.length === 1) return 'claimed';
      const [row] = await db.select({ finishedAtMs: t.finishedAtMs }).from(t).where(eq(t.updateId, updateId));
      return row?.finishedAtMs != null ? 'finished' : 'running';
    },
    async finish(updateId, nowMs) {
      // Finished by whichever instance ran it, even one whose claim was taken over meanwhile: it ran.
      await db
        .update(t)
        .set({ finishedAtMs: nowMs })
        .where(and(eq(t.updateId, updateId), isNull(t.finishedAtMs)));
    },
    async release(updateId, claimedAtMs) {
      await db
        .update(t)
        .set({ claimedAtMs: null })
        .where(and(eq(t.updateId, updateId), eq(t.claimedAtMs, claimedAtMs), isNull(t.finishedAtMs)));
    },
    async prune(beforeMs) {
      const gone = await db.delete(t).where(lt(t.receivedAtMs, beforeMs)).returning({ updateId: t.updateId });
      return gone.length;
    },
  };
}
