/**
 * Opens the embedded store: the folder is created, SQLite runs in WAL mode (readers never wait for the
 * refresh writer), and the committed migrations in `drizzle/` are applied before anything else runs.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Sqlite from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { ConfigError } from '../core/errors.js';
import * as schema from './schema/index.js';

export type Db = BetterSQLite3Database<typeof schema>;

export interface Database {
  db: Db;
  /** The raw connection, for prepared hot-path statements and transactions. */
  sqlite: Sqlite.Database;
  path: string;
  close(): void;
}

export const MIGRATIONS_FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/**
 * @throws ConfigError naming `DATABASE_PATH` when the file cannot be created, opened or migrated.
 */
export function openDatabase(path: string): Database {
  let sqlite: Sqlite.Database | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    sqlite = new Sqlite(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = drizzle(sqlite, { schema });
    migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    const connection = sqlite;
    return { db, sqlite: connection, path, close: () => connection.close() };
  } catch (err) {
    sqlite?.close();
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError([
      `DATABASE_PATH: cannot create, open or migrate '${path}' (${reason}); expected a writable file path`,
    ]);
  }
}
