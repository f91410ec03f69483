/** The Telegram ledger of updates taken (core/update-ledger.ts), in the SQLite store. */
import { and, eq, isNull, lt } from 'drizzle-orm';
import type { UpdateLedger } from '../core/update-ledger.js';
import { claimable } from './update-claim-sql.js';
import type { Database } from './open.js';
import { telegramUpdates as t } from './schema/index.js';

export function createTelegramUpdateStore(database: Database): UpdateLedger {
  const { db } = database;
  return {
    async claim(updateId, nowMs) {
      // One statement: a new update is inserted; a known one is taken over only while unfinished and either
      // released or held past its lease. Another connection's claim in between makes this one a no-op.
      const taken = db
        .insert(t)
        .values({ updateId, receivedAtMs: nowMs, claimedAtMs: nowMs })
        .onConflictDoUpdate({
          target: t.updateId,
          set: { claimedAtMs: nowMs },
          setWhere: claimable(t, nowMs),
        })
        .returning({ updateId: t.updateId })
        .all();
      if (taken.length === 1) return 'claimed';
      const row = db.select({ finishedAtMs: t.finishedAtMs }).from(t).where(eq(t.updateId, updateId)).get();
      return row?.finishedAtMs != null ? 'finished' : 'running';
    },
    async finish(updateId, nowMs) {
      // Finished by whichever instance ran it, even one whose claim was taken over meanwhile: it ran.
      db.update(t)
        .set({ finishedAtMs: nowMs })
        .where(and(eq(t.updateId, updateId), isNull(t.finishedAtMs)))
        .run();
    },
    async release(updateId, claimedAtMs) {
      db.update(t)
        .set({ claimedAtMs: null })
        .where(and(eq(t.updateId, updateId), eq(t.claimedAtMs, claimedAtMs), isNull(t.finishedAtMs)))
        .run();
    },
    async prune(beforeMs) {
      return db.delete(t).where(lt(t.receivedAtMs, beforeMs)).run().changes;
    },
  };
}
