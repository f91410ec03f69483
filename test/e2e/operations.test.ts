/**
 * The operations endpoint of the bot as `npm start` runs it (a real process, `HTTP_PORT=0` so it binds a
 * free port and logs it), against the loopback Telegram Bot API, CoinGecko and OpenGradient node with a real
 * SQLite file. The node serves a known chain (test/helpers/og-chain.ts) that the bot indexes once at start.
 * Commands and an alert go through the stand-ins, then `/metrics` must count exactly what happened; and
 * `/readyz` must turn 503 once the last good market reading is older than `STALE_AFTER_MINUTES` while
 * CoinGecko fails, and 200 again after it recovers.
 *
 * The market is refreshed every second (node-cron's six-field form). Staleness cannot be waited out in a
 * test (the limit is at least a minute), so the readiness test seeds the store with a reading from 40 s
 * ago: the process's own clock then carries it past the 60 s limit within about 20 s.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/open.js';
import { createMarketStore } from '../../src/db/market-store.js';
import { marketWithRatio } from '../helpers/alerts.js';
import {
  startBot,
  startWorld,
  tgAsk,
  tgText as text,
  until,
  type BotProcess,
  type World,
} from '../helpers/bot-process.js';
import { expectedTotals, testChain } from '../helpers/og-chain.js';
import { marketItemWithRatio } from '../helpers/coingecko-server.js';
import { GUILD_ID } from '../helpers/discord-server.js';
import { sendJson } from '../helpers/http-server.js';
import { alice, bob, messageUpdate, supergroup } from '../helpers/telegram-updates.js';

/** The stand-in chain's head, and the blocks the bot leaves behind it (OG_CONFIRMATIONS). */
const HEAD = 400;
const CONFIRMATIONS = 12;

/**
 * The stand-ins, the bot on Telegram alone unless `discord` (the stand-in guild under a token of its own), the
 * operations endpoint on a free port, the market at 0.8x refreshed every second.
 */
async function world(extra: Record<string, string> = {}, discord = false): Promise<World> {
  const w = await startWorld({
    marketChart: false,
    chain: testChain(HEAD),
    discord,
    env: {
      OG_CONFIRMATIONS: String(CONFIRMATIONS),
      REFRESH_CRON: '* * * * * *',
      HTTP_PORT: '0',
      ...(discord && { DISCORD_TOKEN: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.ops-e2e-secret' }),
      ...extra,
    },
  });
  w.cg.setMarkets([marketItemWithRatio(0.8)]);
  w.tg.setMember(supergroup.id, alice.id, 'administrator');
  return w;
}

/** `http://127.0.0.1:<port>` of the operations endpoint, once the bot logged where it listens. */
function endpoint(bot: BotProcess): Promise<string> {
  return until(
    'the operations endpoint listening',
    () => {
      const line = bot
        .output()
        .split('\n')
        .find((l) => l.includes('"operations endpoint listening"'));
      return line ? `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` : undefined;
    },
    bot,
    15_000,
  );
}

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** One sample of a scrape: `name{labels}` exactly as Prometheus's text format writes it, or undefined. */
function sample(scrape: string, series: string): number | undefined {
  const line = scrape.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The sum of every sample of `name` whose labels include all of `having`. */
function sumOf(scrape: string, name: string, having: string[] = []): number {
  return scrape
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => having.every((h) => l.includes(h)))
    .reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

const tgAlerts = (w: World) =>
  w.tg.callsOf('sendMessage').filter((c) => text(c).includes('OPG volume / market cap crossed'));

const cmd = (command: string, outcome: string) =>
  `opg_commands_total{platform="telegram",command="${command}",outcome="${outcome}"}`;

describe('the operations endpoint of the running bot (npm start with HTTP_PORT)', () => {
  it(
    'counts on /metrics exactly what happened: commands, refreshes, upstream requests, the index, the alert outbox',
    { timeout: 60_000 },
    async () => {
      const w = await world();
      const og = w.og!;
      const bot = startBot(w);
      const base = await endpoint(bot);
      const ready = await until(
        '/readyz 200',
        async () => ((await get(`${base}/readyz`)).status === 200 ? true : undefined),
        bot,
        20_000,
      );
      expect(ready).toBe(true);

      await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts subscribe' }), {
        containing: 'Alerts are on in this chat',
      });
      await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: bob, text: '/opg alerts add 7' }), {
        containing: 'Moderators only',
      });
      await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts add 7' }), {
        containing: 'Added a 7x threshold',
      });
      await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts add 7' }), {
        containing: 'already has a 7x threshold',
      });
      await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: alice, text: '/opg alerts cooldown 0' }), {
        containing: 'Cooldown off',
      });
      // The stats reply is refused with a 429 once: grammY's auto-retry waits its retry_after and sends it again,
      // and the 429 is counted all the same.
      w.tg.failNext(
        'sendMessage',
        { status: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } },
        1,
        (params) => String(params.text ?? '').includes('OPG stats'),
      );
      await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: bob, text: '/opg stats' }), {
        containing: 'OPG stats',
      });
      await until(
        'the stats reply sent again',
        () => (w.tg.sent.some((m) => m.text.includes('OPG stats')) ? true : undefined),
        bot,
      );
      expect(w.tg.callsOf('sendMessage').filter((c) => text(c).includes('OPG stats'))).toHaveLength(2);
      await tgAsk(w, bot, messageUpdate({ chat: supergroup, from: bob, text: '/opg moon' }), {
        containing: 'Unknown command: moon',
      });

      // The first refreshes after subscribing record each threshold's side at 0.8x; only then can one be crossed.
      const seen = w.cg.marketCalls() + 2;
      await until('two more market refreshes', () => (w.cg.marketCalls() >= seen ? true : undefined), bot);

      // The first alert is refused with a 429 once and held for its retry_after: 11 s, longer than the outbox
      // gauge's 10 s recount, so a scrape sees it waiting.
      w.tg.failNext('sendMessage', {
        status: 429,
        description: 'Too Many Requests: retry after 11',
        parameters: { retry_after: 11 },
      });
      w.cg.setMarkets([marketItemWithRatio(13.2)]);
      const pending = `opg_alert_outbox_pending{platform="telegram"}`;
      await until('the alert refused once', () => (tgAlerts(w).length === 1 ? true : undefined), bot);
      await until(
        'the held alert counted as waiting',
        async () => (sample((await get(`${base}/metrics`)).body, pending) === 1 ? true : undefined),
        bot,
        12_000,
      );
      await until('the alert delivered', () => (tgAlerts(w).length === 2 ? true : undefined), bot, 15_000);

      // Counters follow what happened; a refresh may be under way at any scrape, and the outbox is recounted
      // every 10 s, so wait for a settled scrape.
      const indexed = HEAD - CONFIRMATIONS;
      const scrape = await until(
        'a scrape that agrees with the stand-ins',
        async () => {
          const s = (await get(`${base}/metrics`)).body;
          const calls = w.cg.requests.length;
          const settled =
            sample(s, 'opg_market_refresh_total{result="ok"}') === w.cg.marketCalls() &&
            sumOf(s, 'opg_upstream_requests_total', ['source="coingecko"']) === calls &&
            sumOf(s, 'opg_upstream_requests_total', ['source="rpc"']) === og.httpRequests() &&
            sample(s, 'opg_indexer_block') === indexed &&
            sample(s, 'opg_alert_evaluation_duration_seconds_count') === w.cg.marketCalls() &&
            sample(s, 'opg_alert_deliveries_total{platform="telegram",result="delivered"}') === 1 &&
            sample(s, pending) === 0;
          return settled ? s : undefined;
        },
        bot,
        15_000,
      );

      expect(sample(scrape, cmd('alerts subscribe', 'ok'))).toBe(1);
      expect(sample(scrape, cmd('alerts add', 'refused'))).toBe(1);
      expect(sample(scrape, cmd('alerts add', 'ok'))).toBe(1);
      expect(sample(scrape, cmd('alerts add', 'usage'))).toBe(1);
      expect(sample(scrape, cmd('alerts cooldown', 'ok'))).toBe(1);
      expect(sample(scrape, cmd('stats', 'ok'))).toBe(1);
      // Input that names no command is counted under one label, never under the words typed.
      expect(sample(scrape, cmd('(unresolved)', 'usage'))).toBe(1);
      expect(scrape).not.toContain('moon');
      expect(sumOf(scrape, 'opg_commands_total')).toBe(7);
      expect(sample(scrape, 'opg_command_duration_seconds_count{platform="telegram"}')).toBe(7);

      expect(sample(scrape, 'opg_market_refresh_total{result="failed"}')).toBe(0);
      // Markets and tickers answer 200; the chart history the bot fills at start finds none here (404).
      expect(sample(scrape, 'opg_upstream_requests_total{source="coingecko",status="200"}')).toBe(
        w.cg.marketCalls() + w.cg.tickerCalls(),
      );
      expect(sample(scrape, 'opg_upstream_requests_total{source="coingecko",status="404"}')).toBe(
        w.cg.marketChartCalls(),
      );
      // Every request the node received, each answered 200, and nothing else.
      expect(og.httpRequests()).toBeGreaterThan(0);
      expect(sample(scrape, 'opg_upstream_requests_total{source="rpc",status="200"}')).toBe(og.httpRequests());

      // The index: blocks 0 to head minus confirmations, every log the node served there, and the
      // inferences those logs hold, per mode, as the chain's own table counts them.
      expect(sample(scrape, 'opg_indexer_block')).toBe(indexed);
      expect(sample(scrape, 'opg_indexer_head_lag_blocks')).toBe(CONFIRMATIONS);
      let logs = 0;
      for (let b = 0; b <= indexed; b++) logs += og.chain.logsInBlock(b).length;
      expect(sample(scrape, 'opg_indexer_logs_total')).toBe(logs);
      // Every pass completed, and the last one is stamped (the bot's clock is the system's here).
      expect(sample(scrape, 'opg_indexer_passes_total{result="ok"}')).toBeGreaterThan(0);
      expect(sample(scrape, 'opg_indexer_passes_total{result="failed"}')).toBe(0);
      expect(Date.now() / 1000 - sample(scrape, 'opg_indexer_last_success_timestamp_seconds')!).toBeLessThan(60);
      const totals = expectedTotals(0, indexed);
      for (const mode of ['vanilla', 'tee', 'zkml', 'unknown'] as const) {
        expect(totals[mode]).toBeGreaterThan(0);
        expect(sample(scrape, `opg_inferences_total{mode="${mode}"}`)).toBe(totals[mode]);
      }

      expect(sample(scrape, 'opg_alert_deliveries_total{platform="telegram",result="retry"}')).toBe(1);
      expect(sample(scrape, 'opg_alert_deliveries_total{platform="telegram",result="gone"}')).toBe(0);
      // Two 429s: the alert's (the sink's) and the command reply's that auto-retry waited out.
      expect(sample(scrape, 'opg_platform_rate_limited_total{platform="telegram"}')).toBe(2);
      expect(sample(scrape, 'opg_market_age_seconds')).toBeLessThan(5);
      // prom-client's default process metrics are there too.
      expect(sample(scrape, 'process_resident_memory_bytes')).toBeGreaterThan(0);

      // Bounded labels: no chat or user id in any label (a value, such as a heap size, may hold the same digits by
      // chance), and no secret anywhere.
      const labels = scrape
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .map((l) => /\{.*\}/.exec(l)?.[0] ?? '');
      for (const id of [supergroup.id, alice.id, bob.id]) expect(labels.join('\n')).not.toContain(String(id));
      expect(scrape).not.toContain(w.tg.token);

      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
    },
  );

  it(
    'names the Discord gateway among its readiness checks and counts Discord commands under their platform',
    { timeout: 45_000 },
    async () => {
      const w = await world({}, true);
      const discord = w.discord;
      const bot = startBot(w);
      const base = await endpoint(bot);
      await Promise.race([
        discord.waitForSession(),
        bot.exited.then(() => Promise.reject(new Error(`the bot exited\n${bot.output()}`))),
      ]);
      const ready = await until(
        '/readyz 200',
        async () => {
          const r = await get(`${base}/readyz`);
          return r.status === 200
            ? (JSON.parse(r.body) as { checks: Array<{ name: string; state: string }> })
            : undefined;
        },
        bot,
        20_000,
      );
      expect(ready.checks.map((c) => `${c.name}:${c.state}`)).toEqual([
        'store:open',
        'telegram:connected',
        'discord:connected',
        'market:fresh',
      ]);

      const since = discord.rest.requests.length;
      const { id } = discord.interact(discord.slash({ subcommand: 'stats' }));
      await until(
        'the answer to /opg stats',
        () => discord.rest.requests.slice(since).find((r) => r.url.includes(`/interactions/${id}/`)),
        bot,
      );
      const scrape = await until(
        'the Discord command counted',
        async () => {
          const s = (await get(`${base}/metrics`)).body;
          return sample(s, 'opg_commands_total{platform="discord",command="stats",outcome="ok"}') === 1 ? s : undefined;
        },
        bot,
      );
      expect(sumOf(scrape, 'opg_commands_total', ['platform="telegram"'])).toBe(0);
      expect(sample(scrape, 'opg_alert_outbox_pending{platform="discord"}')).toBe(0);
      expect(scrape).not.toContain('ops-e2e-secret');
      expect(scrape).not.toContain(GUILD_ID);

      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
    },
  );

  it(
    'turns /readyz 503 when CoinGecko fails past the stale limit, and 200 again once it answers',
    { timeout: 60_000 },
    async () => {
      const w = await world({ STALE_AFTER_MINUTES: '1' });
      // A good reading from 40 s ago, and CoinGecko down from the start.
      const seeded = openDatabase(w.databasePath);
      await createMarketStore(seeded).insert({
        data: marketWithRatio(0.8),
        fetchedAtMs: Date.now() - 40_000,
        source: 'CoinGecko',
      });
      seeded.close();
      w.cg.fail((_req, res) => sendJson(res, 503, { error: 'Service Unavailable' }));

      const bot = startBot(w);
      const base = await endpoint(bot);
      const readyz = async () => {
        const r = await get(`${base}/readyz`);
        expect(r.type).toContain('application/json');
        return {
          status: r.status,
          body: JSON.parse(r.body) as {
            status: string;
            checks: Array<{ name: string; ok: boolean; state: string; detail?: string }>;
          },
        };
      };
      const market = (body: Awaited<ReturnType<typeof readyz>>['body']) =>
        body.checks.find((c) => c.name === 'market')!;

      // Younger than the limit: ready, though the refreshes fail (the check says so).
      const before = await until(
        'ready with the seeded reading',
        async () => {
          const r = await readyz();
          return r.status === 200 && market(r.body).detail?.includes('last refresh failed') ? r : undefined;
        },
        bot,
        15_000,
      );
      expect(before.body.status).toBe('ok');
      // One instance on the SQLite file: it leads, and says so.
      expect(before.body).toHaveProperty('role', 'leader');
      expect(before.body.checks.map((c) => [c.name, c.ok])).toEqual([
        ['store', true],
        ['telegram', true],
        ['market', true],
      ]);

      const stale = await until(
        '/readyz 503 once the reading is older than 60 s',
        async () => {
          const r = await readyz();
          return r.status === 503 ? r : undefined;
        },
        bot,
        35_000,
      );
      expect(stale.body.status).toBe('unavailable');
      expect(market(stale.body)).toMatchObject({ ok: false, state: 'stale' });
      expect(market(stale.body).detail).toMatch(/^6\d s old, limit 60 s; last refresh failed: /);
      // Liveness does not depend on upstreams, nor does the load balancer's check (long polling here: the store).
      expect((await get(`${base}/healthz`)).status).toBe(200);
      const webhook = await get(`${base}/readyz/webhook`);
      expect(webhook.status).toBe(200);
      expect(JSON.parse(webhook.body)).toEqual({
        status: 'ok',
        checks: [{ name: 'store', ok: true, state: 'open' }],
        role: 'leader',
      });

      w.cg.heal();
      const after = await until(
        '/readyz 200 after CoinGecko recovers',
        async () => {
          const r = await readyz();
          return r.status === 200 ? r : undefined;
        },
        bot,
        15_000,
      );
      expect(market(after.body)).toMatchObject({ ok: true, state: 'fresh' });

      const scrape = (await get(`${base}/metrics`)).body;
      expect(sample(scrape, 'opg_market_refresh_total{result="failed"}')).toBeGreaterThan(0);
      expect(sample(scrape, 'opg_market_refresh_total{result="ok"}')).toBeGreaterThan(0);
      expect(sample(scrape, 'opg_upstream_requests_total{source="coingecko",status="503"}')).toBeGreaterThan(0);
      expect(JSON.stringify(after.body) + scrape).not.toContain(w.tg.token);

      bot.child.kill('SIGTERM');
      expect((await bot.exited)[0]).toBe(0);
    },
  );
});
