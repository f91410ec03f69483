/**
 * Hot-path SQL written with drizzle's `sql` template, so every table and column comes from the schema (a
 * renamed column fails the typecheck), rendered once and prepared once on the raw connection. Values are
 * bound per run through `sql.placeholder('name')`.
 */
import { fillPlaceholders, sql, type SQL } from 'drizzle-orm';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import type Sqlite from 'better-sqlite3';

const dialect = new SQLiteSyncDialect();

export { bare, excluded } from './column-sql.js';

export interface Statement {
  run(values?: Record<string, unknown>): Sqlite.RunResult;
  get<T>(values?: Record<string, unknown>): T | undefined;
  all<T>(values?: Record<string, unknown>): T[];
  /** The first column of the first row. */
  value<T>(values?: Record<string, unknown>): T | undefined;
}

export function prepare(sqlite: Sqlite.Database, query: SQL): Statement {
  const { sql: text, params } = dialect.sqlToQuery(query);
  const statement = sqlite.prepare(text);
  const bind = (values: Record<string, unknown> = {}) => (params.length === 0 ? [] : fillPlaceholders(params, values));
  let plucked: Sqlite.Statement | null = null;
  return {
    run: (values) => statement.run(...bind(values)),
    get: <T>(values?: Record<string, unknown>) => statement.get(...bind(values)) as T | undefined,
    all: <T>(values?: Record<string, unknown>) => statement.all(...bind(values)) as T[],
    value: <T>(values?: Record<string, unknown>) =>
      (plucked ??= sqlite.prepare(text).pluck()).get(...bind(values)) as T | undefined,
  };
}

/**
 * One value bound by position (`?`), for statements prepared with `sqlText` whose callers pass arrays: a
 * write of many rows a statement binds its values straight from an array, without a name per value.
 */
export const param: SQL = sql.raw('?');

/**
 * The text of a query for `sqlite.prepare`, where its values are bound by position (`param`) or by name
 * (`named`). The tables and columns still come from the schema; values written into the template inline
 * would be lost, so they are refused.
 */
export function sqlText(query: SQL): string {
  const { sql: text, params } = dialect.sqlToQuery(query);
  if (params.length > 0) throw new Error(`sqlText: bind values by param or named, not inline: ${text}`);
  return text;
}

/** A value better-sqlite3 binds by name from an object (`@name`), in a statement prepared with `sqlText`. */
export const named = (name: string): SQL => sql.raw(`@${name}`);
