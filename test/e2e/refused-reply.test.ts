/**
 * A command reply the platform refuses with its own 400, in the process `npm start` runs: the person still
 * gets the figures (the same reply as plain text), the refusal is logged once per platform, and nothing is
 * sent again. Its own test, because the platform-contract run asserts that no line is logged at error level.
 */
import { describe, expect, it } from 'vitest';
import { bodyJson } from '../helpers/discord-server.js';
import { sendJson, type RecordedRequest } from '../helpers/http-server.js';
import { bothReady, startBot, startWorld, until } from '../helpers/bot-process.js';
import { bob, messageUpdate, supergroup } from '../helpers/telegram-updates.js';
import { expectNoBadText } from '../helpers/expect.js';

/** Discord's answer to a message it will not take: 50035, naming the field. */
const INVALID_FORM_BODY = {
  code: 50035,
  message: 'Invalid Form Body',
  errors: {
    data: {
      embeds: {
        '0': { title: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 256 or fewer in length.' }] } },
      },
    },
  },
};
const TELEGRAM_REFUSAL = 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 3';

describe('a command reply the platform refuses (npm start)', () => {
  it(
    'is answered again as plain text with the figures on Telegram and Discord, logged once each, never repeated',
    { timeout: 60_000 },
    async () => {
      const w = await startWorld();
      const bot = startBot(w);
      await bothReady(w, bot);
      await until('a first CoinGecko fetch', () => (w.cg.marketCalls() > 0 ? true : undefined), bot);

      // Telegram: the first reply to the command gets Telegram's own 400.
      w.tg.failNext('sendMessage', { status: 400, description: TELEGRAM_REFUSAL });
      const tgSince = w.tg.calls.length;
      w.tg.push(messageUpdate({ chat: supergroup, from: bob, text: '/opg stats' }));
      const tgSends = () => w.tg.calls.slice(tgSince).filter((c) => c.method === 'sendMessage');
      const [refused, plain] = await until(
        'the plain-text answer on Telegram',
        () => (tgSends().length >= 2 ? tgSends() : undefined),
        bot,
        20_000,
      );
      expect(refused!.params.parse_mode).toBe('HTML');
      const text = String(plain!.params.text);
      expect(text).toContain('OPG stats');
      expect(text).toContain('Price: $');
      expectNoBadText(text);
      expect(plain!.params.parse_mode).toBeUndefined();
      expect(plain!.params.chat_id).toBe(supergroup.id);

      // Discord: the interaction's first answer (at once or after deferring) gets Discord's own 400.
      const payload = w.discord.slash({ subcommand: 'stats' });
      const { id, token } = { id: String(payload.id), token: String(payload.token) };
      const ofInteraction = (r: RecordedRequest) => r.url.includes(`/interactions/${id}/`) || r.url.includes(token);
      const carriesMessage = (r: RecordedRequest) =>
        ofInteraction(r) &&
        ((r.method === 'POST' && r.url.includes('/callback') && bodyJson(r).type === 4) ||
          (r.method === 'PATCH' && r.url.includes('@original')));
      let discordRefused = 0;
      w.discord.failNext(carriesMessage, (_req, res) => {
        discordRefused += 1;
        sendJson(res, 400, INVALID_FORM_BODY);
      });
      const dcSince = w.discord.rest.requests.length;
      w.discord.interact(payload);
      const dcMessages = () => w.discord.rest.requests.slice(dcSince).filter(carriesMessage);
      const [, dcPlain] = await until(
        'the plain-text answer on Discord',
        () => (dcMessages().length >= 2 ? dcMessages() : undefined),
        bot,
        20_000,
      );
      const body = bodyJson(dcPlain!) as { data?: Record<string, unknown> } & Record<string, unknown>;
      const message = body.data ?? body;
      expect(String(message.content)).toContain('OPG stats');
      expect(String(message.content)).toContain('Price: $');
      expectNoBadText(String(message.content));
      expect(message.embeds).toEqual([]);

      // Nothing more goes out for either, however long one waits.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(tgSends()).toHaveLength(2);
      expect(discordRefused).toBe(1);
      expect(dcMessages()).toHaveLength(2);
      // Every warning or error of the two front ends (the world has no OpenGradient node: the indexer warns).
      const problems = bot
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; part?: string })
        .filter((l) => l.level >= 40 && (l.part === 'telegram' || l.part === 'discord'))
        .map((l) => JSON.stringify(l));
      expect(problems, 'one line per refusal').toHaveLength(2);
      expect(problems.find((l) => l.includes('Telegram refused a reply'))).toContain("can't parse entities");
      expect(problems.find((l) => l.includes('Discord refused an answer'))).toContain('BASE_TYPE_MAX_LENGTH');
      expect(bot.repeatedKeyLines()).toEqual([]);
      expect(w.tg.refusals).toEqual([]);
      expect(w.discord.refusals).toEqual([]);
      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
    },
  );
});
