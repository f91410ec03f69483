/**
 * Discord's `/gateway/bot` down while the bot starts (a process as `npm start` runs it, on the SQLite file,
 * so it leads): the login is retried in the background, the leader keeps leading, Telegram keeps answering
 * commands and posting alerts, `/readyz` says Discord is still `starting`, and the gateway connects once the
 * stand-in answers again. A token Discord refuses (401) is the one failure no retry mends: the process stops
 * and exits 1, so a process manager restarts it (and, on PostgreSQL, another instance leads meanwhile).
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DISCORD_TEST_TOKEN, discordAsk, startBot, startWorld, until, type World } from '../helpers/bot-process.js';
import { marketItemWithRatio } from '../helpers/coingecko-server.js';
import { sendJson, type RecordedRequest } from '../helpers/http-server.js';
import { freePort, roleOn } from '../helpers/ports.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { alice, messageUpdate, supergroup } from '../helpers/telegram-updates.js';

const isGatewayBot = (r: RecordedRequest) => r.method === 'GET' && r.url === '/api/v10/gateway/bot';

/** `/gateway/bot` answers `status` until the returned `recover()` is called. */
function gatewayDown(w: World, status: number, body: Record<string, unknown>): { recover(): void } {
  let down = true;
  const match = (r: RecordedRequest) => down && isGatewayBot(r);
  const fail = (_req: RecordedRequest, res: ServerResponse) => {
    w.discord.failNext(match, fail);
    sendJson(res, status, body);
  };
  w.discord.failNext(match, fail);
  return { recover: () => (down = false) };
}

async function readyz(port: number): Promise<{ http: number; checks: Array<{ name: string; state: string }> }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { http: res.status, ...((await res.json()) as { checks: Array<{ name: string; state: string }> }) };
}

const text = (params: Record<string, unknown>) => String(params.text ?? '');

describe("npm start while Discord's /gateway/bot is down", () => {
  it(
    'keeps leading: Telegram answers and alerts, Discord reads starting and connects once /gateway/bot answers again',
    { timeout: 60_000 },
    async () => {
      const port = await freePort();
      const w = await startWorld({
        marketChart: false,
        chainBlocks: 30,
        env: { HTTP_PORT: String(port), REFRESH_CRON: '* * * * * *' },
      });
      w.cg.setMarkets([marketItemWithRatio(0.8)]);
      w.tg.setMember(supergroup.id, alice.id, 'administrator');
      const outage = gatewayDown(w, 503, { message: '503: Service Unavailable', code: 0 });
      const bot = startBot(w);

      const ask = async (words: string, expected: string) => {
        const since = w.tg.calls.length;
        w.tg.push(messageUpdate({ chat: supergroup, from: alice, text: words }));
        return until(
          `a reply containing '${expected}'`,
          () => w.tg.calls.slice(since).find((c) => c.method === 'sendMessage' && text(c.params).includes(expected)),
          bot,
          15_000,
        );
      };
      await ask('/opg stats', 'OPG stats');
      await ask('/opg alerts subscribe', 'Alerts are on in this chat');
      // Two refreshes at 0.8x record every threshold as below; then the ratio crosses them.
      const calls = w.cg.marketCalls();
      await until('two refreshes', () => (w.cg.marketCalls() >= calls + 2 ? true : undefined), bot);
      w.cg.setMarkets([marketItemWithRatio(13.2)]);
      await until(
        'a Telegram alert',
        () =>
          w.tg.callsOf('sendMessage').find((c) => text(c.params).includes('OPG volume / market cap crossed'))
            ? true
            : undefined,
        bot,
        15_000,
      );
      // Logins were tried more than once and none connected; the process leads and is not ready for Discord.
      await until(
        'a second login',
        () => (bot.output().includes('Discord login failed; trying again') ? true : undefined),
        bot,
      );
      expect(w.discord.identifies).toBe(0);
      expect(bot.child.exitCode).toBeNull();
      expect(bot.output()).toContain('this instance runs the leader-only work');
      const during = await readyz(port);
      expect(during.http).toBe(503);
      expect(during.checks.find((c) => c.name === 'discord')?.state).toBe('starting');
      expect(during.checks.find((c) => c.name === 'telegram')?.state).toBe('connected');
      const failedTries = w.discord.rest.requests.filter(isGatewayBot).length;
      expect(failedTries).toBeGreaterThanOrEqual(2);

      outage.recover();
      await Promise.race([
        w.discord.waitForSession(),
        bot.exited.then(() => Promise.reject(new Error(`the bot exited\n${bot.output()}`))),
      ]);
      await until(
        '/readyz 200 with Discord connected',
        async () => {
          const r = await readyz(port);
          return r.http === 200 && r.checks.find((c) => c.name === 'discord')?.state === 'connected' ? r : undefined;
        },
        bot,
      );
      const answer = await discordAsk(w, bot, w.discord.slash({ subcommand: 'stats' }));
      expect(answer.data.embeds?.[0]?.title).toBe('OPG stats');

      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
      expect(bot.output()).not.toContain(DISCORD_TEST_TOKEN);
      expect(bot.errorLines()).toEqual([]);
    },
  );

  it(
    'stops and exits 1 when Discord refuses the token (401), so a process manager restarts it',
    { timeout: 30_000 },
    async () => {
      const w = await startWorld();
      gatewayDown(w, 401, { message: '401: Unauthorized', code: 0 });
      const bot = startBot(w);
      const [code, signal] = await bot.exited;
      expect({ code, signal }).toEqual({ code: 1, signal: null });
      expect(bot.output()).toContain('Discord refused the bot token');
      expect(bot.output()).toContain('leader-only work stopped');
      // Refused once: a token Discord does not know is not tried again.
      expect(w.discord.rest.requests.filter(isGatewayBot)).toHaveLength(1);
      expect(bot.output()).not.toContain(DISCORD_TEST_TOKEN);
    },
  );

  it(
    'on PostgreSQL, the leader keeps the lead through the outage and the standby stands by: one leader all along',
    { timeout: 90_000 },
    async ({ skip }) => {
      skip(!TEST_DATABASE_URL, NO_SERVER);
      const url = await emptyServerDatabase();
      const w = await startWorld({ chainBlocks: 30, env: { DATABASE_URL: url, LEADER_TAKEOVER_SECONDS: '6' } });
      const outage = gatewayDown(w, 503, { message: '503: Service Unavailable', code: 0 });
      const start = async () => {
        const port = await freePort();
        return { port, bot: startBot({ ...w, env: { ...w.env, HTTP_PORT: String(port) } }) };
      };
      const a = await start();
      await until(
        'the first instance leading',
        async () => ((await roleOn(a.port)) === 'leader' ? true : undefined),
        a.bot,
        30_000,
      );
      const b = await start();
      await until(
        'the second standing by',
        async () => ((await roleOn(b.port)) === 'standby' ? true : undefined),
        b.bot,
        30_000,
      );

      // Four failed logins (1 s, 2 s, 4 s apart): longer than the takeover time (6 s) without a change of role.
      await until(
        'four failed logins',
        () => (a.bot.output().split('Discord login failed; trying again').length - 1 >= 4 ? true : undefined),
        a.bot,
        30_000,
      );
      expect([await roleOn(a.port), await roleOn(b.port)]).toEqual(['leader', 'standby']);
      expect([a.bot.child.exitCode, b.bot.child.exitCode]).toEqual([null, null]);
      expect(b.bot.output()).not.toContain('Discord login failed');
      // The leader polls Telegram and answers.
      const since = w.tg.calls.length;
      w.tg.push(messageUpdate({ chat: supergroup, from: alice, text: '/opg stats' }));
      await until(
        'the stats reply',
        () => w.tg.calls.slice(since).find((c) => c.method === 'sendMessage' && text(c.params).includes('OPG stats')),
        a.bot,
        15_000,
      );

      outage.recover();
      await w.discord.waitForSession();
      expect(w.discord.identifies).toBe(1);
      expect(await roleOn(a.port)).toBe('leader');
      for (const p of [b, a]) {
        p.bot.child.kill('SIGTERM');
        expect((await p.bot.exited)[0]).toBe(0);
        expect(p.bot.errorLines()).toEqual([]);
      }
    },
  );
});
