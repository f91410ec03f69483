import { describe, expect, it, onTestFinished } from 'vitest';
import type { ChatRef } from '../../src/core/command.js';
import { createTestApp, moderator } from '../helpers/app.js';
import { BOT_API_LIMITS, startTelegramServer } from '../helpers/telegram-server.js';
import { createTestClock } from '../helpers/clock.js';
import { startCoinGeckoServer, marketItemWithRatio } from '../helpers/coingecko-server.js';
import { createTelegramSink } from '../../src/adapters/telegram/sink.js';
import { silentLogger } from '../../src/core/logger.js';
import { createRecordingSink } from '../helpers/recording-sink.js';
import { tempDbPath } from '../helpers/temp-dir.js';

const group: ChatRef = { platform: 'telegram', chatId: '-1001234', kind: 'supergroup', title: 'OPG' };
const channel: ChatRef = {
  platform: 'discord',
  chatId: '700000000000000001',
  guildId: '600000000000000001',
  kind: 'guild_text',
};

async function world() {
  const clock = createTestClock();
  const cg = await startCoinGeckoServer([marketItemWithRatio(0.8)]);
  const bot = await startTelegramServer({ limits: BOT_API_LIMITS, now: clock.now });
  onTestFinished(() => bot.close());
  const databasePath = tempDbPath();
  const start = () => {
    const app = createTestApp({ clock, databasePath, env: { COINGECKO_API_URL: cg.url } });
    const telegram = createTelegramSink({ apiRoot: bot.url, token: bot.token, logger: silentLogger });
    const discord = createRecordingSink('discord', clock);
    app.alerts.registerSink(telegram);
    app.alerts.registerSink(discord);
    return { app, discord };
  };
  return { clock, cg, bot, start };
}

describe('alerts end to end', () => {
  it(
    'posts one alert per threshold crossed as the ratio climbs from 0.8x to 13.2x, ' +
      'and repeats nothing after a restart',
    async () => {
      const { clock, cg, bot, start } = await world();
      const first = start();
      expect((await first.app.runText('/opg alerts subscribe', group, moderator)).title).toBe(
        'Alerts are on in this chat',
      );
      expect((await first.app.runText('/opg alerts subscribe', channel, moderator)).title).toBe(
        'Alerts are on in this chat',
      );

      for (const r of [0.8, 2.1, 6.3, 13.2]) {
        cg.setMarkets([marketItemWithRatio(r)]);
        await first.app.core.refresh();
        await first.app.alerts.dispatcher.drain();
        clock.advance(61 * 60_000);
      }
      const expected = ['crossed above 1x', 'crossed above 5x', 'crossed above 10x'].map(
        (t) => `OPG volume / market cap ${t}`,
      );
      expect(bot.sent.map((m) => m.text.split('\n')[0])).toEqual(expected);
      expect(bot.sent.every((m) => m.chatId === group.chatId)).toBe(true);
      expect(bot.sent[2]!.text).toContain('Volume / market cap now: 13.2x');
      expect(bot.sent[2]!.text).toContain('24h volume: $528M');
      expect(first.discord.attempts.map((a) => a.reply.title)).toEqual(expected);
      expect(bot.tooMany()).toBe(0);
      first.app.close();

      // Restart on the same database: the first reading after it must not fire again.
      const second = start();
      await second.app.core.refresh();
      clock.advance(61 * 60_000);
      await second.app.core.refresh();
      await second.app.alerts.dispatcher.drain();
      expect(bot.sent).toHaveLength(3);
      expect(second.discord.attempts).toHaveLength(0);
    },
  );

  it('sends one message naming all three thresholds when the ratio jumps from 0.8x to 13.2x at once', async () => {
    const { cg, bot, start, clock } = await world();
    const { app, discord } = start();
    await app.runText('/opg alerts subscribe', group, moderator);
    await app.runText('/opg alerts subscribe', channel, moderator);
    await app.core.refresh();
    cg.setMarkets([marketItemWithRatio(13.2)]);
    clock.advance(5 * 60_000);
    await app.core.refresh();
    await app.alerts.dispatcher.drain();
    expect(bot.sent).toHaveLength(1);
    // The real sink's HTML leaves a blank line under the title: compare the lines that say something.
    expect(
      bot.sent[0]!.text.split('\n')
        .filter((l) => l !== '')
        .slice(0, 4),
    ).toEqual([
      'OPG volume / market cap crossed 3 thresholds',
      'Rose to 1x or more (13.2x at 12:05 UTC)',
      'Rose to 5x or more (13.2x at 12:05 UTC)',
      'Rose to 10x or more (13.2x at 12:05 UTC)',
    ]);
    expect(discord.attempts).toHaveLength(1);
  });

  it('pauses a group that kicked the bot and follows one that became a supergroup, through the Bot API', async () => {
    const { cg, bot, start, clock } = await world();
    const { app } = start();
    const kicked: ChatRef = { platform: 'telegram', chatId: '-555', kind: 'group' };
    const upgraded: ChatRef = { platform: 'telegram', chatId: '-556', kind: 'group' };
    await app.runText('/opg alerts subscribe', kicked, moderator);
    await app.runText('/opg alerts subscribe', upgraded, moderator);
    bot.kick('-555');
    bot.migrate('-556', '-100556');
    await app.core.refresh();
    cg.setMarkets([marketItemWithRatio(2)]);
    clock.advance(5 * 60_000);
    await app.core.refresh();
    await app.alerts.dispatcher.drain();

    expect(await app.alerts.view(kicked)).toMatchObject({
      status: 'paused',
      pauseReason: 'Telegram refused: Forbidden: bot was kicked from the group chat',
    });
    expect(bot.sent.map((m) => m.chatId)).toEqual(['-100556']);
    expect((await app.alerts.view({ platform: 'telegram', chatId: '-100556' }))?.status).toBe('active');
  });
});
