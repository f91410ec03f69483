/**
 * Hot-path SQL written with drizzle's `sql` template, so every table and column comes from the schema (a
 * renamed column fails the typecheck), rendered once and prepared once on the raw connection. Values are
 * bound per run through `sql.placeholder('name')`.
 */
import { fillPlaceholders, sql, type Column, type SQL } from 'drizzle-orm';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import type Sqlite from 'better-sqlite3';

const dialect = new SQLiteSyncDialect();

/** A column's bare name, where SQL wants no table in front (INSERT and ON CONFLICT column lists, SET). */
export const bare = (column: Column): SQL => sql`${sql.identifier(column.name)}`;

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
