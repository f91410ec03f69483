import { bigint, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** PostgreSQL mirror of `schema/inferences.ts`. */
export const inferenceHours = pgTable(
  'inference_hours',
  {
    hourMs: bigint('hour_ms', { mode: 'number' }).notNull(),
    mode: text('mode').notNull(),
    kind: text('kind').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.hourMs, t.mode, t.kind] })],
);

export const indexerState = pgTable('indexer_state', {
  network: text('network').primaryKey(),
  fromBlock: bigint('from_block', { mode: 'number' }).notNull(),
  nextBlock: bigint('next_block', { mode: 'number' }).notNull(),
  indexedBlockTimeMs: bigint('indexed_block_time_ms', { mode: 'number' }),
  headBlock: bigint('head_block', { mode: 'number' }),
  headSeenAtMs: bigint('head_seen_at_ms', { mode: 'number' }),
  undecodableLogs: bigint('undecodable_logs', { mode: 'number' }).notNull().default(0),
  lastRunAtMs: bigint('last_run_at_ms', { mode: 'number' }),
  lastError: text('last_error'),
  lastErrorAtMs: bigint('last_error_at_ms', { mode: 'number' }),
});

export const networkActivity = pgTable('network_activity', {
  network: text('network').primaryKey(),
  totalTransactions: bigint('total_transactions', { mode: 'number' }).notNull(),
  transactionsToday: bigint('transactions_today', { mode: 'number' }).notNull(),
  fetchedAtMs: bigint('fetched_at_ms', { mode: 'number' }).notNull(),
});
