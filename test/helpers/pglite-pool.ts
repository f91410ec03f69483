/**
 * PGlite databases for tests, one migrated working instance per test file (each file runs in a process of its
 * own) handed from test to test and put back to the migrated state between them, instead of a copy of a
 * migrated instance per test: a copy takes seconds (PGlite starts PostgreSQL again), a reset a few
 * milliseconds.
 *
 * What a test leaves behind, and how the next test is kept from seeing it:
 * - rows and sequence values: the app's tables that hold rows are truncated (RESTART IDENTITY CASCADE), and any
 *   other sequence a test moved is set back; drizzle's migrations table is kept;
 * - session state: an open transaction is rolled back, then DISCARD ALL (settings, prepared statements,
 *   cursors, LISTENs, advisory locks, temporary tables);
 * - a changed schema (a trigger planted, a table added, a column dropped, a role made, a migration row
 *   touched): a fingerprint of the catalogs differs from the migrated one's, and the instance is replaced by
 *   a fresh copy of the migrated data directory; so is one a test used past queries (`listen`, raw protocol),
 *   one the reset could not finish, and one a test closed;
 * - work still running after its test ended: each test gets the instance through a handle that refuses
 *   queries once the test has finished, and the reset waits for a transaction in flight to end first.
 * A test that asks for a second PGlite database while its first is in use gets a fresh copy, closed at its end.
 *
 * The migrated data directory itself is kept on disk between processes (`CACHE_DIR`, named by the hash of the
 * migrations and of the PGlite build): initdb and the migrations took some 10 s in every test file, loading the
 * directory takes 1.5-2.5 s. Each loaded instance is migrated again (finding every migration applied) before use.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { PG_MIGRATIONS_FOLDER } from '../../src/db/postgres.js';
import { migrationsHash } from './migrations-hash.js';

/** What a test may call on its handle and the reset still undoes; anything else retires the instance. */
const RESETTABLE = new Set<PropertyKey>(['query', 'sql', 'exec', 'transaction', 'describeQuery', 'dumpDataDir']);
/** A reset normally takes milliseconds; one stuck behind a transaction that never ends gives up the instance. */
const RESET_LIMIT_MS = 10_000;
/** Migrated data directories, `<hash>.tar`, written whole (a temporary name, then renamed). */
const CACHE_DIR = join(tmpdir(), 'opg-bot-test-pglite');
/** Directories of other migrations (another branch's) are removed once they have not been used for this long. */
const CACHE_STALE_MS = 24 * 60 * 60_000;

export interface PgliteLease {
  /** The instance as this test may use it: queries fail once `release` ran. */
  client: PGlite;
  /** Ends the test's use; idempotent. */
  release(): Promise<void>;
}

interface Instance {
  client: PGlite;
  leased: boolean;
  /** A test used it in a way the reset does not undo. */
  retired: boolean;
}

/** The state every reset returns to, read from an untouched instance. */
interface Pristine {
  fingerprint: string;
  /** `SELECT name` of every app table that holds a row. */
  tablesWithRowsSql: string;
  /** Each sequence's `last_value` (null: never used). */
  sequences: Map<string, string | null>;
}

let dataDir: Promise<{ blob: Blob; cachedAt: string | null }> | null = null;
let pristine: Promise<Pristine> | null = null;
let working: Instance | null = null;
const counts = { loaded: 0, reused: 0 };

/** How many instances this file loaded and how many tests got a reset one (for the helper's own tests). */
export function pglitePoolCounts(): { loaded: number; reused: number } {
  return { ...counts };
}

/** A migrated PGlite database in its pristine state, for one test. */
export async function leasePglite(): Promise<PgliteLease> {
  if (working && !working.leased) {
    const instance = working;
    instance.leased = true;
    if (await resetInTime(instance.client)) {
      counts.reused += 1;
      return lease(instance);
    }
    if (working === instance) working = null;
    // Without waiting: a close stuck behind the transaction that stopped the reset would stop this test too.
    void instance.client.close().catch(() => {});
  }
  const instance: Instance = { client: await load(), leased: true, retired: false };
  // A test that asks for a second database while its first is in use gets one of its own, closed at its end.
  working ??= instance;
  return lease(instance);
}

/** A fresh migrated instance; a cached data directory that does not load is removed and made again. */
async function load(): Promise<PGlite> {
  dataDir ??= migratedDataDir();
  let client: PGlite;
  try {
    client = await start((await dataDir).blob);
  } catch (err) {
    const { cachedAt } = await dataDir;
    if (!cachedAt) throw err;
    await rm(cachedAt, { force: true });
    dataDir = migratedDataDir();
    client = await start((await dataDir).blob);
  }
  counts.loaded += 1;
  // The first instance is untouched: read the state resets return to.
  pristine ??= readPristine(client);
  await pristine;
  return client;
}

async function start(blob: Blob): Promise<PGlite> {
  const client = new PGlite({ loadDataDir: blob });
  try {
    await migrate(drizzle(client), { migrationsFolder: PG_MIGRATIONS_FOLDER });
    return client;
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
}

/** The migrated data directory: from the cache, or made and cached. */
async function migratedDataDir(): Promise<{ blob: Blob; cachedAt: string | null }> {
  const file = join(CACHE_DIR, `${migrationsHash(['@electric-sql/pglite']).slice(0, 16)}.tar`);
  const cached = await readFile(file).catch(() => null);
  if (cached) {
    // Marks it in use, so that a run on other migrations leaves it.
    const now = new Date();
    await utimes(file, now, now).catch(() => {});
    return { blob: new Blob([cached]), cachedAt: file };
  }
  const template = new PGlite();
  let blob: Blob;
  try {
    await migrate(drizzle(template), { migrationsFolder: PG_MIGRATIONS_FOLDER });
    blob = await template.dumpDataDir('none');
  } finally {
    await template.close();
  }
  await cache(file, blob).catch(() => {});
  return { blob, cachedAt: null };
}

/** Writes the directory whole under `file` (another process may write it too: either copy serves). */
async function cache(file: string, blob: Blob): Promise<void> {
  await mkdir(CACHE_DIR, { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, new Uint8Array(await blob.arrayBuffer()));
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
  await removeStale(file);
}

/** Removes other cached directories (and temporaries of writers that died) left unused for a day. */
async function removeStale(keep: string): Promise<void> {
  for (const name of await readdir(CACHE_DIR)) {
    const path = join(CACHE_DIR, name);
    if (path === keep) continue;
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Date.now() }));
    if (Date.now() - mtimeMs > CACHE_STALE_MS) await rm(path, { force: true });
  }
}

function lease(instance: Instance): PgliteLease {
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    instance.leased = false;
    if (instance === working && !instance.retired) return;
    if (instance === working) working = null;
    if (!instance.client.closed) await instance.client.close();
  };
  const client = new Proxy(instance.client, {
    get(target, prop) {
      if (prop === 'closed') return released || target.closed;
      if (prop === 'close') return release;
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        if (released) throw new Error('this PGlite database belonged to a test that has finished');
        if (!RESETTABLE.has(prop)) instance.retired = true;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client, release };
}

async function resetInTime(client: PGlite): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), RESET_LIMIT_MS);
  });
  try {
    return await Promise.race([reset(client).catch(() => false), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Puts `client` back to the pristine state; false when its schema is not the migrated one. */
async function reset(client: PGlite): Promise<boolean> {
  const state = await pristine!;
  // Waits for a transaction in flight (PGlite runs one at a time), then ends one a test left open.
  await client.exec('ROLLBACK');
  await client.exec('DISCARD ALL');
  if ((await fingerprint(client)) !== state.fingerprint) return false;
  const tables = (await client.query<{ name: string }>(state.tablesWithRowsSql)).rows.map((r) => r.name);
  if (tables.length > 0) await client.exec(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
  for (const [name, value] of await sequences(client)) {
    const before = state.sequences.get(name);
    if (value === before) continue;
    await client.exec(
      before == null ? `ALTER SEQUENCE ${name} RESTART` : `SELECT setval('${name}', ${Number(before)}, true)`,
    );
  }
  return true;
}

async function readPristine(client: PGlite): Promise<Pristine> {
  const tables = (
    await client.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = 'public'`,
    )
  ).rows.map((r) => r.name);
  const tablesWithRowsSql =
    tables.map((t) => `SELECT '${t}' AS name WHERE EXISTS (SELECT FROM ${t})`).join(' UNION ALL ') ||
    'SELECT NULL AS name WHERE false';
  fingerprintSql ??= await buildFingerprintSql(client);
  return { fingerprint: await fingerprint(client), tablesWithRowsSql, sequences: await sequences(client) };
}

async function sequences(client: PGlite): Promise<Map<string, string | null>> {
  const { rows } = await client.query<{ name: string; last_value: string | null }>(
    `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text FROM pg_sequences`,
  );
  return new Map(rows.map((r) => [r.name, r.last_value]));
}

let fingerprintSql: string | null = null;

async function fingerprint(client: PGlite): Promise<string> {
  return (await client.query<{ fingerprint: string }>(fingerprintSql!)).rows[0]!.fingerprint;
}

/**
 * A hash of every catalog row of an object made after initdb (oid 16384 and up: FirstNormalObjectId) and of
 * drizzle's migrations table. Rows and sequence values are not in it, nor what TRUNCATE and VACUUM change in
 * pg_class (relfilenode, page and tuple counts), nor the schemas PostgreSQL makes for a session's temporary
 * tables (the stores use some): a reset leaves it as it was.
 */
async function buildFingerprintSql(client: PGlite): Promise<string> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
     WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r'
       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'oid' AND NOT a.attisdropped)
       AND c.relname NOT IN ('pg_class', 'pg_database')
     ORDER BY 1`,
  );
  const parts = rows.map((r) => `SELECT '${r.name} ' || t::text FROM pg_catalog.${r.name} t WHERE t.oid >= 16384`);
  // A session's schemas for temporary tables stay once made; DISCARD ALL drops the tables in them.
  parts[rows.findIndex((r) => r.name === 'pg_namespace')] += ` AND t.nspname !~ '^pg_(toast_)?temp_'`;
  parts.push(
    `SELECT 'pg_class ' || concat_ws(' ', oid, relname, relnamespace, reltype, relowner, relam, relkind,
       relpersistence, relnatts, relchecks, relrowsecurity, relforcerowsecurity, relreplident, relispartition,
       relacl, reloptions, pg_get_expr(relpartbound, oid)) FROM pg_class WHERE oid >= 16384`,
    `SELECT 'pg_attribute ' || t::text FROM pg_attribute t WHERE attrelid >= 16384`,
    `SELECT 'pg_index ' || t::text FROM pg_index t WHERE indexrelid >= 16384`,
    `SELECT 'pg_sequence ' || t::text FROM pg_sequence t WHERE seqrelid >= 16384`,
    `SELECT 'pg_inherits ' || t::text FROM pg_inherits t`,
    `SELECT 'pg_db_role_setting ' || t::text FROM pg_db_role_setting t`,
    `SELECT 'migration ' || t::text FROM drizzle.__drizzle_migrations t`,
  );
  return `SELECT md5(string_agg(x, E'\\n' ORDER BY x)) AS fingerprint FROM (${parts.join('\nUNION ALL ')}) s(x)`;
}
