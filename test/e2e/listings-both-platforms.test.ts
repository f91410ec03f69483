/**
 * New-listing alerts with the bot as `npm start` runs it (`src/main.ts`, a real process) against loopback
 * stand-ins for the Telegram Bot API, Discord's REST and gateway, and CoinGecko (markets and tickers), with a
 * real SQLite file. Tickers are read every second (`MARKETS_CRON`, node-cron's six-field form) so the test
 * waits on readings, not hours. A moderator subscribes two Telegram groups (one with listing alerts turned off)
 * and two Discord channels; `/opg markets` answers on both platforms; a venue appearing brings one alert to each
 * chat that wants them; a restart, with yet another venue already listed when it comes back, announces nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  bothReady,
  DISCORD_TEST_TOKEN,
  discordAsk,
  startBot,
  startWorld,
  tgAsk,
  tgText as text,
  until,
  type BotProcess as Bot,
  type World,
} from '../helpers/bot-process.js';
import { tickerItem } from '../helpers/coingecko-server.js';
import type { RecordedRequest } from '../helpers/http-server.js';
import { bodyJson, CHANNEL_ID, MODERATOR_PERMISSIONS } from '../helpers/discord-server.js';
import { alice, basicGroup, bob, messageUpdate, supergroup } from '../helpers/telegram-updates.js';

const binance = tickerItem('binance', 'Binance');
const kraken = tickerItem('kraken', 'Kraken', {
  target: 'USD',
  converted_volume: { usd: 40_000 },
  cost_to_move_up_usd: 2_000,
  cost_to_move_down_usd: 3_000,
});
const bitget = tickerItem('bitget', 'Bitget', { converted_volume: { usd: 20_000 } });
const SECOND_CHANNEL_ID = '800000000000000020';

async function world(): Promise<World> {
  const w = await startWorld({
    marketChart: false,
    env: { REFRESH_CRON: '0 0 1 1 *', MARKETS_CRON: '* * * * * *' },
  });
  w.cg.setTickers([binance]);
  w.tg.setMember(supergroup.id, alice.id, 'administrator');
  w.tg.setMember(basicGroup.id, alice.id, 'administrator');
  w.discord.setChannel(SECOND_CHANNEL_ID);
  return w;
}

/** Resolves once the bot has read the tickers `n` more times. */
async function readings(w: World, n: number, bot: Bot): Promise<void> {
  const target = w.cg.tickerCalls() + n;
  await until(`${n} tickers readings`, () => (w.cg.tickerCalls() >= target ? true : undefined), bot);
}

const tgListings = (w: World) => w.tg.callsOf('sendMessage').filter((c) => text(c).includes('OPG now trades on'));
/** The channel a message was posted to, or null for any other request. */
const postedTo = (r: RecordedRequest) =>
  r.method === 'POST' ? (/^\/api\/v10\/channels\/(\d+)\/messages$/.exec(r.url)?.[1] ?? null) : null;
const discordListings = (w: World) =>
  w.discord.rest.requests
    .filter((r) => postedTo(r) !== null)
    .filter((r) => JSON.stringify(bodyJson(r)).includes('OPG now trades on'));

describe('new-listing alerts on Telegram and Discord (npm start)', () => {
  it(
    'posts one listing alert per subscribed chat on each platform when a venue appears, and none after a restart',
    { timeout: 90_000 },
    async () => {
      const w = await world();
      const bot = startBot(w);
      await bothReady(w, bot);

      await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts subscribe' }), {
        containing: 'Alerts are on in this chat',
      });
      const refused = await tgAsk(
        w,
        bot,
        messageUpdate({ chat: supergroup, from: bob, text: '/opg alerts listings off' }),
        { containing: 'Moderators only' },
      );
      expect(text(refused)).not.toContain('Listing alerts off');
      const subscribed = await discordAsk(
        w,
        bot,
        w.discord.slash({ group: 'alerts', subcommand: 'subscribe', permissions: MODERATOR_PERMISSIONS }),
      );
      expect(subscribed.data.embeds?.[0]?.title).toBe('Alerts are on in this chat');
      // A second chat on each platform: the Telegram one wants ratio alerts only.
      await tgAsk(w, bot, messageUpdate({ chat: basicGroup, from: alice, text: '/opg alerts subscribe' }), {
        containing: 'Alerts are on in this chat',
      });
      await tgAsk(w, bot, messageUpdate({ chat: basicGroup, from: alice, text: '/opg alerts listings off' }), {
        containing: 'Listing alerts off',
      });
      const second = await discordAsk(
        w,
        bot,
        w.discord.slash({
          group: 'alerts',
          subcommand: 'subscribe',
          permissions: MODERATOR_PERMISSIONS,
          // Asked in the first channel, for the second: the channel option, which checks the bot can post there.
          options: [{ name: 'channel', type: 7, value: SECOND_CHANNEL_ID }],
        }),
      );
      expect(second.data.embeds?.[0]?.title).toBe('Alerts are on in the chosen channel');

      // Both front ends answer `markets` from the stored reading.
      await readings(w, 1, bot);
      const tgMarkets = await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: bob, text: '/opg markets' }), {
        containing: 'OPG markets',
      });
      expect(text(tgMarkets)).toContain('1 market on 1 venue');
      expect(text(tgMarkets)).toContain('CoinGecko tickers · as of');
      const dcMarkets = await discordAsk(w, bot, w.discord.slash({ subcommand: 'markets' }));
      expect(dcMarkets.data.embeds?.[0]?.title).toBe('OPG markets');
      expect(JSON.stringify(dcMarkets.data.embeds?.[0])).toContain('Binance: $600K (100.00%)');

      await readings(w, 2, bot);
      expect(tgListings(w)).toHaveLength(0);
      expect(discordListings(w)).toHaveLength(0);

      w.cg.setTickers([binance, kraken]);
      await until(
        'a listing alert on both platforms',
        () => (tgListings(w).length > 0 && discordListings(w).length > 0 ? true : undefined),
        bot,
      );
      await readings(w, 3, bot);
      // One per chat that wants them: the supergroup, not the group that turned them off; both channels.
      expect(tgListings(w)).toHaveLength(1);
      expect(discordListings(w).map(postedTo).sort()).toEqual([CHANNEL_ID, SECOND_CHANNEL_ID]);
      const tgAlert = tgListings(w)[0]!;
      expect(tgAlert.params.chat_id).toBe(supergroup.id);
      // Kraken: $40,000 of $640,000 = 6.25%; depth 2,000 + 3,000.
      expect(text(tgAlert)).toContain('Kraken: OPG/USD, 24h volume $40K (6.25% of all), ±2% depth $5K');
      const embed = (bodyJson(discordListings(w)[0]!) as { embeds: Array<Record<string, any>> }).embeds[0]!;
      expect(embed.title).toBe('OPG now trades on Kraken');

      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
      expect(bot.repeatedKeyLines()).toEqual([]);

      // Bitget lists while the bot is down: the first reading after start records it and announces nothing.
      w.cg.setTickers([binance, kraken, bitget]);
      const again = startBot(w);
      await w.discord.waitForSession(2);
      await readings(w, 3, again);
      const after = await tgAsk(w, again, messageUpdate({ chat: supergroup, from: bob, text: '/opg markets' }), {
        containing: 'OPG markets',
      });
      expect(text(after)).toContain('3 markets on 3 venues');
      expect(tgListings(w)).toHaveLength(1);
      expect(discordListings(w)).toHaveLength(2);
      expect(again.output()).not.toContain(DISCORD_TEST_TOKEN);
      again.child.kill('SIGTERM');
      expect((await again.exited)[0]).toBe(0);
      expect(again.repeatedKeyLines()).toEqual([]);
    },
  );
});
