/**
 * The whole bot as `npm start` runs it (`src/main.ts` through tsx, a real process), against loopback
 * stand-ins for the Telegram Bot API, Discord's REST and gateway, and CoinGecko, with a real SQLite file.
 * It proves the "done when" of the Telegram (4), Discord (5) and alerts (6) issues together: moderators
 * subscribe a supergroup and a channel, plain members are refused, `/opg stats` answers on both platforms,
 * the served ratio moves from 0.8x to 13.2x and each platform gets one alert naming each threshold crossed
 * once, and a restart on the same database (after SIGTERM, or SIGKILL with a delivery in flight) repeats
 * nothing that a platform had accepted.
 *
 * The market is refreshed every second (node-cron's six-field form) so the test waits on refreshes, not
 * minutes; every wait polls what the stand-ins recorded, with a deadline.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  bothReady,
  DISCORD_TEST_TOKEN as DISCORD_TOKEN,
  discordAsk,
  isChannelPost,
  startBot,
  startWorld,
  tgAsk,
  tgText as text,
  until,
  type BotProcess as Bot,
  type World,
} from '../helpers/bot-process.js';
import { bodyJson, MODERATOR_PERMISSIONS } from '../helpers/discord-server.js';
import { sendJson } from '../helpers/http-server.js';
import { alice, bob, messageUpdate, supergroup } from '../helpers/telegram-updates.js';
import { expectNoBadText } from '../helpers/expect.js';
import { marketItemWithRatio } from '../helpers/coingecko-server.js';
import { sentOutboxIn } from '../helpers/alerts.js';

const EPHEMERAL = 64;

async function world(): Promise<World> {
  // The OpenGradient node and explorer: a closed loopback port, and an index run only at start.
  const w = await startWorld({ marketChart: false, env: { REFRESH_CRON: '* * * * * *' } });
  w.cg.setMarkets([marketItemWithRatio(0.8)]);
  w.tg.setMember(supergroup.id, alice.id, 'administrator');
  return w;
}

/** Resolves once the bot has fetched the market `n` more times: the refresh of the first of them was evaluated. */
async function refreshes(w: World, n: number, bot: Bot): Promise<void> {
  const target = w.cg.marketCalls() + n;
  await until(`${n} market refreshes`, () => (w.cg.marketCalls() >= target ? true : undefined), bot);
}

const tgAlerts = (w: World) =>
  w.tg.callsOf('sendMessage').filter((c) => text(c).includes('OPG volume / market cap crossed'));
const discordAlerts = (w: World) => w.discord.rest.requests.filter(isChannelPost);

const embedText = (embed: Record<string, any> | undefined) => JSON.stringify(embed ?? {});
const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

/**
 * Starts the bot, has both platforms' moderators subscribe (and a plain member refused on each), checks
 * `/opg stats` on both, and waits until a refresh at 0.8x has recorded every threshold as below.
 */
async function subscribeBoth(w: World): Promise<Bot> {
  const bot = startBot(w);
  await bothReady(w, bot);

  // Telegram: an administrator subscribes the supergroup; a plain member's threshold is refused, the admin's accepted.
  const subscribed = await tgAsk(
    w,
    bot,
    messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts subscribe' }),
    { containing: 'Alerts are on in this chat' },
  );
  expect(subscribed.params.chat_id).toBe(supergroup.id);
  const refused = await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: bob, text: '/opg alerts add 7' }), {
    containing: 'Moderators only',
  });
  expect(text(refused)).not.toContain('Added');
  expect(
    w.tg.callsOf('getChatMember').some((c) => c.params.user_id === bob.id && c.params.chat_id === supergroup.id),
  ).toBe(true);
  const added = await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts add 7' }), {
    containing: 'Added a 7x threshold',
  });
  expect(text(added)).toMatch(/1x.*5x.*7x.*10x/s);
  // No cooldown on either platform: a repeat after the restart could not hide in a merged, later message.
  await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts cooldown 0' }), {
    containing: 'Cooldown off',
  });
  const stats = await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: bob, text: '/opg stats' }), {
    containing: 'OPG stats',
  });
  expect(stats.params.parse_mode).toBe('HTML');
  expect(text(stats)).toContain('$0.04123');
  expect(text(stats)).toContain('0.8x');
  expectNoBadText(text(stats));

  // Discord: a member without Manage Server is refused ephemerally; one with it subscribes the channel.
  const plain = await discordAsk(w, bot, w.discord.slash({ group: 'alerts', subcommand: 'subscribe' }));
  expect(plain.data?.flags).toBe(EPHEMERAL);
  expect(embedText(plain.data?.embeds?.[0])).toContain('Manage Server or Administrator');
  const plainAdd = await discordAsk(
    w,
    bot,
    w.discord.slash({ group: 'alerts', subcommand: 'add', options: [{ name: 'ratio', type: 10, value: 7 }] }),
  );
  expect(plainAdd.data?.flags).toBe(EPHEMERAL);
  expect(embedText(plainAdd.data?.embeds?.[0])).toContain('Moderators only');
  const mod = await discordAsk(
    w,
    bot,
    w.discord.slash({ group: 'alerts', subcommand: 'subscribe', permissions: MODERATOR_PERMISSIONS }),
  );
  expect(mod.data?.embeds?.[0]?.title).toBe('Alerts are on in this chat');
  expect(mod.data?.flags ?? 0).toBe(0);
  const cooldown = await discordAsk(
    w,
    bot,
    w.discord.slash({
      group: 'alerts',
      subcommand: 'cooldown',
      permissions: MODERATOR_PERMISSIONS,
      options: [{ name: 'minutes', type: 4, value: 0 }],
    }),
  );
  expect(cooldown.data?.embeds?.[0]?.title).toBe('Cooldown off');
  const discordStats = await discordAsk(w, bot, w.discord.slash({ subcommand: 'stats' }));
  const statsEmbed = discordStats.data?.embeds?.[0];
  expect(statsEmbed?.title).toBe('OPG stats');
  expect(statsEmbed?.fields.find((f: any) => f.name === 'Price').value).toContain('$0.04123');
  expect(statsEmbed?.fields.find((f: any) => f.name === 'Volume / market cap').value).toBe('0.8x');
  expect(discordStats.data?.allowed_mentions).toEqual({ parse: [] });

  // The first refresh after subscribing only records each threshold's side (below at 0.8x): nothing fires.
  await refreshes(w, 2, bot);
  const status = await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: bob, text: '/opg alerts' }), {
    containing: 'Alerts are on in this chat',
  });
  expect(count(text(status), 'ratio below')).toBe(4);
  const discordStatus = await discordAsk(w, bot, w.discord.slash({ group: 'alerts', subcommand: 'status' }));
  expect(count(embedText(discordStatus.data?.embeds?.[0]), 'ratio below')).toBe(3);
  expect(tgAlerts(w)).toHaveLength(0);
  expect(discordAlerts(w)).toHaveLength(0);
  return bot;
}

/** Checks the one alert each platform got: every threshold crossed named once, the figures, no mention. */
function expectOneAlertEach(w: World): void {
  const [tgAlert, ...tgMore] = tgAlerts(w);
  expect(tgMore).toHaveLength(0);
  expect(tgAlert!.params.chat_id).toBe(supergroup.id);
  const tgText = text(tgAlert!);
  expect(tgText).toContain('crossed 4 thresholds');
  for (const t of ['1x', '5x', '7x', '10x']) expect(count(tgText, `Rose to ${t} or more`)).toBe(1);
  expect(tgText).toContain('13.2x');
  expect(tgText).toContain('$528');
  expectNoBadText(tgText);
  expect(tgText, 'an alert mentions nobody').not.toMatch(/@|tg:\/\/user/);
  expect(tgAlert!.params.entities).toBeUndefined();

  const accepted = discordAlerts(w);
  const bodies = accepted.map(
    (r) => bodyJson(r) as { content?: string; embeds: Array<Record<string, any>>; allowed_mentions?: unknown },
  );
  // Every post (a retry of one in flight included) carries the same alert.
  expect(new Set(bodies.map((b) => JSON.stringify(b.embeds))).size).toBe(1);
  const body = bodies[0]!;
  expect(body.allowed_mentions).toEqual({ parse: [] });
  expect(body.content ?? '').not.toMatch(/@/);
  const embed = embedText(body.embeds[0]);
  expect(body.embeds[0]!.title).toBe('OPG volume / market cap crossed 3 thresholds');
  for (const t of ['1x', '5x', '10x']) expect(count(embed, `Rose to ${t} or more`)).toBe(1);
  expect(embed).not.toContain('Rose to 7x');
  expect(embed).toContain('13.2x');
}

describe('the bot on Telegram and Discord at once (npm start)', () => {
  it(
    'posts one alert per threshold crossed on each platform, never mentioning anyone, and repeats nothing after ' +
      'SIGTERM and a restart',
    { timeout: 60_000 },
    async () => {
      const w = await world();
      const bot = await subscribeBoth(w);

      w.cg.setMarkets([marketItemWithRatio(13.2)]);
      await until(
        'an alert on both platforms',
        () => (tgAlerts(w).length > 0 && discordAlerts(w).length > 0 ? true : undefined),
        bot,
      );
      // Later refreshes at 13.2x find every threshold already above: nothing more.
      await refreshes(w, 2, bot);
      expectOneAlertEach(w);
      expect(discordAlerts(w)).toHaveLength(1);

      bot.child.kill('SIGTERM');
      const [code] = await bot.exited;
      expect(code).toBe(0);
      expect(bot.output()).not.toContain(DISCORD_TOKEN);
      expect(bot.output()).not.toContain(w.tg.token);
      expect(bot.repeatedKeyLines()).toEqual([]);

      // The same database, the ratio still at 13.2x.
      const again = startBot(w);
      await w.discord.waitForSession(2);
      const status = await tgAsk(w, again, messageUpdate({ chat: supergroup, from: bob, text: '/opg alerts' }), {
        containing: 'Alerts are on in this chat',
      });
      expect(count(text(status), 'ratio above')).toBe(4);
      await refreshes(w, 3, again);
      expect(tgAlerts(w)).toHaveLength(1);
      expect(discordAlerts(w)).toHaveLength(1);
      again.child.kill('SIGTERM');
      expect((await again.exited)[0]).toBe(0);
      expect(again.repeatedKeyLines()).toEqual([]);
    },
  );

  it(
    'delivers the alert that was in flight when the process was killed, once, and repeats none a platform had accepted',
    { timeout: 60_000 },
    async () => {
      const w = await world();
      const bot = await subscribeBoth(w);

      // Discord takes the alert and never answers: it is in flight when the process dies.
      let hung = 0;
      w.discord.failNext(isChannelPost, () => void (hung += 1));
      w.cg.setMarkets([marketItemWithRatio(13.2)]);
      await until(
        'the Discord alert in flight and the Telegram one sent',
        () => (hung === 1 && tgAlerts(w).length === 1 ? true : undefined),
        bot,
      );
      // Telegram's answer must have been recorded as accepted before the kill, so the database is read for it.
      const outbox = sentOutboxIn(w.databasePath);
      onTestFinished(() => outbox.close());
      const sentOn = outbox.count;
      await until('the Telegram alert marked sent', () => (sentOn('telegram') === 1 ? true : undefined), bot);
      expect(sentOn('discord')).toBe(0);
      bot.child.kill('SIGKILL');
      await bot.exited;

      const again = startBot(w);
      await until(
        'the alert in flight delivered after the restart',
        () => (discordAlerts(w).length === 2 ? true : undefined),
        again,
        15_000,
      );
      await tgAsk(w, again, messageUpdate({ chat: supergroup, from: bob, text: '/opg alerts' }), {
        containing: 'Alerts are on in this chat',
      });
      await refreshes(w, 3, again);
      await until('the Discord alert marked sent', () => (sentOn('discord') === 1 ? true : undefined), again);
      expectOneAlertEach(w);
      // One post the platform never answered, one it accepted: the channel shows the alert once.
      expect(discordAlerts(w)).toHaveLength(2);
      again.child.kill('SIGTERM');
      expect((await again.exited)[0]).toBe(0);
      expect(again.repeatedKeyLines()).toEqual([]);
    },
  );

  it(
    'pauses the alerts of a Discord channel the bot lost, and logs it with one "part" per line',
    { timeout: 60_000 },
    async () => {
      const w = await world();
      const bot = await subscribeBoth(w);

      // Discord answers the alert as it answers a channel that no longer exists.
      w.discord.failNext(isChannelPost, (_req, res) => sendJson(res, 404, { message: 'Unknown Channel', code: 10003 }));
      w.cg.setMarkets([marketItemWithRatio(13.2)]);
      const paused = await until(
        "the dispatcher's line about the paused subscription",
        () =>
          bot
            .output()
            .split('\n')
            .find((l) => l.includes('alert subscription paused')),
        bot,
      );
      expect(JSON.parse(paused)).toMatchObject({ part: 'dispatcher', platform: 'discord' });
      expect(bot.repeatedKeyLines()).toEqual([]);
      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
    },
  );
});
