import { readdirSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { openPostgres, PG_MIGRATIONS_FOLDER } from '../../src/db/postgres.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from '../helpers/postgres.js';

const MIGRATIONS = readdirSync(PG_MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql')).length;

async function appliedMigrations(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0]!
      .n;
  } finally {
    await client.end();
  }
}

describe('openPostgres', { timeout: 60_000 }, () => {
  it('migrates a fresh database once, however many instances open it at the same moment', async ({ skip }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const url = await emptyServerDatabase();
    const opened = await Promise.all([openPostgres(url), openPostgres(url), openPostgres(url)]);
    for (const o of opened) onTestFinished(() => o.close());
    expect(await appliedMigrations(url)).toBe(MIGRATIONS);
    const again = await openPostgres(url);
    onTestFinished(() => again.close());
    expect(await appliedMigrations(url)).toBe(MIGRATIONS);
    // The store answers through drizzle, epoch-ms past 2^31 as numbers.
    await again.db
      .insert(again.db._.fullSchema!.sourceStatus)
      .values({ source: 'CoinGecko', error: null, failedAtMs: 1_795_000_000_123 });
    expect(await again.db.select().from(again.db._.fullSchema!.sourceStatus)).toEqual([
      { source: 'CoinGecko', error: null, failedAtMs: 1_795_000_000_123 },
    ]);
  });

  it('names the setting, the host and the database when the server cannot be reached, never the password', async () => {
    const err = await openPostgres('postgres://opg:Secret-pw-9931@127.0.0.1:9/opg_bot').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(
        /^DATABASE_URL: cannot connect to or migrate postgres:\/\/127\.0\.0\.1:9\/opg_bot \(.*ECONNREFUSED.*\)$/,
      ),
    ]);
    expect((err as Error).message).not.toContain('Secret-pw-9931');
  });
});
