import { describe, expect, it } from 'vitest';
import { startBot, startWorld, until } from '../helpers/bot-process.js';
import { freePort } from '../helpers/ports.js';
import { bob, callbackUpdate, message, supergroup } from '../helpers/telegram-updates.js';

const SECRET = 'Hook_secret_5512';

/** The stand-ins, and the environment of a bot serving its Telegram webhook on a free loopback port. */
async function webhookWorld() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/telegram/webhook`;
  const w = await startWorld({
    chainBlocks: 30,
    env: { HTTP_PORT: String(port), TELEGRAM_WEBHOOK_URL: url, TELEGRAM_WEBHOOK_SECRET: SECRET },
  });
  return { port, url, w };
}

describe('npm start with TELEGRAM_WEBHOOK_URL', () => {
  it(
    'sets the webhook with its secret, answers updates posted to its endpoint once each, refuses a wrong secret, ' +
      'and never polls',
    async () => {
      const { url, w } = await webhookWorld();
      const bot = startBot(w);
      const hook = await until('the webhook set', () => w.tg.webhook() ?? undefined, bot, 15_000);
      expect(hook).toEqual({ url, secret: SECRET });
      // The leader sets the command menu by webhook too, as it does before long polling.
      await until('the command menu', () => w.tg.callsOf('setMyCommands')[0], bot);
      await w.discord.waitForSession();

      const stats = { message: message({ chat: supergroup, text: '/opg stats' }) };
      expect((await w.tg.postUpdate(stats, { secret: 'not_the_secret' })).status).toBe(401);
      expect((await w.tg.postUpdate(stats, { secret: null })).status).toBe(401);
      expect(w.tg.callsOf('sendMessage')).toHaveLength(0);

      const first = await w.tg.postUpdate(stats);
      expect(first.status).toBe(200);
      const reply = await until('the stats reply', () => w.tg.callsOf('sendMessage')[0], bot);
      expect(String(reply.params.text)).toContain('OPG stats');
      // Telegram re-sends an update it saw no 200 for: it runs once.
      expect((await w.tg.postUpdate({ ...stats, update_id: first.updateId })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(w.tg.callsOf('sendMessage')).toHaveLength(1);

      // A Refresh tap, then Telegram re-sends it: answered and edited once (Telegram refuses a second answer).
      const shown = reply.result as { message_id: number; date: number; chat: unknown; text: string };
      const tap = callbackUpdate({ from: bob, message: shown, data: 'refresh:stats' });
      const tapped = await w.tg.postUpdate(tap);
      expect(tapped.status).toBe(200);
      await until('the Refresh edit', () => w.tg.callsOf('editMessageText')[0], bot);
      expect((await w.tg.postUpdate({ ...tap, update_id: tapped.updateId })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(w.tg.callsOf('answerCallbackQuery')).toHaveLength(1);
      expect(w.tg.callsOf('editMessageText')).toHaveLength(1);
      expect(w.tg.callsOf('sendMessage')).toHaveLength(1);
      expect(w.tg.callsOf('getUpdates')).toHaveLength(0);

      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
      expect(bot.output()).not.toContain(SECRET);
      expect(bot.errorLines()).toEqual([]);
      expect(bot.repeatedKeyLines()).toEqual([]);
    },
    40_000,
  );

  it(
    'retries a setWebhook Telegram refuses until it takes it, reading starting on /readyz meanwhile, then ' + 'answers',
    async () => {
      const { port, url, w } = await webhookWorld();
      // Telegram checks the URL when it is set: a name that does not resolve yet is refused.
      w.tg.failNext('setWebhook', { status: 400, description: 'Bad Request: bad webhook: Failed to resolve host' }, 3);
      const bot = startBot(w);
      const telegramCheck = async (route = '/readyz') => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}${route}`);
          const body = (await res.json()) as { checks: Array<{ name: string; state: string }> };
          return body.checks.find((c) => c.name === 'telegram')?.state;
        } catch {
          return undefined;
        }
      };
      await until(
        'a refused setWebhook',
        () => (w.tg.callsOf('setWebhook').length >= 2 ? true : undefined),
        bot,
        15_000,
      );
      expect(await telegramCheck()).toBe('starting');
      // The load balancer's check waits for the webhook too: no update is routed here before it is set.
      expect(await telegramCheck('/readyz/webhook')).toBe('starting');
      expect(w.tg.webhook()).toBeNull();

      const hook = await until('the webhook set', () => w.tg.webhook() ?? undefined, bot, 15_000);
      expect(hook).toEqual({ url, secret: SECRET });
      expect(w.tg.callsOf('setWebhook')).toHaveLength(4);
      expect(bot.output().split('setWebhook failed; trying again').length - 1).toBe(3);
      await until(
        'telegram connected on /readyz',
        async () => ((await telegramCheck()) === 'connected' ? true : undefined),
        bot,
      );
      expect(w.tg.callsOf('setMyCommands')).toHaveLength(1);
      expect(await telegramCheck('/readyz/webhook')).toBe('connected');

      expect((await w.tg.postUpdate({ message: message({ chat: supergroup, text: '/opg stats' }) })).status).toBe(200);
      const reply = await until('the stats reply', () => w.tg.callsOf('sendMessage')[0], bot);
      expect(String(reply.params.text)).toContain('OPG stats');

      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
      expect(bot.output()).not.toContain(SECRET);
      expect(bot.errorLines()).toEqual([]);
    },
    40_000,
  );
});
