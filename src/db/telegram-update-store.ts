/** The Telegram webhook's ledger of updates taken (core/update-ledger.ts), in the SQLite store. */
import { lt } from 'drizzle-orm';
import type { UpdateLedger } from '../core/update-ledger.js';
import type { Database } from './open.js';
import { telegramUpdates } from './schema/index.js';

export function createTelegramUpdateStore(database: Database): UpdateLedger {
  const { db } = database;
  return {
    async claim(updateId, nowMs) {
      const r = db.insert(telegramUpdates).values({ updateId, receivedAtMs: nowMs }).onConflictDoNothing().run();
      return r.changes === 1;
    },
    async prune(beforeMs) {
      return db.delete(telegramUpdates).where(lt(telegramUpdates.receivedAtMs, beforeMs)).run().changes;
    },
  };
}
