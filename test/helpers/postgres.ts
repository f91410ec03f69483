/**
 * PostgreSQL for tests: PGlite (PostgreSQL compiled to WebAssembly, in this process) so `npm test` passes on
 * a machine with no server, and a real server when `TEST_DATABASE_URL` names one (`.ci/run` sets it). Each
 * test gets a database of its own, in the state the committed migrations make as in production, so tests and
 * parallel test files never meet: on PGlite the file's instance reset to that state (pglite-pool.ts), on the
 * server a copy of a template the migrations made once (server-template.ts), dropped when the test ends.
 */
import { randomBytes } from 'node:crypto';
import { drizzle } from 'drizzle-orm/pglite';
import { onTestFinished } from 'vitest';
import * as pgSchema from '../../src/db/pg-schema/index.js';
import { openPostgres, type PgStoreDb, type PostgresDatabase } from '../../src/db/postgres.js';
import { leasePglite } from './pglite-pool.js';
import { createFromTemplate, databaseUrl, withAdmin } from './server-template.js';

/** The server tests may create databases on (trust auth, a user allowed CREATE DATABASE), or null. */
export const TEST_DATABASE_URL: string | null = process.env.TEST_DATABASE_URL?.trim() || null;

/** Why a test that needs a real server did not run. */
export const NO_SERVER =
  'needs a real PostgreSQL server (TEST_DATABASE_URL is not set; .ci/run sets it): ' +
  'PGlite is one connection in this process, so locks across connections and dropped connections cannot be shown on it';

export type PgBackend = 'pglite' | 'server';

export interface TestPostgres extends PostgresDatabase {
  backend: PgBackend;
}

export interface ServerDatabase extends TestPostgres {
  /** A URL for this test's own database, for code that connects by URL. */
  url: string;
}

/**
 * A migrated PGlite database in this process, for this test alone: the file's working instance reset to the
 * migrated state, or a fresh one (pglite-pool.ts). Queries through it fail once the test has ended.
 */
export async function pgliteDatabase(): Promise<TestPostgres> {
  const lease = await leasePglite();
  onTestFinished(lease.release);
  const db = drizzle(lease.client, { schema: pgSchema });
  return { backend: 'pglite', db: db as unknown as PgStoreDb, where: 'pglite (in memory)', close: lease.release };
}

/**
 * A fresh empty database on the real server (no migrations applied), dropped when the test ends, after
 * `closeFirst` (connections of the test's own that use it). Call only when `TEST_DATABASE_URL` is set.
 */
export async function emptyServerDatabase(closeFirst: () => Promise<void> = async () => {}): Promise<string> {
  return testServerDatabase('empty', closeFirst);
}

/**
 * A fresh database on the real server, opened with `openPostgres` as the bot does. It is a copy of a migrated
 * template (server-template.ts), so the migrate step finds every migration applied, as a restarted bot does.
 */
export async function serverDatabase(): Promise<ServerDatabase> {
  let opened: Awaited<ReturnType<typeof openPostgres>> | null = null;
  let closed = false;
  const close = async () => {
    if (closed || !opened) return;
    closed = true;
    await opened.close();
  };
  const url = await testServerDatabase('migrated', close);
  opened = await openPostgres(url);
  return { backend: 'server', db: opened.db, where: opened.where, url, close };
}

/** Creates this test's database (empty, or a copy of the migrated template) and drops it when the test ends. */
async function testServerDatabase(kind: 'empty' | 'migrated', closeFirst: () => Promise<void>): Promise<string> {
  if (!TEST_DATABASE_URL) throw new Error(NO_SERVER);
  const admin = TEST_DATABASE_URL;
  const name = `opg_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  if (kind === 'migrated') await createFromTemplate(admin, name);
  else await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${name}`));
  onTestFinished(async () => {
    try {
      await closeFirst();
    } finally {
      await withAdmin(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
  });
  return databaseUrl(admin, name);
}

/** The backends a store test runs against: PGlite always, the real server when reachable. */
export const PG_BACKENDS: readonly PgBackend[] = ['pglite', 'server'];

/**
 * A fresh migrated database on `backend`; for `server` without `TEST_DATABASE_URL` the test is skipped
 * with the reason. Call before anything else the test sets up (a skip does not run `onTestFinished`).
 */
export async function testPostgres(
  backend: PgBackend,
  skip: (condition: boolean, note?: string) => void,
): Promise<TestPostgres> {
  if (backend === 'pglite') return pgliteDatabase();
  skip(!TEST_DATABASE_URL, NO_SERVER);
  return serverDatabase();
}
