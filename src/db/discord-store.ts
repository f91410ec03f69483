/**
 * What the Discord front end keeps between restarts: the hash of the slash-command body last registered in
 * each scope, so a restart with unchanged definitions costs no registration call.
 */
import { eq } from 'drizzle-orm';
import type { CommandRegistrationStore } from '../core/command-registrations.js';
import type { Database } from './open.js';
import { discordCommandRegistrations } from './schema/index.js';

export type DiscordStore = CommandRegistrationStore;

export function createDiscordStore(database: Database): DiscordStore {
  const { db } = database;
  return {
    async commandHash(scope) {
      const row = db
        .select({ hash: discordCommandRegistrations.hash })
        .from(discordCommandRegistrations)
        .where(eq(discordCommandRegistrations.scope, scope))
        .get();
      return row?.hash ?? null;
    },
    async saveCommandHash(scope, hash, registeredAtMs) {
      db.insert(discordCommandRegistrations)
        .values({ scope, hash, registeredAtMs })
        .onConflictDoUpdate({ target: discordCommandRegistrations.scope, set: { hash, registeredAtMs } })
        .run();
    },
  };
}
