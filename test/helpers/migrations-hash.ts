/**
 * A name for "the database the committed PostgreSQL migrations make": a hash of every file under `drizzle-pg/`
 * (the SQL and the journal the migrator reads) and of the versions of the code that applies them. A template
 * database or a cached data directory named by it is current exactly as long as the hash is.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PG_MIGRATIONS_FOLDER } from '../../src/db/postgres.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort();
}

/** The installed version (their `exports` do not offer package.json to `require`). */
function versionOf(pkg: string): string {
  const manifest = join(PG_MIGRATIONS_FOLDER, '..', 'node_modules', pkg, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/**
 * Hex sha256 of the migrations folder, drizzle-orm's version and those of `packages` (what else shapes the
 * result, e.g. the PGlite build that stores it).
 */
export function migrationsHash(packages: readonly string[] = []): string {
  const hash = createHash('sha256');
  for (const pkg of ['drizzle-orm', ...packages]) hash.update(`${pkg}@${versionOf(pkg)}\0`);
  for (const file of filesUnder(PG_MIGRATIONS_FOLDER)) {
    hash.update(`${relative(PG_MIGRATIONS_FOLDER, file)}\0`);
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}
