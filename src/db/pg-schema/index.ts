/**
 * The PostgreSQL store's tables: one pg-core mirror of every table in `../schema`, with the same table,
 * column and index names, so one query text serves both dialects and `store copy` moves rows column by
 * column. drizzle-kit reads this folder (`drizzle.pg.config.ts`) to generate migrations into `drizzle-pg/`.
 *
 * Types, chosen so every value SQLite holds comes back unchanged:
 * - ids, epoch-ms times, block numbers and counts: `bigint` in `mode: 'number'` (SQLite integers are 64-bit;
 *   an `integer` would stop at 2^31, which an epoch-ms time already passes);
 * - small bounded numbers (minutes, days, a rank, attempts): `integer`;
 * - SQLite `real`: `doublePrecision` (both IEEE 754 doubles);
 * - `text`: `text`;
 * - an autoincrement id: `generatedByDefaultAsIdentity()`, so a copy can keep the SQLite ids.
 *
 * A new SQLite table needs its mirror here, exported from this index; `test/db/pg-schema.test.ts`
 * fails until it has one.
 */
export * from './market.js';
export * from './charts.js';
export * from './inferences.js';
export * from './discord.js';
export * from './alerts.js';
export * from './markets.js';
export * from './participants.js';
