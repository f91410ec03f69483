/**
 * The real Telegram adapter and the real app (SQLite file, CoinGecko source) long polling the loopback Bot
 * API, with a test clock and a recording chat lifecycle. Stopped and closed when the test ends.
 */
import { onTestFinished } from 'vitest';
import { createTelegramAdapter, type TelegramAdapterOptions } from '../../../src/adapters/telegram/adapter.js';
import { defineCommand, type AnyCommand } from '../../../src/core/command.js';
import { silentLogger } from '../../../src/core/logger.js';
import { reply } from '../../../src/core/reply.js';
import type { ChatLifecycle } from '../../../src/core/sink.js';
import { createTestApp } from '../../helpers/app.js';
import { startCoinGeckoServer } from '../../helpers/coingecko-server.js';
import { startTelegramServer, type TelegramServer } from '../../helpers/telegram-server.js';

export interface LifecycleCall {
  kind: 'migrate' | 'pause';
  args: string[];
}

export function recordingLifecycle(): ChatLifecycle & { calls: LifecycleCall[] } {
  const calls: LifecycleCall[] = [];
  return {
    calls,
    migrateChat: async (platform, from, to) => void calls.push({ kind: 'migrate', args: [platform, from, to] }),
    pauseChat: async (platform, chatId, reason) => void calls.push({ kind: 'pause', args: [platform, chatId, reason] }),
  };
}

/** Test-only commands: a photo reply and a very long reply. Moderator commands are the real `alerts` ones. */
export function testCommands(): AnyCommand[] {
  return [
    defineCommand({
      name: 'picture',
      description: 'Test-only: a PNG reply',
      options: {},
      access: 'everyone',
      async run() {
        const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
        return reply({
          title: 'OPG <price> & volume',
          lines: ['x'.repeat(2000)],
          image: { png, filename: 'chart.png', alt: 'a chart' },
          buttons: [{ id: 'refresh:picture', label: 'Refresh' }],
        });
      },
    }),
    defineCommand({
      name: 'long',
      description: 'Test-only: a reply longer than one message',
      options: {},
      access: 'everyone',
      async run() {
        return reply({ title: 'Long', lines: Array.from({ length: 400 }, (_, i) => `line ${i} <${'&'.repeat(10)}>`) });
      },
    }),
  ];
}

/** `storeLedger`: take updates through the app store's ledger (core/update-ledger.ts), as on a shared store. */
export async function startBot(
  { storeLedger = false, ...overrides }: Partial<TelegramAdapterOptions> & { storeLedger?: boolean } = {},
  before?: (tg: TelegramServer) => void,
) {
  const tg = await startTelegramServer();
  onTestFinished(() => tg.close());
  before?.(tg);
  const cg = await startCoinGeckoServer();
  const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
  const lifecycle = recordingLifecycle();
  const commands = [...app.commands, ...testCommands()];
  const chatRef = (chat: { id: number }) => ({ platform: 'telegram' as const, chatId: String(chat.id) });
  /** This chat's alert thresholds as stored (empty when not subscribed). */
  const thresholds = (chat: { id: number }) => app.services.alerts.thresholdsFor(chatRef(chat));
  /** Whether this chat has an alert subscription at all. */
  const subscribed = async (chat: { id: number }) => (await app.services.alerts.view(chatRef(chat))) !== null;
  const adapter = createTelegramAdapter({
    core: app.core,
    services: app.services,
    commands,
    token: tg.token,
    apiRoot: tg.url,
    logger: silentLogger,
    clock: app.clock,
    lifecycle,
    // The ledger of updates taken, which main.ts passes for polling on a shared PostgreSQL store.
    ...(storeLedger ? { ledger: app.store.stores.telegramUpdates } : {}),
    pollTimeoutSeconds: 10,
    pollRetryMs: 5,
    retryDelayMs: 1_000,
    ...overrides,
  });
  await adapter.start();
  onTestFinished(() => adapter.stop());
  return { tg, cg, app, adapter, lifecycle, thresholds, subscribed, botId: Number(tg.token.split(':')[0]) };
}
