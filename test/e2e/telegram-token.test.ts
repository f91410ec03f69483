/**
 * A Telegram bot token the Bot API refuses (a typo, a revoked token) is not something a retry can mend: the
 * process says so once and exits 1, by long polling and by webhook alike, so the operator sees it at once and a
 * process manager's restart policy applies. The token never appears in the output.
 */
import { describe, expect, it } from 'vitest';
import { startBot, startWorld } from '../helpers/bot-process.js';
import { freePort } from '../helpers/ports.js';

const WRONG_TOKEN = '42:fake-token-the-stand-in-refuses';

describe('npm start with a Telegram token the Bot API refuses', () => {
  it.each([
    ['long polling', async () => ({})],
    [
      'webhook',
      async () => {
        const port = await freePort();
        return {
          HTTP_PORT: String(port),
          TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook`,
          TELEGRAM_WEBHOOK_SECRET: 'Hook_secret_5512',
        };
      },
    ],
  ] as const)('by %s: stops and exits 1, saying which token was refused', { timeout: 30_000 }, async (_, env) => {
    const w = await startWorld({ env: { ...(await env()), TELEGRAM_BOT_TOKEN: WRONG_TOKEN } });
    const bot = startBot(w);
    const [code, signal] = await bot.exited;
    expect({ code, signal }).toEqual({ code: 1, signal: null });
    // Said once, at fatal level: the Bot API's 401 is final, so nothing tries again.
    expect(bot.output().split('Telegram refused the bot token (TELEGRAM_BOT_TOKEN); stopping')).toHaveLength(2);
    expect(bot.errorLines().filter((l) => l.includes('"level":60'))).toHaveLength(1);
    expect(bot.output()).not.toContain(WRONG_TOKEN);
    expect(bot.output()).not.toContain('fake-token');
  });
});
