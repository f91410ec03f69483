/**
 * The migrated template the real server's test databases are copied from. Running every migration for each
 * test took about a second; `CREATE DATABASE … TEMPLATE` copies a migrated one in a fraction of that.
 *
 * - Its name is `opg_tpl_` and a hash of the migrations (migrations-hash.ts): a changed migration makes a new
 *   one, and every test worker and every run on the server that shares the migrations shares it.
 * - It is made once, under an advisory lock of the admin database, by `openPostgres` as the bot migrates, in a
 *   database of a building name that is renamed to the template's name when complete: a template exists under
 *   its name only whole. Waiting workers find it made.
 * - Nothing may be connected to a template while it is copied: it is closed to connections once made.
 * - Templates of other hashes made over an hour before (another run may still copy its own) and the building
 *   databases of runs that died are dropped when a template is made. A run whose template was dropped under it
 *   makes it again.
 */
import pg from 'pg';
import { openPostgres } from '../../src/db/postgres.js';
import { migrationsHash } from './migrations-hash.js';

const PREFIX = 'opg_tpl_';
const BUILDING = '_building_';
/** The admin database's advisory lock (one key, apart from the bot's two-key locks) its builders take turns on. */
const BUILD_LOCK = 'opg-bot test template';
/** How long a template of other migrations is left alone: a run on another branch may be copying it. */
const STALE_AFTER_MS = 60 * 60_000;
const CREATED = 'created_ms=';

/** The URL of database `name` on the server `adminUrl` names. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `fn` on one connection to the admin database (`TEST_DATABASE_URL`'s), closed after. */
export async function withAdmin<T>(adminUrl: string, fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** The name of the template of the current migrations. */
export function templateName(): string {
  return `${PREFIX}${migrationsHash().slice(0, 16)}`;
}

let current: Promise<string> | null = null;

/** The current template's name, made first if no run has made it. */
function serverTemplate(adminUrl: string): Promise<string> {
  current ??= ensureTemplate(adminUrl).catch((err: unknown) => {
    current = null;
    throw err;
  });
  return current;
}

/** Creates database `name` as a copy of the migrated template (made again if another run dropped it). */
export async function createFromTemplate(adminUrl: string, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const template = await serverTemplate(adminUrl);
    try {
      await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
      return;
    } catch (err) {
      // 3D000: the template does not exist (dropped as stale by a run on other migrations).
      if (attempt > 1 || (err as { code?: string }).code !== '3D000') throw err;
      current = null;
    }
  }
}

async function ensureTemplate(adminUrl: string): Promise<string> {
  const name = templateName();
  return withAdmin(adminUrl, async (admin) => {
    if (await exists(admin, name)) return name;
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [BUILD_LOCK]);
    try {
      // Another worker or run may have made it while this one waited.
      if (await exists(admin, name)) return name;
      await dropLeftovers(admin, name);
      await build(admin, adminUrl, name);
      return name;
    } finally {
      await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [BUILD_LOCK]);
    }
  });
}

async function exists(admin: pg.Client, name: string): Promise<boolean> {
  return (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
}

async function build(admin: pg.Client, adminUrl: string, name: string): Promise<void> {
  const building = `${name}${BUILDING}${process.pid}`;
  await admin.query(`CREATE DATABASE ${building}`);
  try {
    const opened = await openPostgres(databaseUrl(adminUrl, building), { setting: 'TEST_DATABASE_URL' });
    await opened.close();
    await admin.query(`COMMENT ON DATABASE ${building} IS '${CREATED}${Date.now()}'`);
    await admin.query(`ALTER DATABASE ${building} WITH ALLOW_CONNECTIONS false`);
    // Publishes it whole. PostgreSQL waits a few seconds for the backends of the closed pool to exit.
    await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
  } catch (err) {
    await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`).catch(() => {});
    throw err;
  }
}

/**
 * Drops, under the build lock, the building databases of runs that died (a live builder holds the lock until its
 * template is renamed) and templates of other migrations made over `STALE_AFTER_MS` ago. A template being copied
 * is dropped once the copy ends; one that cannot be dropped is left for a later build.
 */
async function dropLeftovers(admin: pg.Client, keep: string): Promise<void> {
  const { rows } = await admin.query<{ datname: string; note: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS note FROM pg_database
     WHERE starts_with(datname, $1) AND datname <> $2`,
    [PREFIX, keep],
  );
  for (const { datname, note } of rows) {
    const createdMs = Number(note?.startsWith(CREATED) ? note.slice(CREATED.length) : 0);
    const deadBuild = datname.includes(BUILDING);
    if (!deadBuild && Date.now() - createdMs < STALE_AFTER_MS) continue;
    const force = deadBuild ? ' WITH (FORCE)' : '';
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(datname)}${force}`).catch(() => {});
  }
}
