/**
 * Opens the PostgreSQL store (`DATABASE_URL=postgres://…`) through node-postgres: a pool with TCP
 * keepalive, and the committed migrations in `drizzle-pg/` applied before anything else runs. Instances
 * starting together on one database take turns migrating (an advisory lock), so neither sees the other's
 * half-made tables.
 *
 * The URL's credentials never appear in what it reports: errors and descriptions name the host and database
 * only (see postgres-settings.ts).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { ConfigError } from '../core/errors.js';
import * as pgSchema from './pg-schema/index.js';
import {
  ADVISORY_LOCK_NAMESPACE,
  describePostgresUrl,
  failureReason,
  MIGRATION_LOCK_KEY,
  postgresUrlSecrets,
} from './postgres-settings.js';

/** A drizzle database over the PostgreSQL schema, whichever driver carries it (node-postgres, or PGlite in tests). */
export type PgStoreDb = PgDatabase<PgQueryResultHKT, typeof pgSchema>;

export interface PostgresDatabase {
  db: PgStoreDb;
  /** Where the store is, without credentials: `postgres://host:5432/name`. */
  where: string;
  close(): Promise<void>;
}

export const PG_MIGRATIONS_FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle-pg');

/** node-postgres settings every connection of the store uses. */
export function poolConfig(url: string): pg.PoolConfig {
  return {
    connectionString: url,
    application_name: 'opg-bot',
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: 10_000,
  };
}

export interface OpenPostgresOptions {
  /** Which setting the URL came from, named in errors (`DATABASE_URL`, or `--to` for `store copy`). */
  setting?: string;
}

/**
 * @throws ConfigError naming the setting when the server cannot be reached or the migrations fail.
 */
export async function openPostgres(
  url: string,
  options: OpenPostgresOptions = {},
): Promise<PostgresDatabase & { pool: pg.Pool }> {
  const setting = options.setting ?? 'DATABASE_URL';
  const where = describePostgresUrl(url);
  const secrets = postgresUrlSecrets(url);
  const pool = new pg.Pool(poolConfig(url));
  // An idle client whose connection drops emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => {});
  // A client checked out of the pool (a transaction holds one across its queries) emits 'error' on itself when
  // the server goes away, and the pool listens only while the client is idle: with no listener of its own, the
  // process dies. The queries on it fail all the same, and the pool drops the broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    await migratePostgres(pool);
  } catch (err) {
    await pool.end().catch(() => {});
    throw new ConfigError([`${setting}: cannot connect to or migrate ${where} (${failureReason(err, secrets)})`]);
  }
  const db = drizzle(pool, { schema: pgSchema }) as unknown as PgStoreDb;
  return { db, pool, where, close: () => pool.end() };
}

/** Applies the committed migrations, one instance at a time. */
async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [ADVISORY_LOCK_NAMESPACE, MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle(client), { migrationsFolder: PG_MIGRATIONS_FOLDER });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_LOCK_NAMESPACE, MIGRATION_LOCK_KEY]);
    }
    client.release();
  } catch (err) {
    client.release(err as Error);
    throw err;
  }
}
