/**
 * `npm run opg -- store copy --to postgres://…`: moves the SQLite store at `DATABASE_PATH` into an empty
 * PostgreSQL database (see `db/store-copy.ts`). What it prints names the target by host and database only:
 * a password in the URL never reaches the terminal (nor should it be typed there: `ps` shows arguments, so
 * prefer PGPASSWORD or ~/.pgpass). Exit codes as the CLI's: 0 copied, 1 refused or failed, 2 usage.
 */
import { existsSync } from 'node:fs';
import type { Config } from './config.js';
import { ConfigError } from './core/errors.js';
import { count } from './core/format.js';
import { openDatabase } from './db/open.js';
import { openPostgres } from './db/postgres.js';
import { postgresUrlSecrets, withoutSecrets } from './db/postgres-settings.js';
import { copyStore, StoreCopyError } from './db/store-copy.js';

export const STORE_USAGE = `usage: npm run opg -- store copy --to postgres://user@host:5432/database
  copies the SQLite store at DATABASE_PATH into an empty PostgreSQL database, in one transaction`;

interface Output {
  write(text: string): unknown;
}

/** The `--to` URL, or null when the words are not `copy --to <postgres URL>`. */
function parseCopy(args: readonly string[]): string | null {
  if (args[0] !== 'copy') return null;
  const rest = args.slice(1);
  let to: string | undefined;
  if (rest.length === 2 && rest[0] === '--to') to = rest[1];
  else if (rest.length === 1 && rest[0]!.startsWith('--to=')) to = rest[0]!.slice('--to='.length);
  return to && /^postgres(ql)?:\/\//.test(to) ? to : null;
}

/** @param out where the report goes (stdout); `errors` where a refusal or failure goes (stderr). */
export async function runStoreCommand(
  args: readonly string[],
  config: Config,
  out: Output,
  errors: Output,
): Promise<number> {
  const url = parseCopy(args);
  if (url === null) {
    errors.write(`${STORE_USAGE}\n`);
    return 2;
  }
  if (!existsSync(config.databasePath)) {
    errors.write(`DATABASE_PATH: there is no SQLite store at '${config.databasePath}'; nothing to copy\n`);
    return 1;
  }
  const secrets = postgresUrlSecrets(url);
  const source = openDatabase(config.databasePath);
  try {
    const target = await openPostgres(url, { setting: '--to' });
    try {
      out.write(`Copying ${config.databasePath} into ${target.where}\n`);
      const copied = await copyStore(source, target);
      const width = Math.max(...copied.map((t) => t.name.length));
      for (const table of copied)
        out.write(`  ${table.name.padEnd(width)}  ${count(table.rows)} ${table.rows === 1 ? 'row' : 'rows'}\n`);
      const total = copied.reduce((sum, t) => sum + t.rows, 0);
      out.write(
        `Copied ${count(total)} rows in ${copied.length} tables; each table's row count matches the SQLite store.\n`,
      );
      out.write(`Point DATABASE_URL at ${target.where} to run the bot on it.\n`);
      return 0;
    } finally {
      await target.close();
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StoreCopyError) {
      const lines = err instanceof ConfigError ? err.problems : [err.message];
      errors.write(`${lines.map((line) => withoutSecrets(line, secrets)).join('\n')}\n`);
      return 1;
    }
    throw new Error(withoutSecrets((err as Error).message, secrets));
  } finally {
    source.close();
  }
}
