import { sql, type SQL } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgDialect } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { storeTables } from '../../src/db/store-tables.js';
import { PG_BACKENDS, testPostgres } from '../helpers/postgres.js';

/** The PostgreSQL types a SQLite column type may become (see src/db/pg-schema/index.ts). */
const PG_TYPES_FOR: Record<string, readonly string[]> = {
  SQLiteInteger: ['bigint', 'integer'],
  SQLiteReal: ['double precision'],
  SQLiteText: ['text'],
};

const whereText = (where: SQL | undefined, dialect: PgDialect | SQLiteSyncDialect) =>
  where ? dialect.sqlToQuery(where).sql : null;

function sqliteShape(table: ReturnType<typeof storeTables>[number]) {
  const c = sqliteTableConfig(table.sqlite);
  return {
    columns: c.columns.map((col) => ({
      name: col.name,
      notNull: col.notNull,
      primary: col.primary,
      default: col.default ?? null,
    })),
    primaryKeys: c.primaryKeys.map((k) => k.columns.map((col) => col.name)),
    indexes: c.indexes.map((i) => ({
      name: i.config.name,
      unique: i.config.unique,
      columns: i.config.columns.map((col) => (col as { name: string }).name),
      where: whereText(i.config.where, new SQLiteSyncDialect()),
    })),
    foreignKeys: c.foreignKeys.map((fk) => {
      const r = fk.reference();
      return {
        columns: r.columns.map((col) => col.name),
        table: sqliteTableConfig(r.foreignTable).name,
        onDelete: fk.onDelete ?? 'no action',
      };
    }),
  };
}

function pgShape(table: ReturnType<typeof storeTables>[number]) {
  const c = pgTableConfig(table.pg);
  return {
    columns: c.columns.map((col) => ({
      name: col.name,
      notNull: col.notNull,
      primary: col.primary,
      default: col.default ?? null,
    })),
    primaryKeys: c.primaryKeys.map((k) => k.columns.map((col) => col.name)),
    indexes: c.indexes.map((i) => ({
      name: i.config.name,
      unique: i.config.unique,
      columns: i.config.columns.map((col) => (col as { name: string }).name),
      where: whereText(i.config.where, new PgDialect()),
    })),
    foreignKeys: c.foreignKeys.map((fk) => {
      const r = fk.reference();
      return {
        columns: r.columns.map((col) => col.name),
        table: pgTableConfig(r.foreignTable).name,
        onDelete: fk.onDelete ?? 'no action',
      };
    }),
  };
}

describe('PostgreSQL schema', () => {
  it('mirrors every SQLite table: names, columns, keys, defaults, indexes and foreign keys', () => {
    for (const table of storeTables()) {
      expect({ table: table.name, ...pgShape(table) }).toEqual({ table: table.name, ...sqliteShape(table) });
    }
  });

  it('gives every column a type that holds what SQLite holds', () => {
    for (const table of storeTables()) {
      const pgColumns = pgTableConfig(table.pg).columns;
      for (const column of sqliteTableConfig(table.sqlite).columns) {
        const mirror = pgColumns.find((c) => c.name === column.name)!;
        expect({ column: `${table.name}.${column.name}`, type: mirror.getSQLType() }).toEqual({
          column: `${table.name}.${column.name}`,
          type: expect.toBeOneOf([...(PG_TYPES_FOR[column.columnType] ?? [])]),
        });
        // A JavaScript number either way: no bigint values or strings reach the stores.
        if (mirror.getSQLType() === 'bigint') expect(mirror.columnType).toBe('PgBigInt53');
      }
      // An id SQLite numbers itself (AUTOINCREMENT, or an INTEGER PRIMARY KEY `id` aliasing the rowid) stays one
      // PostgreSQL numbers itself, and accepts the ids a copy brings.
      const columns = sqliteTableConfig(table.sqlite).columns;
      const numbered = columns.find(
        (c) =>
          (c as { autoIncrement?: boolean }).autoIncrement ||
          (c.primary && c.columnType === 'SQLiteInteger' && c.name === 'id'),
      );
      expect({ table: table.name, identity: table.identityColumn }).toEqual({
        table: table.name,
        identity: numbered?.name ?? null,
      });
    }
  });

  it('lists tables so that each comes after the tables it references', () => {
    const order = storeTables().map((t) => t.name);
    for (const table of storeTables()) {
      for (const fk of pgTableConfig(table.pg).foreignKeys) {
        expect(order.indexOf(pgTableConfig(fk.reference().foreignTable).name)).toBeLessThan(order.indexOf(table.name));
      }
    }
  });
});

describe.each(PG_BACKENDS)('PostgreSQL migrations (%s)', { timeout: 60_000 }, (backend) => {
  it('create every table of the schema with its columns, types and nullability', async ({ skip }) => {
    const { db } = await testPostgres(backend, skip);
    const result = (await db.execute(sql`
      SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`)) as unknown as {
      rows: Array<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>;
    };
    const expected = storeTables()
      .flatMap((t) =>
        pgTableConfig(t.pg).columns.map((c) => ({
          table_name: t.name,
          column_name: c.name,
          data_type: c.getSQLType(),
          is_nullable: c.notNull ? 'NO' : 'YES',
        })),
      )
      .sort((a, b) => (a.table_name === b.table_name ? 0 : a.table_name < b.table_name ? -1 : 1));
    expect(result.rows).toEqual(expected);
  });

  it('create every index of the schema', async ({ skip }) => {
    const { db } = await testPostgres(backend, skip);
    const result = (await db.execute(sql`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`)) as unknown as {
      rows: Array<{ indexname: string }>;
    };
    const names = new Set(result.rows.map((r) => r.indexname));
    for (const table of storeTables())
      for (const index of pgTableConfig(table.pg).indexes) expect(names).toContain(index.config.name);
  });
});
