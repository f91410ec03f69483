import { bigint, boolean, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** PostgreSQL mirror of `schema/participants.ts`. */
export const callers = pgTable(
  'callers',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    address: text('address').notNull().unique(),
    firstDayMs: bigint('first_day_ms', { mode: 'number' }).notNull(),
  },
  (t) => [index('callers_first_day').on(t.firstDayMs)],
);

export const callerDays = pgTable(
  'caller_days',
  {
    dayMs: bigint('day_ms', { mode: 'number' }).notNull(),
    callerId: bigint('caller_id', { mode: 'number' }).notNull(),
    inferences: bigint('inferences', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.dayMs, t.callerId] })],
);

export const teeDays = pgTable(
  'tee_days',
  {
    dayMs: bigint('day_ms', { mode: 'number' }).notNull(),
    teeId: text('tee_id').notNull(),
    settlements: bigint('settlements', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.dayMs, t.teeId] })],
);

export const tees = pgTable(
  'tees',
  {
    registry: text('registry').notNull(),
    teeId: text('tee_id').notNull(),
    teeType: integer('tee_type'),
    owner: text('owner'),
    registeredAtMs: bigint('registered_at_ms', { mode: 'number' }),
    enabled: boolean('enabled').notNull(),
    lastHeartbeatMs: bigint('last_heartbeat_ms', { mode: 'number' }),
  },
  (t) => [primaryKey({ columns: [t.registry, t.teeId] })],
);

export const workflowTasks = pgTable(
  'workflow_tasks',
  {
    user: text('user').notNull(),
    contractAddress: text('contract_address').notNull(),
    endTimeSec: bigint('end_time_sec', { mode: 'number' }).notNull(),
    frequency: bigint('frequency', { mode: 'number' }).notNull(),
    registered: boolean('registered').notNull(),
    stopped: boolean('stopped').notNull(),
    updatedAtMs: bigint('updated_at_ms', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.user, t.contractAddress] })],
);

export const participantCoverage = pgTable('participant_coverage', {
  network: text('network').primaryKey(),
  fromBlock: bigint('from_block', { mode: 'number' }).notNull(),
  fromBlockTimeMs: bigint('from_block_time_ms', { mode: 'number' }).notNull(),
});
