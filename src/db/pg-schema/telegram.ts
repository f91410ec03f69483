import { bigint, pgTable } from 'drizzle-orm/pg-core';

/** PostgreSQL mirror of `schema/telegram.ts`. */
export const telegramUpdates = pgTable('telegram_updates', {
  updateId: bigint('update_id', { mode: 'number' }).primaryKey(),
  receivedAtMs: bigint('received_at_ms', { mode: 'number' }).notNull(),
  claimedAtMs: bigint('claimed_at_ms', { mode: 'number' }),
  finishedAtMs: bigint('finished_at_ms', { mode: 'number' }),
});
