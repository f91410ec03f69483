/**
 * Telegram: the updates taken by webhook, by `update_id`, so an update Telegram re-sends (it does so until one
 * instance answers 200) runs once across every instance sharing the store, and runs again when its claim was
 * released (the run failed) or left unfinished past its lease (the instance died): core/update-ledger.ts.
 * Rows are pruned after Telegram's own retention of an unconfirmed update (24 hours).
 */
import { integer, sqliteTable } from 'drizzle-orm/sqlite-core';

export const telegramUpdates = sqliteTable('telegram_updates', {
  updateId: integer('update_id').primaryKey(),
  /** When the update first arrived; pruning goes by it. */
  receivedAtMs: integer('received_at_ms').notNull(),
  /** When the current claim was taken; null once it was released. Rows from before claims had it were finished. */
  claimedAtMs: integer('claimed_at_ms'),
  /** When a run finished; null while one runs, or after it failed. */
  finishedAtMs: integer('finished_at_ms'),
});
