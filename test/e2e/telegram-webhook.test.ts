import { describe, expect, it } from 'vitest';
import { startBot, startWorld, until } from '../helpers/bot-process.js';
import { freePort } from '../helpers/ports.js';
import { message, supergroup } from '../helpers/telegram-updates.js';

const SECRET = 'Hook_secret_5512';

describe('npm start with TELEGRAM_WEBHOOK_URL', () => {
  it('sets the webhook with its secret, answers updates posted to its endpoint once each, refuses a wrong secret, and never polls', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/telegram/webhook`;
    const w = await startWorld({
      chainBlocks: 30,
      env: { HTTP_PORT: String(port), TELEGRAM_WEBHOOK_URL: url, TELEGRAM_WEBHOOK_SECRET: SECRET },
    });
    const bot = startBot(w);
    const hook = await until('the webhook set', () => w.tg.webhook() ?? undefined, bot, 15_000);
    expect(hook).toEqual({ url, secret: SECRET });
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
    expect(w.tg.callsOf('getUpdates')).toHaveLength(0);

    bot.child.kill('SIGTERM');
    expect((await bot.exited)[0]).toBe(0);
    expect(bot.output()).not.toContain(SECRET);
    expect(bot.errorLines()).toEqual([]);
    expect(bot.repeatedKeyLines()).toEqual([]);
  });
});
