/**
 * Moves a SQLite store into an empty PostgreSQL database: every table of the schema (see `storeTables`), in
 * foreign-key order, in one PostgreSQL transaction read from one SQLite snapshot (the file as it was when the
 * copy started), so a bot still writing to the file cannot tear the copy, and a failure leaves the target as
 * empty as it was. Each table's row count
 * is checked inside the transaction before it commits; ids are kept, and each identity sequence moves past
 * the highest id SQLite ever handed out, so new rows never reuse one.
 */
import { sql } from 'drizzle-orm';
import type { Database } from './open.js';
import type { PgStoreDb, PostgresDatabase } from './postgres.js';
import { failureReason } from './postgres-settings.js';
import { storeTables, type StoreTable } from './store-tables.js';

/** The copy was refused or did not add up; nothing was written. The message says why, without credentials. */
export class StoreCopyError extends Error {
  override readonly name = 'StoreCopyError';
}

export interface CopiedTable {
  name: string;
  rows: number;
}

export interface CopyOptions {
  /** Rows per INSERT (capped so a statement stays under PostgreSQL's 65,535 parameters). */
  batchRows?: number;
}

type PgTx = Parameters<Parameters<PgStoreDb['transaction']>[0]>[0];

const MAX_PARAMETERS = 60_000;

/**
 * @throws StoreCopyError when the target holds rows already, a value does not fit its column, or a table's
 *   count differs after the copy; the target is left as it was.
 */
export async function copyStore(
  source: Database,
  target: PostgresDatabase,
  options: CopyOptions = {},
): Promise<CopiedTable[]> {
  const tables = storeTables();
  const sqlite = source.sqlite;
  // One read transaction, its snapshot taken by the first read, now: in WAL mode every read below sees the
  // file as it was when the copy started, whatever a running bot writes meanwhile.
  sqlite.exec('BEGIN');
  try {
    const sequences = sqliteSequences(source);
    return await target.db.transaction(async (tx) => {
      await lockAll(tx, tables);
      const occupied = await tablesWithRows(tx, tables);
      if (occupied.length > 0) {
        throw new StoreCopyError(
          `${target.where} already holds rows in ${occupied.join(', ')}; ` +
            'store copy only fills an empty database, so nothing was copied',
        );
      }
      const copied: CopiedTable[] = [];
      for (const table of tables) {
        const rows = await copyTable(source, tx, table, options.batchRows ?? 1_000);
        const inSqlite = Number(sqlite.prepare(`SELECT count(*) FROM "${table.name}"`).pluck().get());
        const inPg = await rowCount(tx, table.name);
        if (rows !== inSqlite || inPg !== inSqlite) {
          throw new StoreCopyError(
            `${table.name}: SQLite holds ${inSqlite} rows, ${rows} were copied ` +
              `and PostgreSQL counts ${inPg}; nothing was copied`,
          );
        }
        if (table.identityColumn) await moveSequence(tx, table, sequences.get(table.name) ?? 0);
        copied.push({ name: table.name, rows });
      }
      return copied;
    });
  } finally {
    sqlite.exec('COMMIT');
  }
}

/** No other writer may add rows between the emptiness check and the commit. */
async function lockAll(tx: PgTx, tables: readonly StoreTable[]): Promise<void> {
  const names = sql.join(
    tables.map((t) => sql.identifier(t.name)),
    sql`, `,
  );
  await tx.execute(sql`LOCK TABLE ${names} IN EXCLUSIVE MODE`);
}

async function tablesWithRows(tx: PgTx, tables: readonly StoreTable[]): Promise<string[]> {
  const occupied: string[] = [];
  for (const table of tables) {
    const result = await tx.execute(sql`SELECT EXISTS (SELECT 1 FROM ${sql.identifier(table.name)}) AS occupied`);
    if (rowsOf(result)[0]?.occupied === true) occupied.push(table.name);
  }
  return occupied;
}

async function rowCount(tx: PgTx, name: string): Promise<number> {
  const result = await tx.execute(sql`SELECT count(*) AS n FROM ${sql.identifier(name)}`);
  return Number(rowsOf(result)[0]?.n);
}

/** Rows of a raw query, whichever driver answered (node-postgres and PGlite both put them in `rows`). */
function rowsOf(result: unknown): Array<Record<string, unknown>> {
  return (result as { rows: Array<Record<string, unknown>> }).rows;
}

/** The highest id each AUTOINCREMENT table ever handed out, deleted rows included. */
function sqliteSequences(source: Database): Map<string, number> {
  const exists = source.sqlite
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'`)
    .get();
  if (!exists) return new Map();
  const rows = source.sqlite.prepare('SELECT name, seq FROM sqlite_sequence').all() as Array<{
    name: string;
    seq: number;
  }>;
  return new Map(rows.map((r) => [r.name, r.seq]));
}

async function copyTable(source: Database, tx: PgTx, table: StoreTable, batchRows: number): Promise<number> {
  const perInsert = Math.max(1, Math.min(batchRows, Math.floor(MAX_PARAMETERS / table.columns.length)));
  const columnList = table.columns.map((c) => `"${c.name}"`).join(', ');
  // Pages by rowid (or, in a WITHOUT ROWID table, by its primary key) rather than one iterator: better-sqlite3
  // runs no other statement while an iterator is open, and the inserts are awaited in between. Integers come
  // as BigInt so none is silently rounded.
  const keys = pagingKeys(source, table);
  const keyList = keys.map((k) => `"${k}"`).join(', ');
  const firstPage = source.sqlite
    .prepare(`SELECT ${keyList}, ${columnList} FROM "${table.name}" ORDER BY ${keyList} LIMIT ?`)
    .raw(true)
    .safeIntegers(true);
  const nextPage = source.sqlite
    .prepare(
      `SELECT ${keyList}, ${columnList} FROM "${table.name}"
       WHERE (${keyList}) > (${keys.map(() => '?').join(', ')}) ORDER BY ${keyList} LIMIT ?`,
    )
    .raw(true)
    .safeIntegers(true);
  let copied = 0;
  for (let after: unknown[] | null = null; ;) {
    const raws = (after === null ? firstPage.all(perInsert) : nextPage.all(...after, perInsert)) as unknown[][];
    if (raws.length === 0) return copied;
    after = raws[raws.length - 1]!.slice(0, keys.length);
    const batch = raws.map((raw) => toPgRow(table, raw.slice(keys.length)));
    try {
      await tx.insert(table.pg).values(batch);
    } catch (err) {
      throw new StoreCopyError(
        `${table.name}: PostgreSQL refused a row (${failureReason(err, [])}); nothing was copied`,
      );
    }
    copied += raws.length;
  }
}

/** `rowid`, or the primary key's columns of a WITHOUT ROWID table (which has no rowid). */
function pagingKeys(source: Database, table: StoreTable): string[] {
  const ddl =
    (
      source.sqlite.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table.name) as
        { sql?: string } | undefined
    )?.sql ?? '';
  if (!/without\s+rowid/i.test(ddl)) return ['rowid'];
  const info = source.sqlite
    .prepare(`SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`)
    .all(table.name) as Array<{ name: string }>;
  return info.map((c) => c.name);
}

function toPgRow(table: StoreTable, raw: unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  table.columns.forEach((column, i) => {
    const value = raw[i];
    if (typeof value === 'bigint') {
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new StoreCopyError(
          `${table.name}.${column.name}: ${value} is larger than the store's numbers hold exactly; nothing was copied`,
        );
      }
      row[column.key] = Number(value);
    } else if (value instanceof Uint8Array) {
      throw new StoreCopyError(
        `${table.name}.${column.name}: holds bytes where the schema has text or numbers; nothing was copied`,
      );
    } else {
      row[column.key] = value;
    }
  });
  return row;
}

/** The next id PostgreSQL hands out is past every copied id and past every id SQLite ever used. */
async function moveSequence(tx: PgTx, table: StoreTable, sqliteSeq: number): Promise<void> {
  const name = sql.identifier(table.name);
  const column = sql.identifier(table.identityColumn!);
  await tx.execute(sql`
    SELECT setval(pg_get_serial_sequence(${`"${table.name}"`}, ${table.identityColumn}),
                  greatest(coalesce(max(${column}), 0), ${sqliteSeq}, 1),
                  greatest(coalesce(max(${column}), 0), ${sqliteSeq}) > 0)
    FROM ${name}`);
}
