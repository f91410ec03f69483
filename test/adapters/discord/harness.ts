/** Starts the real Discord adapter (real discord.js, real SQLite) against the loopback stand-ins. */
import { onTestFinished } from 'vitest';
import { createDiscordAdapter, type DiscordAdapter } from '../../../src/adapters/discord/adapter.js';
import { defineCommand, type AnyCommand } from '../../../src/core/command.js';
import { silentLogger, type Logger } from '../../../src/core/logger.js';
import { reply } from '../../../src/core/reply.js';
import { createDiscordStore } from '../../../src/db/discord-store.js';
import { createTestApp } from '../../helpers/app.js';
import { startCoinGeckoServer, type CoinGeckoServer } from '../../helpers/coingecko-server.js';
import { GUILD_ID, startDiscordStandIn, type DiscordStandIn } from '../../helpers/discord-server.js';
import { tempDbPath } from '../../helpers/temp-dir.js';

/** A one-by-one PNG: the signature and enough bytes to be recognised in a multipart body. */
export const TINY_PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

/** Test-only definitions: a failing command and a picture reply. Moderator commands are the real `alerts` ones. */
export function testCommands(): AnyCommand[] {
  return [
    defineCommand({
      name: 'broken',
      description: 'Waits for a market refresh, then fails',
      options: {},
      access: 'everyone',
      async run(_args, { core }) {
        await core.refresh();
        throw new Error('boom');
      },
    }),
    defineCommand({
      name: 'picture',
      description: 'A chart-like reply with a PNG',
      options: { range: { type: 'choice', description: 'Range', choices: ['24h', '7d'] as const } },
      access: 'everyone',
      run: async ({ range }) =>
        reply({
          title: `Ratio ${range ?? '7d'}`,
          image: { png: TINY_PNG, filename: 'ratio.png', alt: 'ratio chart' },
          buttons: [{ id: 'refresh:picture 24h', label: 'Refresh' }],
        }),
    }),
  ];
}

export interface Bot {
  discord: DiscordStandIn;
  coingecko: CoinGeckoServer;
  adapter: DiscordAdapter;
  app: ReturnType<typeof createTestApp>;
  /** A channel's stored alert thresholds (empty when not subscribed). */
  thresholds(channelId: string): Promise<number[]>;
  /** Whether a channel has an alert subscription at all. */
  subscribed(channelId: string): Promise<boolean>;
}

export interface BotOptions {
  databasePath?: string;
  discord?: DiscordStandIn;
  coingecko?: CoinGeckoServer;
  deferAfterMs?: number;
  /** Skip the first market refresh, so the first command meets a cold start. */
  cold?: boolean;
  heartbeatIntervalMs?: number;
  logger?: Logger;
}

export async function startBot(options: BotOptions = {}): Promise<Bot> {
  const coingecko = options.coingecko ?? (await startCoinGeckoServer());
  const discord = options.discord ?? (await startDiscordStandIn({ heartbeatIntervalMs: options.heartbeatIntervalMs }));
  if (!options.discord) onTestFinished(() => discord.close());
  const app = createTestApp({
    env: { COINGECKO_API_URL: coingecko.url },
    databasePath: options.databasePath ?? tempDbPath(),
  });
  if (!options.cold) await app.core.refresh();
  const adapter = createDiscordAdapter({
    core: app.core,
    services: app.services,
    commands: [...app.commands, ...testCommands()],
    token: 'test-bot-token',
    apiUrl: discord.apiUrl,
    guildId: GUILD_ID,
    logger: options.logger ?? silentLogger,
    store: createDiscordStore(app.database),
    restTimeoutMs: 300,
    restRetries: 2,
    deferAfterMs: options.deferAfterMs,
    clientOptions: { ws: { buildIdentifyThrottler: () => ({ waitForIdentify: async () => {} }) } },
  });
  onTestFinished(() => adapter.stop());
  await adapter.start();
  const chat = (chatId: string) => ({ platform: 'discord' as const, chatId, guildId: GUILD_ID });
  return {
    discord,
    coingecko,
    adapter,
    app,
    thresholds: (chatId) => app.services.alerts.thresholdsFor(chat(chatId)),
    subscribed: async (chatId) => (await app.services.alerts.view(chat(chatId))) !== null,
  };
}
