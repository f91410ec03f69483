/**
 * The databases the test helpers hand out (test/helpers/postgres.ts) keep tests apart. On PGlite one instance
 * per file goes from test to test, reset in between (pglite-pool.ts); on the server each test's database is a
 * copy of a migrated template (server-template.ts). The tests of each describe run in order: a later one looks
 * for what an earlier one left behind.
 */
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pglitePoolCounts } from '../helpers/pglite-pool.js';
import {
  NO_SERVER,
  pgliteDatabase,
  serverDatabase,
  TEST_DATABASE_URL,
  type TestPostgres,
} from '../helpers/postgres.js';
import { templateName } from '../helpers/server-template.js';

async function rows<T>(database: TestPostgres, query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await database.db.execute(query)) as unknown as { rows: T[] }).rows;
}

async function payloadIds(database: TestPostgres): Promise<number[]> {
  return (await rows<{ id: unknown }>(database, sql`SELECT id FROM alert_payloads ORDER BY id`)).map((r) =>
    Number(r.id),
  );
}

async function addPayload(database: TestPostgres): Promise<number> {
  const [row] = await rows<{ id: unknown }>(
    database,
    sql`INSERT INTO alert_payloads (reply_json, created_at_ms) VALUES ('{}', 1) RETURNING id`,
  );
  return Number(row!.id);
}

async function payloadTriggers(database: TestPostgres): Promise<string[]> {
  return (
    await rows<{ tgname: string }>(
      database,
      sql`SELECT tgname FROM pg_trigger WHERE tgrelid = 'alert_payloads'::regclass AND NOT tgisinternal`,
    )
  ).map((r) => r.tgname);
}

/** The messages of the error `work` fails with and of its causes (drizzle wraps the driver's error). */
async function failure(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    const messages: string[] = [];
    for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message);
    return messages.join(' <- ');
  }
  throw new Error('expected a failure');
}

/** Plants a trigger that rejects every new payload. */
async function plantTrigger(database: TestPostgres): Promise<void> {
  await database.db.execute(
    sql.raw(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'planted by an earlier test'; END $$`),
  );
  await database.db.execute(
    sql.raw('CREATE TRIGGER planted BEFORE INSERT ON alert_payloads FOR EACH ROW EXECUTE FUNCTION refuse()'),
  );
}

describe('PGlite databases handed from test to test', { timeout: 60_000 }, () => {
  let defaultTimeZone = '';
  let finished: TestPostgres | null = null;

  it('lets a test write rows and leave session state behind', async () => {
    const database = await pgliteDatabase();
    defaultTimeZone = (await rows<{ TimeZone: string }>(database, sql`SHOW TimeZone`))[0]!.TimeZone;
    expect([await addPayload(database), await addPayload(database), await addPayload(database)]).toEqual([1, 2, 3]);
    for (const statement of [
      "SET TimeZone = 'Pacific/Chatham'",
      "SET opg.leftover = 'yes'",
      'SELECT pg_advisory_lock(42)',
      'LISTEN leftover',
      'PREPARE leftover AS SELECT 1',
      // The stores make temporary tables too (dropped at commit, but their schema stays).
      'CREATE TEMP TABLE leftover (x int)',
      // A transaction left open, with a row in it.
      'BEGIN',
      "INSERT INTO alert_payloads (reply_json, created_at_ms) VALUES ('{}', 2)",
    ])
      await database.db.execute(sql.raw(statement));
    finished = database;
  });

  it('gives the next test the same instance with none of it', async () => {
    const before = pglitePoolCounts();
    const database = await pgliteDatabase();
    expect(pglitePoolCounts()).toEqual({ loaded: before.loaded, reused: before.reused + 1 });
    expect(await payloadIds(database)).toEqual([]);
    const [session] = await rows<Record<string, unknown>>(
      database,
      sql`SELECT current_setting('TimeZone') AS zone, coalesce(current_setting('opg.leftover', true), '') AS leftover,
        (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory') AS advisory_locks,
        (SELECT count(*)::int FROM pg_listening_channels()) AS channels,
        (SELECT count(*)::int FROM pg_prepared_statements) AS prepared,
        txid_current_if_assigned() AS open_transaction, to_regclass('pg_temp.leftover') AS temporary_table`,
    );
    expect(session).toEqual({
      zone: defaultTimeZone,
      leftover: '',
      advisory_locks: 0,
      channels: 0,
      prepared: 0,
      open_transaction: null,
      temporary_table: null,
    });
    // Numbering starts again.
    expect(await addPayload(database)).toBe(1);
  });

  it("refuses queries through a finished test's handle, which would land in this test's database", async () => {
    const database = await pgliteDatabase();
    expect(await failure(finished!.db.execute(sql`DELETE FROM alert_payloads`))).toMatch(/test that has finished/);
    expect(await failure(addPayload(finished!))).toMatch(/test that has finished/);
    expect(await payloadIds(database)).toEqual([]);
    await addPayload(database);
  });

  it('lets a test change the schema', async () => {
    const database = await pgliteDatabase();
    await plantTrigger(database);
    expect(await failure(addPayload(database))).toMatch(/planted by an earlier test/);
  });

  it('gives the next test a fresh migrated instance instead of the changed one', async () => {
    const before = pglitePoolCounts();
    const database = await pgliteDatabase();
    expect(pglitePoolCounts()).toEqual({ loaded: before.loaded + 1, reused: before.reused });
    expect(await payloadTriggers(database)).toEqual([]);
    expect(await addPayload(database)).toBe(1);
  });

  it("lets a test use PGlite's own API past queries", async () => {
    const database = await pgliteDatabase();
    const client = (database.db as unknown as { $client: PGlite }).$client;
    await client.listen('leftover', () => {});
  });

  it('gives the next test a fresh instance instead of one whose state the reset cannot see', async () => {
    const before = pglitePoolCounts();
    await pgliteDatabase();
    expect(pglitePoolCounts()).toEqual({ loaded: before.loaded + 1, reused: before.reused });
  });

  it('gives a test that asks for a second database another one', async () => {
    const one = await pgliteDatabase();
    const other = await pgliteDatabase();
    await addPayload(one);
    expect(await payloadIds(other)).toEqual([]);
    await plantTrigger(other);
    expect(await payloadTriggers(one)).toEqual([]);
  });

  it('hands out the working instance again after a second database, untouched by either', async () => {
    const before = pglitePoolCounts();
    const database = await pgliteDatabase();
    expect(pglitePoolCounts()).toEqual({ loaded: before.loaded, reused: before.reused + 1 });
    expect(await payloadIds(database)).toEqual([]);
    expect(await payloadTriggers(database)).toEqual([]);
  });
});

describe('server databases copied from the migrated template', { timeout: 60_000 }, () => {
  it('lets a test write rows and change the schema', async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const database = await serverDatabase();
    await addPayload(database);
    await plantTrigger(database);
  });

  it('gives the next test a database with none of it, and leaves nothing connected to the template', async ({
    skip,
  }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const database = await serverDatabase();
    expect(await payloadIds(database)).toEqual([]);
    expect(await payloadTriggers(database)).toEqual([]);
    expect(await addPayload(database)).toBe(1);
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL! });
    await admin.connect();
    try {
      const { rows: found } = await admin.query(
        `SELECT datallowconn, (SELECT count(*)::int FROM pg_stat_activity a WHERE a.datid = d.oid) AS connections
         FROM pg_database d WHERE datname = $1`,
        [templateName()],
      );
      expect(found).toEqual([{ datallowconn: false, connections: 0 }]);
    } finally {
      await admin.end();
    }
  });
});
