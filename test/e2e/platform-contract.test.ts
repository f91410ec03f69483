/**
 * The platform contract, proven on the process people run: `npm start` with Telegram and Discord at once,
 * CoinGecko fetched first (so the project's own undici has made a request before any Discord upload, the
 * order that broke Discord attachments in the real process), and every request both stand-ins receive
 * checked against Discord's OpenAPI spec and the Telegram Bot API spec. A request either platform would
 * refuse fails the test that caused it, naming the field (see the stand-ins' `close`).
 */
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MODERATOR_PERMISSIONS } from '../helpers/discord-server.js';
import {
  bothReady,
  discordAsk,
  fileParts,
  startBot,
  startWorld,
  tgAsk,
  until,
  type BotProcess,
  type World,
} from '../helpers/bot-process.js';
import { pngSize } from '../helpers/png.js';
import { CHART_METRICS } from '../../src/core/charts/series.js';
import { alice, bob, callbackUpdate, messageUpdate, supergroup } from '../helpers/telegram-updates.js';
import { expectNoBadText } from '../helpers/expect.js';

const METRICS = ['ratio', 'price', 'volume', 'mcap', 'inferences'] as const;
const RANGES = ['24h', '7d', '30d', '90d'] as const;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Starts the bot and waits until CoinGecko has been fetched and the chain's blocks are indexed. */
async function started(w: World): Promise<BotProcess> {
  const bot = startBot(w);
  await bothReady(w, bot);
  await until('a first CoinGecko fetch', () => (w.cg.marketCalls() > 0 ? true : undefined), bot);
  if (w.og) {
    const db = new Database(w.databasePath, { readonly: true, fileMustExist: true });
    onTestFinished(() => void db.close());
    const head = w.og.chain.head;
    await until(
      'the chain indexed',
      () =>
        ((db.prepare('select next_block as n from indexer_state').get() as { n: number } | undefined)?.n ?? 0) > head
          ? true
          : undefined,
      bot,
      20_000,
    );
  }
  return bot;
}

function expectRealPng(bytes: Buffer | Uint8Array, what: string): void {
  expect(Buffer.from(bytes.subarray(0, 8)).equals(PNG_SIGNATURE), `${what} is a PNG`).toBe(true);
  // A real chart with axes, labels and a series: tens of KB, never a placeholder pixel.
  expect(bytes.length, `${what} size`).toBeGreaterThan(10_000);
  const size = pngSize(bytes);
  expect(size?.width ?? 0).toBeGreaterThanOrEqual(600);
}

describe('the platform contract in the process npm start runs', () => {
  it(
    'attaches a real chart PNG for every metric: Discord through the deferred path, Telegram with sendPhoto',
    { timeout: 90_000 },
    async () => {
      const w = await startWorld({ chainBlocks: 3_000 });
      const bot = await started(w);

      for (const metric of METRICS) {
        const range = metric === 'inferences' ? '24h' : '30d';
        const answer = await discordAsk(
          w,
          bot,
          w.discord.slash({
            subcommand: 'chart',
            options: [
              { name: 'metric', type: 3, value: metric },
              { name: 'range', type: 3, value: range },
            ],
          }),
          20_000,
        );
        expect(answer.type, `${metric}: deferred`).toBe(5);
        const embed = answer.data.embeds?.[0];
        const filename = `opg-${metric}-${range}.png`;
        expect(embed?.image?.url, `${metric}: the embed shows the attachment`).toBe(`attachment://${filename}`);
        const files = Object.values(fileParts(answer.request));
        expect(files.map((f) => f.filename)).toEqual([filename]);
        expectRealPng(files[0]!.bytes, `Discord ${metric} chart`);
        expectNoBadText(JSON.stringify(answer.data));

        const photo = await tgAsk(
          w,
          bot,
          messageUpdate({ chat: supergroup, from: bob, text: `/opg chart ${metric} ${range}` }),
          20_000,
        );
        expect(photo.method, `${metric}: Telegram sends a photo`).toBe('sendPhoto');
        expectRealPng(photo.files.photo!.bytes, `Telegram ${metric} chart`);
        expectNoBadText(String(photo.params.caption));
      }
      expect(bot.output()).not.toContain('action is not a function');
      expect(bot.errorLines()).toEqual([]);
    },
  );

  it(
    'answers every command and subcommand on both platforms at once with no refused request and no error logged',
    { timeout: 170_000 },
    async () => {
      const w = await startWorld({ chainBlocks: 3_000 });
      w.tg.setMember(supergroup.id, alice.id, 'administrator');
      const bot = await started(w);
      const mod = { permissions: MODERATOR_PERMISSIONS };
      const tg = (from: typeof alice, text: string) =>
        tgAsk(w, bot, messageUpdate({ chat: supergroup, from, text }), 20_000);
      const dc = (
        subcommand: string,
        options: Array<{ name: string; type: number; value: unknown }> = [],
        extra: { group?: string; permissions?: bigint } = {},
      ) => discordAsk(w, bot, w.discord.slash({ subcommand, options, ...extra }), 20_000);
      const tgText = (c: { params: Record<string, unknown> }) => String(c.params.text ?? c.params.caption ?? '');
      const dcText = (a: { data: unknown }) => JSON.stringify(a.data);

      for (const sub of ['stats', 'volume', 'supply', 'inferences', 'markets', 'help']) {
        const t = await tg(bob, `/opg ${sub}`);
        expectNoBadText(tgText(t), `telegram ${sub}`);
        const d = await dc(sub);
        expect(d.data.flags ?? 0, `discord ${sub} is public`).toBe(0);
        expectNoBadText(dcText(d), `discord ${sub}`);
      }
      for (const metric of CHART_METRICS) {
        for (const range of RANGES) {
          const t = await tg(bob, `/opg chart ${metric} ${range}`);
          expect(['sendPhoto', 'sendMessage']).toContain(t.method);
          expectNoBadText(tgText(t));
          const d = await dc('chart', [
            { name: 'metric', type: 3, value: metric },
            { name: 'range', type: 3, value: range },
          ]);
          expectNoBadText(dcText(d));
        }
      }

      // Alerts: status, then every moderator subcommand on each platform, then status again.
      expect(tgText(await tg(bob, '/opg alerts'))).toContain('Alerts are off');
      expect(tgText(await tg(alice, '/opg alerts subscribe'))).toContain('Alerts are on in this chat');
      expect(tgText(await tg(alice, '/opg alerts add 5,5'))).toContain('5.5x');
      expect(tgText(await tg(alice, '/opg alerts remove 5.5'))).toContain('5.5x');
      expect(tgText(await tg(alice, '/opg alerts cooldown 30'))).toContain('30');
      expect(tgText(await tg(alice, '/opg alerts digest 09:30'))).toContain('09:30');
      expect(tgText(await tg(alice, '/opg alerts digest off'))).toMatch(/off/i);
      expect(tgText(await tg(alice, '/opg alerts listings off'))).toMatch(/off/i);
      expect(tgText(await tg(alice, '/opg alerts listings on'))).toMatch(/on/i);
      expect(tgText(await tg(bob, '/opg alerts add 7'))).toContain('Moderators only');
      expect(tgText(await tg(alice, '/opg alerts unsubscribe'))).toMatch(/off/i);

      expect(dcText(await dc('status', [], { group: 'alerts' }))).toContain('Alerts are off');
      expect(dcText(await dc('subscribe', [], { group: 'alerts', ...mod }))).toContain('Alerts are on in this chat');
      expect(dcText(await dc('add', [{ name: 'ratio', type: 10, value: 2.5 }], { group: 'alerts', ...mod }))).toContain(
        '2.5x',
      );
      expect(
        dcText(await dc('remove', [{ name: 'ratio', type: 10, value: 2.5 }], { group: 'alerts', ...mod })),
      ).toContain('2.5x');
      expect(
        dcText(await dc('cooldown', [{ name: 'minutes', type: 4, value: 45 }], { group: 'alerts', ...mod })),
      ).toContain('45');
      expect(
        dcText(await dc('digest', [{ name: 'time', type: 3, value: '18:00' }], { group: 'alerts', ...mod })),
      ).toContain('18:00');
      expect(
        dcText(await dc('listings', [{ name: 'state', type: 3, value: 'off' }], { group: 'alerts', ...mod })),
      ).toMatch(/off/i);
      const refused = await dc('add', [{ name: 'ratio', type: 10, value: 7 }], { group: 'alerts' });
      expect(refused.data.flags).toBe(64);
      expect(dcText(await dc('unsubscribe', [], { group: 'alerts', ...mod }))).toMatch(/off/i);

      // Refresh buttons: Telegram edits the message in place, Discord updates it.
      const stats = await tg(bob, '/opg stats');
      const button = (stats.params.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
        .inline_keyboard[0]![0]!;
      const sent = { message_id: 1, date: Math.floor(Date.now() / 1000), chat: supergroup, text: tgText(stats) };
      const since = w.tg.calls.length;
      w.tg.push(callbackUpdate({ from: bob, message: sent, data: button.callback_data }));
      const edit = await until(
        'the Refresh edit',
        () => w.tg.calls.slice(since).find((c) => c.method === 'editMessageText'),
        bot,
        20_000,
      );
      expect(tgText(edit)).toContain('OPG stats');
      expect(edit.params.reply_markup).toEqual(stats.params.reply_markup);
      expect(w.tg.calls.slice(since).some((c) => c.method === 'answerCallbackQuery')).toBe(true);
      const dStats = await dc('stats');
      const customId = dStats.data.components?.[0]?.components?.[0]?.custom_id as string;
      const updated = await discordAsk(w, bot, w.discord.button(customId), 20_000);
      expect([6, 7]).toContain(updated.type);

      expect(w.tg.refusals).toEqual([]);
      expect(w.discord.refusals).toEqual([]);
      expect(bot.errorLines()).toEqual([]);
      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
    },
  );
});
