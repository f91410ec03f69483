/**
 * The platform contract, proven on the process people run: `npm start` with Telegram and Discord at once,
 * CoinGecko fetched first (so the project's own undici has made a request before any Discord upload, the
 * order that broke Discord attachments in the real process), and every request both stand-ins receive
 * checked against Discord's OpenAPI spec and the Telegram Bot API spec. A request either platform would
 * refuse fails the test that caused it, naming the field (see the stand-ins' `close`).
 *
 * The world gives every chart something to draw: CoinGecko's `market_chart` and tickers, two earlier days of
 * tickers readings stored through the app's own markets service (the bot adds its first reading at start),
 * and the network scenario's chain, whose callers span 91 days.
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
  type DiscordAnswer,
  type World,
} from '../helpers/bot-process.js';
import { pngSize } from '../helpers/png.js';
import { CHART_METRICS, CHART_RANGES, type ChartMetric, type ChartRange } from '../../src/core/charts/series.js';
import { commands } from '../../commands/index.js';
import { alice, bob, callbackUpdate, messageUpdate, supergroup } from '../helpers/telegram-updates.js';
import { expectNoBadText } from '../helpers/expect.js';
import { createTestApp } from '../helpers/app.js';
import { createTestClock } from '../helpers/clock.js';
import { fixtureTickers } from '../helpers/tickers.js';
import { networkScenario, SCENARIO } from '../helpers/og-participants.js';
import type { BotApiCall } from '../helpers/telegram-server.js';
import { clockEnv, noonToday } from '../helpers/spawn.js';

/** The one range every metric draws (venues has no 24h, callers only 30d and 90d). */
const CHART_RANGE: ChartRange = '30d';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const DAY_MS = 86_400_000;
/** Days of tickers readings stored before the bot starts. */
const SEEDED_DAYS = 2;

/** Stand-ins and a store with something for every chart and for `network` (see the header). */
async function world(): Promise<World> {
  // As in the network test: the bot's clock is noon UTC today (its whole-UTC-day figures hold at any hour the
  // suite runs), and the chain's "now" is ahead of it, so its last-24-hours events stay inside.
  const { nowMs, offsetMs } = noonToday();
  const { chain } = networkScenario(nowMs + 90_000);
  const w = await startWorld({ chain, env: clockEnv(offsetMs) });
  w.cg.setTickers(fixtureTickers());
  // Readings one and two days ago, taken and stored by the app's markets service, as the bot would have.
  const clock = createTestClock(nowMs - SEEDED_DAYS * DAY_MS);
  const app = createTestApp({ databasePath: w.databasePath, clock, env: { COINGECKO_API_URL: w.cg.url } });
  for (let day = 0; day < SEEDED_DAYS; day++) {
    await app.markets.refresh();
    clock.advance(DAY_MS);
  }
  app.close();
  return w;
}

/**
 * Starts the bot and waits until CoinGecko has been fetched, the bot has taken its own tickers reading (after
 * the seeded ones) and the chain's blocks are indexed.
 */
async function started(w: World): Promise<BotProcess> {
  const bot = startBot(w);
  await bothReady(w, bot);
  await until('a first CoinGecko fetch', () => (w.cg.marketCalls() > 0 ? true : undefined), bot);
  const db = new Database(w.databasePath, { readonly: true, fileMustExist: true });
  onTestFinished(() => void db.close());
  await until(
    "the bot's first tickers reading",
    () =>
      (db.prepare('select count(*) as n from market_ticker_readings').get() as { n: number }).n > SEEDED_DAYS
        ? true
        : undefined,
    bot,
  );
  if (w.og) {
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

/** The chart named in the embed is the one PNG attached, and a real chart. */
function expectDiscordChart(answer: DiscordAnswer, metric: ChartMetric, range: ChartRange): void {
  const what = `discord chart ${metric} ${range}`;
  const filename = `opg-${metric}-${range}.png`;
  expect(answer.data.embeds?.[0]?.image?.url, `${what}: the embed shows the attachment`).toBe(
    `attachment://${filename}`,
  );
  const files = Object.values(fileParts(answer.request));
  expect(
    files.map((f) => f.filename),
    `${what}: one PNG attached`,
  ).toEqual([filename]);
  expectRealPng(files[0]!.bytes, what);
}

/**
 * The metric and range pairs the bot refuses by design, with the refusal a person reads: venues draws daily
 * bars, so no 24h (commands/chart.ts); callers counts weeks, so 30d and 90d only (commands/chart-callers.ts).
 */
const REFUSED_CHARTS: Partial<Record<ChartMetric, Partial<Record<ChartRange, string>>>> = {
  venues: { '24h': 'The venues chart shows daily volume: choose 7d, 30d or 90d.' },
  callers: {
    '24h': 'The callers chart counts weeks: choose 30d or 90d (got 24h).',
    '7d': 'The callers chart counts weeks: choose 30d or 90d (got 7d).',
  },
};

/** The callback data of every button in a Telegram reply. */
function tgButtons(call: BotApiCall): string[] {
  const markup = call.params.reply_markup as { inline_keyboard?: Array<Array<{ callback_data?: string }>> } | undefined;
  return (markup?.inline_keyboard ?? []).flat().flatMap((b) => (b.callback_data ? [b.callback_data] : []));
}

/** The custom id of every button in a Discord answer. */
function dcButtons(answer: DiscordAnswer): string[] {
  const rows = (answer.data.components ?? []) as Array<{ components?: Array<{ custom_id?: string }> }>;
  return rows.flatMap((row) => (row.components ?? []).flatMap((c) => (c.custom_id ? [c.custom_id] : [])));
}

const firstLine = (text: string) => text.split('\n')[0]!;

describe('the platform contract in the process npm start runs', () => {
  it(
    'attaches a real chart PNG for every chart metric: Discord through the deferred path, Telegram with sendPhoto',
    { timeout: 90_000 },
    async () => {
      const w = await world();
      const bot = await started(w);

      // Every metric the command offers, so a new one is covered without touching this test.
      for (const metric of CHART_METRICS) {
        const range = CHART_RANGE;
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
        expectDiscordChart(answer, metric, range);
        expectNoBadText(JSON.stringify(answer.data));

        const photo = await tgAsk(
          w,
          bot,
          messageUpdate({ chat: supergroup, from: bob, text: `/opg chart ${metric} ${range}` }),
          20_000,
        );
        expect(photo.method, `${metric}: Telegram sends a photo, not text`).toBe('sendPhoto');
        expectRealPng(photo.files.photo!.bytes, `Telegram ${metric} chart`);
        expectNoBadText(String(photo.params.caption));
      }
      expect(w.tg.refusals).toEqual([]);
      expect(w.discord.refusals).toEqual([]);
      expect(bot.output()).not.toContain('action is not a function');
      expect(bot.errorLines()).toEqual([]);
      expect(bot.repeatedKeyLines()).toEqual([]);
    },
  );

  it(
    'answers every command and subcommand on both platforms at once with no refused request and no error logged',
    { timeout: 170_000 },
    async () => {
      const w = await world();
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

      // Every command that takes no words (chart and the alerts group follow), from the definitions.
      const plain = commands.filter((c) => !c.group && Object.keys(c.options).length === 0).map((c) => c.name);
      expect(plain).toEqual(expect.arrayContaining(['stats', 'volume', 'supply', 'inferences', 'markets', 'network']));
      const answered = new Map<string, { tg: BotApiCall; dc: DiscordAnswer }>();
      for (const sub of plain) {
        const t = await tg(bob, `/opg ${sub}`);
        expectNoBadText(tgText(t), `telegram ${sub}`);
        const d = await dc(sub);
        expect(d.data.flags ?? 0, `discord ${sub} is public`).toBe(0);
        expectNoBadText(dcText(d), `discord ${sub}`);
        answered.set(sub, { tg: t, dc: d });
      }
      // network reads the scenario chain's callers, not a "not indexed yet".
      expect(tgText(answered.get('network')!.tg)).toContain(
        `${SCENARIO.active7} accounts that sent inference transactions on the OpenGradient chain`,
      );
      expect(dcText(answered.get('network')!.dc)).toContain('Who uses the OpenGradient network');

      // Every metric with every range: what the bot refuses by design says so, everything else is a real chart.
      for (const metric of CHART_METRICS) {
        for (const range of CHART_RANGES) {
          const what = `chart ${metric} ${range}`;
          const refusal = REFUSED_CHARTS[metric]?.[range];
          const t = await tg(bob, `/opg chart ${metric} ${range}`);
          expectNoBadText(tgText(t), `telegram ${what}`);
          const d = await dc('chart', [
            { name: 'metric', type: 3, value: metric },
            { name: 'range', type: 3, value: range },
          ]);
          expectNoBadText(dcText(d), `discord ${what}`);
          if (refusal) {
            expect(t.method, `telegram ${what} is refused in text`).toBe('sendMessage');
            expect(tgText(t), `telegram ${what}`).toContain(refusal);
            expect(dcText(d), `discord ${what}`).toContain(refusal);
            expect(Object.keys(fileParts(d.request)), `discord ${what} attaches nothing`).toEqual([]);
          } else {
            expect(t.method, `telegram ${what}: a photo, not "${firstLine(tgText(t))}"`).toBe('sendPhoto');
            expectRealPng(t.files.photo!.bytes, `telegram ${what}`);
            expectDiscordChart(d, metric, range);
          }
        }
      }

      // Alerts: status, then every moderator subcommand on each platform, then status again. Each answer is
      // checked by its title (first line) and by what the status then shows, so a refusal cannot pass.
      const tgTitle = async (from: typeof alice, text: string) => firstLine(tgText(await tg(from, text)));
      const bold = (title: string) => `<b>${title}</b>`;
      expect(await tgTitle(bob, '/opg alerts')).toBe(bold('Alerts are off in this chat'));
      expect(await tgTitle(alice, '/opg alerts subscribe')).toBe(bold('Alerts are on in this chat'));
      // A decimal comma is a decimal point: 5,5 is 5.5x, and the status lists what was typed.
      expect(await tgTitle(alice, '/opg alerts add 5,5')).toBe(bold('Added a 5.5x threshold'));
      const thresholdsLine = (text: string) => text.split('\n').find((l) => l.includes('Thresholds')) ?? '';
      expect(thresholdsLine(tgText(await tg(bob, '/opg alerts')))).toMatch(/ 5\.5x \(/);
      expect(await tgTitle(alice, '/opg alerts remove 5.5')).toBe(bold('Removed the 5.5x threshold'));
      expect(await tgTitle(alice, '/opg alerts cooldown 30')).toBe(bold('Cooldown set to 30 min'));
      expect(await tgTitle(alice, '/opg alerts digest 09:30')).toBe(bold('Digest set to 09:30 UTC daily'));
      expect(await tgTitle(alice, '/opg alerts digest off')).toBe(bold('Digest off'));
      expect(await tgTitle(alice, '/opg alerts listings off')).toBe(bold('Listing alerts off'));
      const tgStatus = tgText(await tg(bob, '/opg alerts'));
      expect(thresholdsLine(tgStatus)).toMatch(/^<b>Thresholds \(volume \/ market cap\):<\/b> \d/);
      expect(thresholdsLine(tgStatus)).not.toContain('5.5x');
      expect(tgStatus).toContain('<b>Cooldown:</b> 30 min between alerts');
      expect(tgStatus).toContain('<b>Digest:</b> off');
      expect(tgStatus).toContain('<b>New-listing alerts:</b> off');
      expect(await tgTitle(alice, '/opg alerts listings on')).toBe(bold('Listing alerts on'));
      expect(tgText(await tg(bob, '/opg alerts add 7'))).toContain('Moderators only');
      expect(await tgTitle(alice, '/opg alerts unsubscribe')).toBe(bold('Alerts are off in this chat'));
      expect(await tgTitle(bob, '/opg alerts')).toBe(bold('Alerts are off in this chat'));

      const dcAlerts = async (
        subcommand: string,
        options: Array<{ name: string; type: number; value: unknown }> = [],
        asModerator = true,
      ) => {
        const d = await dc(subcommand, options, { group: 'alerts', ...(asModerator ? mod : {}) });
        const embed = d.data.embeds?.[0] as
          { title?: string; fields?: Array<{ name: string; value: string }> } | undefined;
        return {
          d,
          title: embed?.title,
          field: (label: string) => embed?.fields?.find((f) => f.name === label)?.value,
        };
      };
      expect((await dcAlerts('status', [], false)).title).toBe('Alerts are off in this chat');
      expect((await dcAlerts('subscribe')).title).toBe('Alerts are on in this chat');
      expect((await dcAlerts('add', [{ name: 'ratio', type: 10, value: 2.5 }])).title).toBe('Added a 2.5x threshold');
      expect((await dcAlerts('status', [], false)).field('Thresholds (volume / market cap)')).toMatch(/(^| )2\.5x \(/);
      expect((await dcAlerts('remove', [{ name: 'ratio', type: 10, value: 2.5 }])).title).toBe(
        'Removed the 2.5x threshold',
      );
      expect((await dcAlerts('cooldown', [{ name: 'minutes', type: 4, value: 45 }])).title).toBe(
        'Cooldown set to 45 min',
      );
      expect((await dcAlerts('digest', [{ name: 'time', type: 3, value: '18:00' }])).title).toBe(
        'Digest set to 18:00 UTC daily',
      );
      expect((await dcAlerts('listings', [{ name: 'state', type: 3, value: 'off' }])).title).toBe('Listing alerts off');
      const dcStatus = await dcAlerts('status', [], false);
      expect(dcStatus.field('Cooldown')).toBe('45 min between alerts');
      expect(dcStatus.field('Digest')).toBe('18:00 UTC daily');
      expect(dcStatus.field('New-listing alerts')).toBe('off');
      const refused = await dcAlerts('add', [{ name: 'ratio', type: 10, value: 7 }], false);
      expect(refused.d.data.flags).toBe(64);
      expect(dcText(refused.d)).toContain('Moderators only');
      expect((await dcAlerts('unsubscribe')).title).toBe('Alerts are off in this chat');
      expect((await dcAlerts('status', [], false)).title).toBe('Alerts are off in this chat');

      // Every Refresh button the replies above carried: Telegram edits the message it sent (by the id it
      // answered with), Discord updates the message.
      const pressed: string[] = [];
      for (const [sub, { tg: sent, dc: answer }] of answered) {
        const message = sent.result as { message_id: number } & Record<string, unknown>;
        for (const data of tgButtons(sent)) {
          const since = w.tg.calls.length;
          w.tg.push(callbackUpdate({ from: bob, message, data }));
          const edit = await until(
            `the Refresh edit of ${sub}`,
            () =>
              w.tg.calls
                .slice(since)
                .find((c) => c.method === 'editMessageText' && c.params.message_id === message.message_id),
            bot,
            20_000,
          );
          expect(firstLine(tgText(edit)), `telegram ${sub} refreshed in place`).toBe(firstLine(tgText(sent)));
          expect(edit.params.reply_markup).toEqual(sent.params.reply_markup);
          await until(
            `the answer to ${sub}'s Refresh tap`,
            () => w.tg.calls.slice(since).find((c) => c.method === 'answerCallbackQuery'),
            bot,
          );
          pressed.push(`telegram ${data}`);
        }
        for (const customId of dcButtons(answer)) {
          const updated = await discordAsk(w, bot, w.discord.button(customId), 20_000);
          expect([6, 7]).toContain(updated.type);
          expect(updated.data.embeds?.[0]?.title, `discord ${sub} refreshed`).toBe(answer.data.embeds?.[0]?.title);
          pressed.push(`discord ${customId}`);
        }
      }
      for (const sub of ['stats', 'volume', 'supply'])
        expect(pressed).toEqual(expect.arrayContaining([`telegram refresh:${sub}`, `discord refresh:${sub}`]));

      expect(w.tg.refusals).toEqual([]);
      expect(w.discord.refusals).toEqual([]);
      expect(bot.errorLines()).toEqual([]);
      expect(bot.repeatedKeyLines()).toEqual([]);
      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
    },
  );
});
