/** The Telegram webhook's ledger of updates taken (core/update-ledger.ts) on PostgreSQL, shared by every instance. */
import { lt } from 'drizzle-orm';
import type { UpdateLedger } from '../core/update-ledger.js';
import { telegramUpdates } from './pg-schema/index.js';
import type { PgStoreDb } from './postgres.js';

export function createPgTelegramUpdateStore(db: PgStoreDb): UpdateLedger {
  return {
    async claim(updateId, nowMs) {
      // Two instances given the same re-sent update race on the primary key: exactly one insert returns its row.
      const taken = await db
        .insert(telegramUpdates)
        .values({ updateId, receivedAtMs: nowMs })
        .onConflictDoNothing()
        .returning({ updateId: telegramUpdates.updateId });
      return taken.length === 1;
    },
    async prune(beforeMs) {
      const gone = await db
        .delete(telegramUpdates)
        .where(lt(telegramUpdates.receivedAtMs, beforeMs))
        .returning({ updateId: telegramUpdates.updateId });
      return gone.length;
    },
  };
}
