/**
 * Every table of the store, paired across the two dialects by name and listed in foreign-key order (a
 * table after every table it references), read from the schemas themselves: a table added to both
 * `schema/` and `pg-schema/` is copied, counted and compared without touching code that lists tables.
 */
import { getTableColumns, is } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import * as pgSchema from './pg-schema/index.js';
import * as sqliteSchema from './schema/index.js';

export interface StoreColumn {
  /** The property name drizzle rows use (`createdAtMs`). */
  key: string;
  /** The column name in both databases (`created_at_ms`). */
  name: string;
}

export interface StoreTable {
  name: string;
  sqlite: SQLiteTable;
  pg: PgTable;
  /** In the pg table's declared order. */
  columns: StoreColumn[];
  /** The column PostgreSQL numbers itself (an identity), whose sequence a copy moves past the copied ids. */
  identityColumn: string | null;
}

function tablesOf<T>(schema: Record<string, unknown>, kind: new (...args: never[]) => T): T[] {
  return Object.values(schema).filter((value): value is T => is(value, kind as never));
}

/**
 * @throws Error naming any table that has no mirror in the other dialect.
 */
export function storeTables(): StoreTable[] {
  const sqliteByName = new Map(tablesOf(sqliteSchema, SQLiteTable).map((t) => [sqliteTableConfig(t).name, t]));
  const pgByName = new Map(tablesOf(pgSchema, PgTable).map((t) => [pgTableConfig(t).name, t]));
  const unpaired = [
    ...[...sqliteByName.keys()].filter((n) => !pgByName.has(n)).map((n) => `${n} (no mirror in src/db/pg-schema)`),
    ...[...pgByName.keys()].filter((n) => !sqliteByName.has(n)).map((n) => `${n} (in src/db/pg-schema only)`),
  ];
  if (unpaired.length > 0) throw new Error(`the SQLite and PostgreSQL schemas differ: ${unpaired.join(', ')}`);

  const tables = new Map<string, StoreTable>();
  for (const [name, pg] of pgByName) {
    const config = pgTableConfig(pg);
    const columns = Object.entries(getTableColumns(pg)).map(([key, column]) => ({ key, name: column.name }));
    const identity = config.columns.find((c) => (c as { generatedIdentity?: unknown }).generatedIdentity !== undefined);
    tables.set(name, { name, sqlite: sqliteByName.get(name)!, pg, columns, identityColumn: identity?.name ?? null });
  }
  return inForeignKeyOrder(tables);
}

/** Depth-first: each table after the tables it references, otherwise in the order of their export names. */
function inForeignKeyOrder(tables: Map<string, StoreTable>): StoreTable[] {
  const ordered: StoreTable[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (table: StoreTable, path: string[]) => {
    const seen = state.get(table.name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new Error(`foreign keys form a cycle: ${[...path, table.name].join(' -> ')}`);
    state.set(table.name, 'visiting');
    for (const fk of pgTableConfig(table.pg).foreignKeys) {
      const target = pgTableConfig(fk.reference().foreignTable).name;
      if (target !== table.name) visit(tables.get(target)!, [...path, table.name]);
    }
    state.set(table.name, 'done');
    ordered.push(table);
  };
  for (const table of tables.values()) visit(table, []);
  return ordered;
}
