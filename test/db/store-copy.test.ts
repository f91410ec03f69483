import Sqlite from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/open.js';
import type { PostgresDatabase } from '../../src/db/postgres.js';
import { copyStore, StoreCopyError } from '../../src/db/store-copy.js';
import { alertOutbox } from '../../src/db/schema/index.js';
import { storeTables } from '../../src/db/store-tables.js';
import { buildFullStore } from '../helpers/full-store.js';
import { PG_BACKENDS, testPostgres } from '../helpers/postgres.js';

function openSqlite(path: string): Database {
  const database = openDatabase(path);
  return database;
}

/** Every row of every table, as drizzle reads it, in a stable order. */
async function contentsOfPg(target: PostgresDatabase): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of storeTables()) out[table.name] = sorted(await target.db.select().from(table.pg));
  return out;
}

function contentsOfSqlite(source: Database): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const table of storeTables()) out[table.name] = sorted(source.db.select().from(table.sqlite).all());
  return out;
}

function sorted(rows: unknown[]): unknown[] {
  return rows
    .map((r) => [JSON.stringify(r), r] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r);
}

async function pgCounts(target: PostgresDatabase): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of storeTables()) {
    const result = (await target.db.execute(
      sql`SELECT count(*) AS n FROM ${sql.identifier(table.name)}`,
    )) as unknown as { rows: Array<{ n: unknown }> };
    out[table.name] = Number(result.rows[0]!.n);
  }
  return out;
}

describe('the store fixture', () => {
  it('holds rows in every table of the schema', async () => {
    const source = openSqlite(await buildFullStore());
    try {
      const empty = storeTables()
        .filter((t) => source.sqlite.prepare(`SELECT count(*) FROM "${t.name}"`).pluck().get() === 0)
        .map((t) => t.name);
      expect(empty).toEqual([]);
      const o = alertOutbox;
      const outbox = source.db.select({ sentAtMs: o.sentAtMs, failedAtMs: o.failedAtMs, kind: o.kind }).from(o).all();
      // Sent, given up and waiting rows, and a digest.
      expect(outbox.some((r) => r.sentAtMs !== null)).toBe(true);
      expect(outbox.some((r) => r.failedAtMs !== null)).toBe(true);
      expect(outbox.some((r) => r.sentAtMs === null && r.failedAtMs === null)).toBe(true);
      expect(outbox.some((r) => r.kind === 'digest')).toBe(true);
    } finally {
      source.close();
    }
  });
});

describe.each(PG_BACKENDS)('store copy into PostgreSQL (%s)', { timeout: 60_000 }, (backend) => {
  it('copies every row of every table unchanged, in one go', async ({ skip }) => {
    const target = await testPostgres(backend, skip);
    const source = openSqlite(await buildFullStore());
    try {
      const copied = await copyStore(source, target, { batchRows: 2 });
      const expected = contentsOfSqlite(source);
      expect(Object.fromEntries(copied.map((c) => [c.name, c.rows]))).toEqual(
        Object.fromEntries(Object.entries(expected).map(([name, rows]) => [name, rows.length])),
      );
      expect(await contentsOfPg(target)).toEqual(expected);
    } finally {
      source.close();
    }
  });

  it('numbers new rows past every id SQLite ever handed out', async ({ skip }) => {
    const target = await testPostgres(backend, skip);
    const path = await buildFullStore();
    const source = openSqlite(path);
    try {
      // A deleted newest row: SQLite's AUTOINCREMENT never reuses its id, and neither may PostgreSQL.
      const lastPayload = source.sqlite.prepare('SELECT max(id) FROM alert_payloads').pluck().get() as number;
      source.sqlite.prepare('DELETE FROM alert_outbox WHERE payload_id = ?').run(lastPayload);
      source.sqlite.prepare('DELETE FROM alert_payloads WHERE id = ?').run(lastPayload);
      await copyStore(source, target);

      for (const table of storeTables().filter((t) => t.identityColumn)) {
        const highest = Number(
          source.sqlite
            .prepare(
              `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0),
                          coalesce((SELECT max("${table.identityColumn}") FROM "${table.name}"), 0))`,
            )
            .pluck()
            .get(table.name),
        );
        const next = (await target.db.execute(
          sql`SELECT nextval(pg_get_serial_sequence(${`"${table.name}"`}, ${table.identityColumn})) AS id`,
        )) as unknown as { rows: Array<{ id: unknown }> };
        expect({ table: table.name, next: Number(next.rows[0]!.id) }).toEqual({ table: table.name, next: highest + 1 });
      }
      const inserted = await target.db.execute(
        sql`INSERT INTO alert_payloads (reply_json, created_at_ms) VALUES ('{}', 1) RETURNING id`,
      );
      expect(Number((inserted as unknown as { rows: Array<{ id: unknown }> }).rows[0]!.id)).toBeGreaterThan(
        lastPayload,
      );
    } finally {
      source.close();
    }
  });

  it('refuses a target that holds rows, naming the tables, and changes nothing', async ({ skip }) => {
    const target = await testPostgres(backend, skip);
    const source = openSqlite(await buildFullStore());
    try {
      await target.db.execute(
        sql`INSERT INTO source_status (source, error, failed_at_ms) VALUES ('CoinGecko', 'earlier', 1)`,
      );
      await target.db.execute(
        sql`INSERT INTO discord_command_registrations (scope, hash, registered_at_ms) VALUES ('x:global', 'h', 1)`,
      );
      const before = await contentsOfPg(target);

      const refused = await copyStore(source, target).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(StoreCopyError);
      expect((refused as Error).message).toMatch(
        /already holds rows in .*discord_command_registrations.*; store copy only fills an empty database/,
      );
      expect((refused as Error).message).toMatch(/source_status/);
      expect(await contentsOfPg(target)).toEqual(before);
    } finally {
      source.close();
    }
  });

  it('writes nothing when a table does not add up after copying', async ({ skip }) => {
    const target = await testPostgres(backend, skip);
    const source = openSqlite(await buildFullStore());
    try {
      // A target that silently drops one table's rows: the count check must catch it and roll everything back.
      await target.db.execute(
        sql`CREATE FUNCTION drop_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`,
      );
      await target.db.execute(
        sql`CREATE TRIGGER drop_rows BEFORE INSERT ON inference_hours FOR EACH ROW EXECUTE FUNCTION drop_row()`,
      );

      const failed = await copyStore(source, target).catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(StoreCopyError);
      expect((failed as Error).message).toMatch(
        /^inference_hours: SQLite holds 3 rows, 3 were copied and PostgreSQL counts 0; nothing was copied$/,
      );
      expect(Object.values(await pgCounts(target)).every((n) => n === 0)).toBe(true);
    } finally {
      source.close();
    }
  });

  it("names the table and PostgreSQL's reason when a row is refused, and writes nothing", async ({ skip }) => {
    const target = await testPostgres(backend, skip);
    const source = openSqlite(await buildFullStore());
    try {
      await target.db.execute(sql`ALTER TABLE alert_levels ADD CONSTRAINT levels_below_two CHECK (ratio < 2)`);
      const failed = await copyStore(source, target).catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(StoreCopyError);
      expect((failed as Error).message).toMatch(
        /^alert_levels: PostgreSQL refused a row \(.*"levels_below_two".*\); nothing was copied$/,
      );
      // The driver's words, not drizzle's quote of the whole statement and its parameters.
      expect((failed as Error).message).not.toMatch(/Failed query|insert into/i);
      expect(Object.values(await pgCounts(target)).every((n) => n === 0)).toBe(true);
    } finally {
      source.close();
    }
  });

  it('copies the file as it was when the copy started while a running bot keeps writing to it', async ({ skip }) => {
    // PGlite answers without ever yielding to timers, so no write could land between the copy's reads there.
    skip(
      backend === 'pglite',
      "needs a server that answers over a socket, so that writes land between the copy's reads",
    );
    const target = await testPostgres(backend, skip);
    const path = await buildFullStore();
    const source = openSqlite(path);
    const writer = new Sqlite(path);
    writer.pragma('busy_timeout = 5000');
    try {
      const before = writer.prepare('SELECT count(*) FROM market_snapshots').pluck().get() as number;
      const insert = writer.prepare(
        `INSERT INTO market_snapshots (coin_id, fetched_at_ms, source, symbol, name)
         VALUES ('opengradient', ?, 'CoinGecko', 'opg', 'OpenGradient')`,
      );
      let written = 0;
      const timer = setInterval(() => {
        insert.run(Date.now() + written);
        written += 1;
      }, 1);
      // One row per INSERT, so the bot's writes land between the copy's reads.
      const copied = await copyStore(source, target, { batchRows: 1 }).finally(() => clearInterval(timer));
      expect(written).toBeGreaterThan(0);
      expect(copied.find((t) => t.name === 'market_snapshots')?.rows).toBe(before);
      expect((await pgCounts(target)).market_snapshots).toBe(before);
      expect(writer.prepare('SELECT count(*) FROM market_snapshots').pluck().get()).toBe(before + written);
    } finally {
      writer.close();
      source.close();
    }
  });
});
