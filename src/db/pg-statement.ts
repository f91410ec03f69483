/**
 * Raw SQL on the PostgreSQL store, whichever driver carries it (node-postgres in production, PGlite in
 * tests): both answer `execute` with `rows` and a count of changed rows, under different names. Columns
 * named by `sql` templates come from the pg schema, as in statement.ts for SQLite. node-postgres returns
 * bigint (int8) values as strings, so queries cast the numbers they return (`::float8` keeps every id and
 * millisecond time exactly) or callers pass them through `Number`.
 */
import type { SQL } from 'drizzle-orm';
import type { PgStoreDb } from './postgres.js';

interface RawResult<T> {
  rows: T[];
  /** node-postgres */
  rowCount?: number | null;
  /** PGlite */
  affectedRows?: number;
}

export async function pgRows<T>(q: Pick<PgStoreDb, 'execute'>, query: SQL): Promise<T[]> {
  return ((await q.execute(query)) as unknown as RawResult<T>).rows;
}

/** @returns how many rows the statement inserted, changed or deleted. */
export async function pgRun(q: Pick<PgStoreDb, 'execute'>, query: SQL): Promise<number> {
  const result = (await q.execute(query)) as unknown as RawResult<unknown>;
  return result.rowCount ?? result.affectedRows ?? 0;
}
