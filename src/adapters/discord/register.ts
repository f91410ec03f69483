/**
 * Slash-command registration by bulk overwrite. Discord rate-limits command creation hard (200 a day per
 * guild), so the body's hash is kept in the store and a restart with unchanged definitions registers nothing.
 * A guild (`DISCORD_GUILD_ID`) sees changes at once; global commands can take a while to reach every client.
 */
import { Routes, type REST } from 'discord.js';
import type { AnyCommand } from '../../core/command.js';
import type { CommandRegistrationStore } from '../../core/command-registrations.js';
import { bodyHash, slashCommandBody } from './slash-commands.js';

export interface RegisterOptions {
  rest: REST;
  applicationId: string;
  /** Register in this guild only; globally when null. */
  guildId: string | null;
  commands: readonly AnyCommand[];
  store: CommandRegistrationStore;
  nowMs: number;
  /** Overwrite even when the stored hash matches (`npm run discord:deploy`). */
  force?: boolean;
}

export type RegisterResult = { status: 'registered' | 'unchanged'; scope: string; hash: string };

export async function registerCommands(options: RegisterOptions): Promise<RegisterResult> {
  const { rest, applicationId, guildId, commands, store, nowMs } = options;
  const body = slashCommandBody(commands, guildId ? 'guild' : 'global');
  const hash = bodyHash(body);
  const scope = guildId ? `${applicationId}:guild:${guildId}` : `${applicationId}:global`;
  if (!options.force && (await store.commandHash(scope)) === hash) return { status: 'unchanged', scope, hash };
  const route = guildId
    ? Routes.applicationGuildCommands(applicationId, guildId)
    : Routes.applicationCommands(applicationId);
  await rest.put(route, { body });
  await store.saveCommandHash(scope, hash, nowMs);
  return { status: 'registered', scope, hash };
}
