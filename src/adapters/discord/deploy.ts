/**
 * `npm run discord:deploy`: registers `/opg` now, whatever the stored hash says (after editing commands by
 * hand in the Developer Portal, or to move from a guild to global). An entry point like `cli.ts`, so it reads
 * the environment; in the guild of `DISCORD_GUILD_ID` when set, otherwise globally. It records the hash in the
 * store the bot runs on (`DATABASE_URL` PostgreSQL, else the SQLite file at `DATABASE_PATH`, as main.ts opens
 * it), so the bot does not register again at its next start; and its REST sends through the project's undici,
 * as the bot's does (rest-request.ts says why discord.js's own must not).
 */
import { REST, Routes } from 'discord.js';
import { Agent } from 'undici';
import { commands } from '../../../commands/index.js';
import { secretsOf } from '../../config.js';
import { ConfigError, describeError } from '../../core/errors.js';
import { openStore, type OpenedStore } from '../../db/store.js';
import { configFromProcess } from '../../env.js';
import { scrubSecrets } from '../../logger.js';
import { registerCommands } from './register.js';
import { createDiscordRequest } from './rest-request.js';

async function main(): Promise<number> {
  const config = configFromProcess();
  if (!config.discord) {
    process.stderr.write('discord:deploy: set DISCORD_TOKEN (and DISCORD_GUILD_ID for one server).\n');
    return 1;
  }
  const { token, apiUrl, guildId } = config.discord;
  const dispatcher = new Agent();
  const rest = new REST({ api: apiUrl, timeout: 15_000, makeRequest: createDiscordRequest(dispatcher) }).setToken(
    token,
  );
  let store: OpenedStore | null = null;
  try {
    // Inside the try: a store that cannot be opened is reported with every secret scrubbed.
    store = await openStore(config);
    const application = (await rest.get(Routes.currentApplication())) as { id: string };
    const result = await registerCommands({
      rest,
      applicationId: application.id,
      guildId,
      commands,
      store: store.stores.commandRegistrations,
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
    await dispatcher.close();
    await store?.close();
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
