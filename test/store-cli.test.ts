import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { storeTables } from '../src/db/store-tables.js';
import { buildFullStore } from './helpers/full-store.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from './helpers/postgres.js';
import { runEntry } from './helpers/spawn.js';
import { tempDir } from './helpers/temp-dir.js';

/** A password the server never asks for (trust auth), so only the bot could ever print it. */
const PASSWORD = 'Pw-only-in-the-url-7731';

function withPassword(url: string): string {
  const u = new URL(url);
  u.username = u.username || 'postgres';
  u.password = PASSWORD;
  return u.toString();
}

describe('npm run opg -- store copy', { timeout: 90_000 }, () => {
  it(
    'copies a SQLite store into an empty PostgreSQL database, ' +
      'prints each table with its rows, and refuses to copy twice',
    async ({ skip }) => {
      skip(!TEST_DATABASE_URL, `${NO_SERVER}; the copy itself is tested on PGlite in test/db/store-copy.test.ts`);
      const url = await emptyServerDatabase();
      const path = await buildFullStore();
      const target = withPassword(url);
      const database = new URL(url).pathname.slice(1);

      const first = await runEntry(
        'src/cli.ts',
        ['store', 'copy', '--to', target],
        { DATABASE_PATH: path },
        undefined,
        60_000,
      );
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`Copying ${path} into postgres://127.0.0.1:5432/${database}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      onTestFinished(() => client.end());
      for (const table of storeTables()) {
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table.name}"`);
        expect(rows[0]!.n).toBeGreaterThan(0);
        expect(first.stdout).toMatch(new RegExp(`\\n  ${table.name} +${rows[0]!.n.toLocaleString('en-US')} rows?\\n`));
      }
      expect(first.stdout).toMatch(
        /Copied [\d,]+ rows in \d+ tables; each table's row count matches the SQLite store\./,
      );

      const second = await runEntry(
        'src/cli.ts',
        ['store', 'copy', `--to=${target}`],
        { DATABASE_PATH: path },
        undefined,
        60_000,
      );
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        new RegExp(
          `^postgres://127.0.0.1:5432/${database} already holds ` +
            'rows in alert_subscriptions, .*; store copy only fills ' +
            'an empty database, so nothing was copied\\n$',
        ),
      );
      expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(PASSWORD);
    },
  );

  it('names an unreachable target by host and database only, never its password', async () => {
    const path = await buildFullStore();
    const r = await runEntry(
      'src/cli.ts',
      ['store', 'copy', '--to', `postgres://opg:${PASSWORD}@127.0.0.1:9/opg_bot`],
      { DATABASE_PATH: path },
      undefined,
      60_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^--to: cannot connect to or migrate postgres:\/\/127\.0\.0\.1:9\/opg_bot \(.*ECONNREFUSED.*\)\n$/,
    );
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it(
    'answers a usage line for missing or non-PostgreSQL targets, ' +
      'and refuses a store that does not exist without creating it',
    async () => {
      const path = join(tempDir(), 'missing.sqlite');
      const missingTo = await runEntry('src/cli.ts', ['store', 'copy'], { DATABASE_PATH: path });
      expect(missingTo.code).toBe(2);
      expect(missingTo.stderr).toMatch(/^usage: npm run opg -- store copy --to postgres:\/\//);
      const mysql = await runEntry('src/cli.ts', ['store', 'copy', '--to', 'mysql://root@127.0.0.1/opg'], {
        DATABASE_PATH: path,
      });
      expect(mysql.code).toBe(2);
      const noStore = await runEntry('src/cli.ts', ['store', 'copy', '--to', 'postgres://127.0.0.1:9/opg'], {
        DATABASE_PATH: path,
      });
      expect(noStore.code).toBe(1);
      expect(noStore.stderr).toBe(`DATABASE_PATH: there is no SQLite store at '${path}'; nothing to copy\n`);
      expect(existsSync(path)).toBe(false);
    },
  );
});
