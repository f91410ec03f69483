/**
 * Telegram: the updates already taken by webhook, by `update_id`, so an update Telegram re-sends (it does so
 * until one instance answers 200) runs once across every instance sharing the store. Rows are pruned after
 * Telegram's own retention of an unconfirmed update (24 hours).
 */
import { integer, sqliteTable } from 'drizzle-orm/sqlite-core';

export const telegramUpdates = sqliteTable('telegram_updates', {
  updateId: integer('update_id').primaryKey(),
  receivedAtMs: integer('received_at_ms').notNull(),
});
