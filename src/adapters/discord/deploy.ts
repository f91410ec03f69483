/**
 * `npm run discord:deploy`: registers `/opg` now, whatever the stored hash says (after editing commands by
 * hand in the Developer Portal, or to move from a guild to global). An entry point like `cli.ts`, so it reads
 * the environment; in the guild of `DISCORD_GUILD_ID` when set, otherwise globally.
 */
import { REST, Routes } from 'discord.js';
import { commands } from '../../../commands/index.js';
import { secretsOf } from '../../config.js';
import { ConfigError, describeError } from '../../core/errors.js';
import { createDiscordStore } from '../../db/discord-store.js';
import { openDatabase } from '../../db/open.js';
import { configFromProcess } from '../../env.js';
import { scrubSecrets } from '../../logger.js';
import { registerCommands } from './register.js';

async function main(): Promise<number> {
  const config = configFromProcess();
  if (!config.discord) {
    process.stderr.write('discord:deploy: set DISCORD_TOKEN (and DISCORD_GUILD_ID for one server).\n');
    return 1;
  }
  const { token, apiUrl, guildId } = config.discord;
  const database = openDatabase(config.databasePath);
  const rest = new REST({ api: apiUrl, timeout: 15_000 }).setToken(token);
  try {
    const application = (await rest.get(Routes.currentApplication())) as { id: string };
    const result = await registerCommands({
      rest,
      applicationId: application.id,
      guildId,
      commands,
      store: createDiscordStore(database),
      nowMs: Date.now(),
      force: true,
    });
    process.stdout.write(
      `Registered /opg ${guildId ? `in guild ${guildId}` : 'globally'} (hash ${result.hash.slice(0, 12)}).\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`discord:deploy failed: ${scrubSecrets(describeError(err), secretsOf(config))}\n`);
    return 1;
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
    database.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `discord:deploy: ${(err as Error).message}`}\n`);
    process.exitCode = 1;
  },
);
