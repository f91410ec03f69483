/** The Discord front end's registered command hashes in PostgreSQL (as discord-store.ts). */
import { eq } from 'drizzle-orm';
import type { CommandRegistrationStore } from '../core/command-registrations.js';
import { discordCommandRegistrations } from './pg-schema/index.js';
import type { PgStoreDb } from './postgres.js';

export function createPgDiscordStore(db: PgStoreDb): CommandRegistrationStore {
  const r = discordCommandRegistrations;
  return {
    async commandHash(scope) {
      const [row] = await db.select({ hash: r.hash }).from(r).where(eq(r.scope, scope));
      return row?.hash ?? null;
    },
    async saveCommandHash(scope, hash, registeredAtMs) {
      await db
        .insert(r)
        .values({ scope, hash, registeredAtMs })
        .onConflictDoUpdate({ target: r.scope, set: { hash, registeredAtMs } });
    },
  };
}
