import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Who uses the OpenGradient network, read from the chain by the inference indexer and written in the same
 * transaction as its cursor (DATA-SOURCES.md §4). Days are UTC day starts in epoch ms.
 */

/** Accounts that sent a transaction emitting a precompile inference event, numbered for compact day rows. */
export const callers = sqliteTable(
  'callers',
  {
    id: integer('id').primaryKey(),
    /** Lowercase 0x address: the `from` of the transaction. */
    address: text('address').notNull().unique(),
    /** The first UTC day the indexed history shows it calling. */
    firstDayMs: integer('first_day_ms').notNull(),
  },
  (t) => [index('callers_first_day').on(t.firstDayMs)],
);

/** Precompile inference events per caller and UTC day. */
export const callerDays = sqliteTable(
  'caller_days',
  {
    dayMs: integer('day_ms').notNull(),
    callerId: integer('caller_id').notNull(),
    inferences: integer('inferences').notNull(),
  },
  (t) => [primaryKey({ columns: [t.dayMs, t.callerId] })],
);

/** `IndividualSettlement` events per TEE (`teeId`, topic 1) and UTC day. */
export const teeDays = sqliteTable(
  'tee_days',
  {
    dayMs: integer('day_ms').notNull(),
    teeId: text('tee_id').notNull(),
    settlements: integer('settlements').notNull(),
  },
  (t) => [primaryKey({ columns: [t.dayMs, t.teeId] })],
);

/** Each TEE as its registry's events leave it, per registry contract. */
export const tees = sqliteTable(
  'tees',
  {
    registry: text('registry').notNull(),
    teeId: text('tee_id').notNull(),
    /** From `TEERegistered`: 0 LLM proxy, 1 validator; null when only later events were seen. */
    teeType: integer('tee_type'),
    owner: text('owner'),
    registeredAtMs: integer('registered_at_ms'),
    /**
     * Registration enables a TEE; `TEEDisabled` / `TEEEnabled` flip it. The registry takes a heartbeat only
     * from an enabled TEE, so `HeartbeatReceived` also sets it (see participant-store.ts). `TEERemoved`
     * (registries of og-evm 758e149) deletes the TEE: registration, type, owner and enabled are cleared.
     */
    enabled: integer('enabled', { mode: 'boolean' }).notNull(),
    /** Block time of its latest `HeartbeatReceived`. */
    lastHeartbeatMs: integer('last_heartbeat_ms'),
  },
  (t) => [primaryKey({ columns: [t.registry, t.teeId] })],
);

/** Workflow tasks of the task scheduler, one per (user, contract), as its events leave them. */
export const workflowTasks = sqliteTable(
  'workflow_tasks',
  {
    user: text('user').notNull(),
    contractAddress: text('contract_address').notNull(),
    /** Seconds (the contract's `endTime`), capped at the largest safe integer. */
    endTimeSec: integer('end_time_sec').notNull(),
    frequency: integer('frequency').notNull(),
    /** Whether a `TaskRegistered` was seen (a `TaskUpdated` alone leaves it false). */
    registered: integer('registered', { mode: 'boolean' }).notNull(),
    stopped: integer('stopped', { mode: 'boolean' }).notNull(),
    updatedAtMs: integer('updated_at_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.user, t.contractAddress] })],
);

/** What the participant tables cover: from the block time of the first block indexed into them. */
export const participantCoverage = sqliteTable('participant_coverage', {
  network: text('network').primaryKey(),
  fromBlock: integer('from_block').notNull(),
  fromBlockTimeMs: integer('from_block_time_ms').notNull(),
});
