/**
 * `npm start` on a PostgreSQL server that goes away and comes back. The bot reaches the real server through a
 * loopback TCP proxy the test cuts (every connection closed, new ones refused) and restores, so the server
 * itself, shared with other tests, keeps running. While it is gone the instance steps down to standby, and
 * `/readyz` must say so: 503 with the store check `unreachable`, not 200 because a standby waits for no
 * leader-only connection; and as a standby it exports no outbox gauge. Once the server answers again the
 * instance leads again, `/readyz` is 200 and the outbox is counted again.
 */
import { describe, expect, it } from 'vitest';
import { leaderTimings } from '../../src/db/leader-elector.js';
import { startBot, startWorld, type BotProcess } from '../helpers/bot-process.js';
import { freePort } from '../helpers/ports.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { proxyToDatabase } from '../helpers/tcp-proxy.js';

const TAKEOVER_SECONDS = 6;

interface Readiness {
  status: number;
  body: {
    status: string;
    role?: string;
    checks: Array<{ name: string; ok: boolean; state: string; detail?: string }>;
  };
}

async function readyz(port: number): Promise<Readiness> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: (await res.json()) as Readiness['body'] };
}

/** Polls /readyz until `wanted` holds, or fails with the last answer and the process's output. */
async function readyzUntil(
  what: string,
  port: number,
  wanted: (r: Readiness) => boolean,
  bot: BotProcess,
  timeoutMs: number,
): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs;
  let last: Readiness | string = 'no answer';
  for (;;) {
    try {
      last = await readyz(port);
      if (wanted(last)) return last;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; last /readyz: ${JSON.stringify(last)}\n` +
          `--- output ---\n${bot.output().slice(-4000)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A world for one instance by Telegram webhook on a fresh server database reached through a TCP proxy the test
 * can cut; `env` adds to it.
 */
async function webhookWorldBehindProxy(env: Record<string, string> = {}) {
  const { proxy, url } = await proxyToDatabase(await emptyServerDatabase());
  const port = await freePort();
  const w = await startWorld({
    chainBlocks: 30,
    env: {
      DATABASE_URL: url,
      LEADER_TAKEOVER_SECONDS: String(TAKEOVER_SECONDS),
      HTTP_PORT: String(port),
      TELEGRAM_WEBHOOK_URL: 'https://opg-bot.example.org/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: 'Hook_secret_7781',
      ...env,
    },
  });
  return { proxy, port, w };
}

const checksOf = (r: Readiness) => Object.fromEntries(r.body.checks.map((c) => [c.name, c.state]));

describe('npm start on PostgreSQL when the server goes away', () => {
  it('answers /readyz 503 with the store unreachable while the server is gone, and 200 again once it answers', async ({
    skip,
  }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const { proxy, port, w } = await webhookWorldBehindProxy({ REFRESH_CRON: '* * * * * *' });
    const bot = startBot(w);

    const asLeader = (r: Readiness) => r.status === 200 && r.body.role === 'leader';
    const ready = await readyzUntil('ready as leader', port, asLeader, bot, 30_000);
    expect(checksOf(ready)).toEqual({ store: 'open', telegram: 'connected', discord: 'connected', market: 'fresh' });

    proxy.cut();
    const down = await readyzUntil('503 with the store unreachable', port, (r) => r.status === 503, bot, 10_000);
    expect(down.body.status).toBe('unavailable');
    const store = down.body.checks.find((c) => c.name === 'store')!;
    expect(store).toMatchObject({ ok: false, state: 'unreachable' });
    expect(store.detail).toContain(`127.0.0.1:${proxy.port}`);
    expect(store.detail).toContain('does not answer');
    // Every other check still passes: before this fix, a standby answered 200 here while nobody led.
    await readyzUntil('the step-down to standby', port, (r) => r.body.role === 'standby', bot, 10_000);
    const standby = await readyz(port);
    expect(standby.status).toBe(503);
    expect(checksOf(standby)).toEqual({
      store: 'unreachable',
      telegram: 'connected',
      discord: 'on-leader',
      market: 'fresh',
    });
    // A standby exports no outbox gauge (only the leader delivers, so only it reports the backlog).
    const pendingLines = async () =>
      (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith('opg_alert_outbox_pending'));
    expect(await pendingLines()).toEqual([]);
    // It stays unready for as long as the server is gone, through the elector's retries.
    await new Promise((r) => setTimeout(r, 3 * leaderTimings(TAKEOVER_SECONDS).retryMs));
    expect((await readyz(port)).status).toBe(503);

    proxy.restore();
    const back = await readyzUntil('200 as leader once the server answers', port, asLeader, bot, 30_000);
    expect(checksOf(back)).toEqual({ store: 'open', telegram: 'connected', discord: 'connected', market: 'fresh' });
    // Leading again, it counts the outbox again.
    const deadline = Date.now() + 10_000;
    while ((await pendingLines()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await pendingLines()).sort()).toEqual([
      'opg_alert_outbox_pending{platform="discord"} 0',
      'opg_alert_outbox_pending{platform="telegram"} 0',
    ]);

    bot.child.kill('SIGTERM');
    expect((await bot.exited)[0]).toBe(0);
    expect(bot.output()).not.toContain('Hook_secret_7781');
  }, 90_000);

  it(
    'a leader whose setWebhook Telegram keeps refusing reads starting, and once it steps down reads as any ' +
      'webhook server again',
    async ({ skip }) => {
      skip(!TEST_DATABASE_URL, NO_SERVER);
      const { proxy, port, w } = await webhookWorldBehindProxy();
      let refusing = true;
      w.tg.failNext(
        'setWebhook',
        { status: 400, description: 'Bad Request: bad webhook: Failed to resolve host' },
        1_000,
        () => refusing,
      );
      const bot = startBot(w);

      const leading = await readyzUntil(
        'leading, Discord connected',
        port,
        (r) => r.body.role === 'leader' && checksOf(r).discord === 'connected',
        bot,
        30_000,
      );
      expect(checksOf(leading).telegram).toBe('starting');
      const tries = w.tg.callsOf('setWebhook').length;
      expect(tries).toBeGreaterThanOrEqual(1);

      // The store goes away: the instance steps down, and its term's setWebhook failures go with the term.
      proxy.cut();
      // (The role reads standby from the start of the step-down; the term's front ends stop last.)
      await readyzUntil(
        'the step-down to standby, Telegram read as connected again',
        port,
        (r) => r.body.role === 'standby' && checksOf(r).telegram === 'connected',
        bot,
        15_000,
      );
      await new Promise((r) => setTimeout(r, 2_500));
      expect(checksOf(await readyz(port)).telegram).toBe('connected');
      const triesAsStandby = w.tg.callsOf('setWebhook').length;

      // Leading again, it sets the webhook once Telegram takes it.
      proxy.restore();
      await readyzUntil('leading again', port, (r) => r.body.role === 'leader', bot, 30_000);
      refusing = false;
      const back = await readyzUntil('200 with the webhook set', port, (r) => r.status === 200, bot, 30_000);
      expect(checksOf(back).telegram).toBe('connected');
      expect(w.tg.webhook()?.url).toBe('https://opg-bot.example.org/telegram/webhook');
      expect(w.tg.callsOf('setWebhook').length).toBeGreaterThan(triesAsStandby);
      // The command menu is set in each term.
      expect(w.tg.callsOf('setMyCommands').length).toBeGreaterThanOrEqual(2);

      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
      expect(bot.output()).not.toContain('Hook_secret_7781');
    },
    90_000,
  );
});
