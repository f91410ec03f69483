import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Inferences counted from the OpenGradient chain, one row per hour × verification mode × event kind.
 * Rows are only ever incremented in the same transaction that moves the indexer's cursor.
 */
export const inferenceHours = sqliteTable(
  'inference_hours',
  {
    hourMs: integer('hour_ms').notNull(),
    /** `vanilla`, `tee`, `zkml` or `unknown`. */
    mode: text('mode').notNull(),
    /** `ml`, `llm_chat`, `llm_completion`, `batch_settlement`, `individual_settlement`. */
    kind: text('kind').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.hourMs, t.mode, t.kind] })],
);

/** The indexer's place in the chain (one row per indexed network) and what it last saw of the head. */
export const indexerState = sqliteTable('indexer_state', {
  network: text('network').primaryKey(),
  /** Where the first backfill started. */
  fromBlock: integer('from_block').notNull(),
  /** The next block to read: everything before it is counted, nothing from it on. */
  nextBlock: integer('next_block').notNull(),
  /** Block time of `nextBlock - 1`, when known. */
  indexedBlockTimeMs: integer('indexed_block_time_ms'),
  headBlock: integer('head_block'),
  headSeenAtMs: integer('head_seen_at_ms'),
  /** Logs that matched an inference event but could not be decoded (counted once each, as `unknown`). */
  undecodableLogs: integer('undecodable_logs').notNull().default(0),
  lastRunAtMs: integer('last_run_at_ms'),
  lastError: text('last_error'),
  lastErrorAtMs: integer('last_error_at_ms'),
});

/** The explorer's network counters, last good reading only. */
export const networkActivity = sqliteTable('network_activity', {
  network: text('network').primaryKey(),
  totalTransactions: integer('total_transactions').notNull(),
  transactionsToday: integer('transactions_today').notNull(),
  fetchedAtMs: integer('fetched_at_ms').notNull(),
});
