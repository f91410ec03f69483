import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import type { ChatRef } from '../src/core/command.js';
import { silentLogger } from '../src/core/logger.js';
import { DEFAULT_REFRESH_MIN_AGE_MS, refreshIfOlderThan } from '../src/core/buttons.js';
import { followUnlessLeading, leaderWork, standbyWork } from '../src/leader-work.js';
import { alwaysLeader, createRoles, type Role } from '../src/roles.js';
import { freshSnapshot, outboxOf, subscribeWith } from './helpers/alerts.js';
import { marketItem, marketItemWithRatio, startCoinGeckoServer } from './helpers/coingecko-server.js';
import { sendJson } from './helpers/http-server.js';
import { createFakeElector } from './helpers/fake-elector.js';
import { createRecordingSink } from './helpers/recording-sink.js';
import { recordingLogger } from './helpers/recording-logger.js';
import { tempDbPath } from './helpers/temp-dir.js';
import { bothReady, startBot, startWorld, until } from './helpers/bot-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real app on a real clock (the dispatcher's loop and the schedules need one), closed after the test. */
function realApp(env: Record<string, string>, httpTimeoutMs = 1_000): App {
  const offline = {
    OG_RPC_URL: 'http://127.0.0.1:9',
    OG_EXPLORER_API_URL: 'http://127.0.0.1:9/api/v2',
    COINGECKO_API_URL: 'http://127.0.0.1:9',
  };
  const config = loadConfig({
    DATABASE_PATH: tempDbPath(),
    ...offline,
    INDEX_CRON: '0 0 1 1 *',
    MARKETS_CRON: '0 0 1 1 *',
    ...env,
  });
  const app = createApp({ config, logger: silentLogger, clock: systemClock, httpTimeoutMs });
  onTestFinished(() => app.close());
  return app;
}

/** Work that records its starts and stops and how many of its kind run at once, taking a while to start and stop. */
function recordingWork(events: string[], running: { leader: number; standby: number; most: number }) {
  const make = (role: Role) => async () => {
    await sleep(5);
    running[role] += 1;
    running.most = Math.max(running.most, running.leader + running.standby);
    events.push(`${role} started`);
    return {
      async stop() {
        await sleep(5);
        running[role] -= 1;
        events.push(`${role} stopped`);
      },
    };
  };
  return { leader: make('leader'), standby: make('standby') };
}

describe('roles', () => {
  it(
    'starts the standby work, swaps to leader work and back one at a time, never both at once, and lets the lock ' +
      'go last',
    async () => {
      const elector = createFakeElector();
      const events: string[] = [];
      const running = { leader: 0, standby: 0, most: 0 };
      const logger = recordingLogger();
      const roles = createRoles({ elector, logger, ...recordingWork(events, running) });
      await roles.start();
      expect(elector.running).toBe(true);
      expect(roles.role()).toBe('standby');
      expect(events).toEqual(['standby started']);

      await elector.become('leader');
      expect(roles.role()).toBe('leader');
      // Already leading: nothing restarts.
      await elector.become('leader');
      await elector.become('standby');
      await elector.become('leader');
      expect(events).toEqual([
        'standby started',
        'standby stopped',
        'leader started',
        'leader stopped',
        'standby started',
        'standby stopped',
        'leader started',
      ]);
      expect(running.most).toBe(1);

      await roles.stop();
      expect(events.slice(-1)).toEqual(['leader stopped']);
      expect(running).toMatchObject({ leader: 0, standby: 0 });
      expect(elector.running).toBe(false);
      expect(roles.role()).toBe('standby');
      const said = logger.lines.map((l) => `${l.msg} ${String(l.fields.role)}`);
      expect(said).toContain('this instance runs the leader-only work leader');
      expect(said).toContain('leader-only work stopped leader');
      expect(said).toContain('this instance is a standby: it follows the shared store standby');
    },
  );

  it('carries out only the latest of quick changes, in order', async () => {
    const elector = createFakeElector();
    const events: string[] = [];
    const running = { leader: 0, standby: 0, most: 0 };
    const roles = createRoles({ elector, logger: silentLogger, ...recordingWork(events, running) });
    await roles.start();
    // The lock granted, lost and granted again before the first change was carried out.
    void elector.become('leader');
    void elector.become('standby');
    void elector.become('leader');
    await roles.settled();
    expect(events).toEqual(['standby started', 'standby stopped', 'leader started']);
    expect(running.most).toBe(1);
    await roles.stop();
  });

  it(
    'on the SQLite file the one instance leads from start to stop, and a leader that fails to start fails the ' +
      'start',
    async () => {
      const events: string[] = [];
      const running = { leader: 0, standby: 0, most: 0 };
      const roles = createRoles({
        elector: alwaysLeader(silentLogger),
        logger: silentLogger,
        ...recordingWork(events, running),
      });
      await roles.start();
      expect(roles.role()).toBe('leader');
      expect(events).toEqual(['leader started']);
      await roles.stop();
      expect(events).toEqual(['leader started', 'leader stopped']);

      const failing = createRoles({
        elector: alwaysLeader(silentLogger),
        logger: silentLogger,
        leader: () => Promise.reject(new Error('Discord refused the token')),
      });
      await expect(failing.start()).rejects.toThrow('Discord refused the token');
      expect(failing.role()).toBe('standby');
    },
  );

  it("stepping down stops the leader's schedules and front ends; becoming leader starts them again", async () => {
    const cg = await startCoinGeckoServer([marketItem()]);
    onTestFinished(() => cg.close());
    // Refresh every second, so a stopped schedule shows within a few seconds.
    const app = realApp({ COINGECKO_API_URL: cg.url, REFRESH_CRON: '* * * * * *' });
    const elector = createFakeElector();
    const frontEnd: string[] = [];
    const roles = createRoles({
      elector,
      logger: silentLogger,
      leader: leaderWork({
        app,
        logger: silentLogger,
        frontEnds: [
          async () => {
            frontEnd.push('gateway connected');
            return { stop: () => void frontEnd.push('gateway closed') };
          },
        ],
      }),
      standby: standbyWork(app),
    });
    await roles.start();
    await sleep(1_500);
    expect(cg.marketCalls()).toBe(0);
    expect(frontEnd).toEqual([]);

    await elector.become('leader');
    expect(frontEnd).toEqual(['gateway connected']);
    await until('two scheduled refreshes', () => (cg.marketCalls() >= 3 ? true : undefined), undefined, 5_000);

    await elector.become('standby');
    expect(frontEnd).toEqual(['gateway connected', 'gateway closed']);
    const callsAtStepDown = cg.marketCalls();
    await sleep(2_200);
    expect(cg.marketCalls()).toBe(callsAtStepDown);

    await elector.become('leader');
    expect(frontEnd).toEqual(['gateway connected', 'gateway closed', 'gateway connected']);
    await until(
      'refreshes again',
      () => (cg.marketCalls() >= callsAtStepDown + 2 ? true : undefined),
      undefined,
      5_000,
    );
    await roles.stop();
    expect(frontEnd.at(-1)).toBe('gateway closed');
  });

  it(
    'follows the store unless a term runs: a Refresh while booting or stepping down calls no CoinGecko, and a ' +
      'refresh that ends after the step-down evaluates no alert',
    async () => {
      const cg = await startCoinGeckoServer([marketItemWithRatio(0.5)]);
      // The late answer is held while the step-down starts: no per-attempt deadline may run out and retry it.
      const app = realApp({ COINGECKO_API_URL: cg.url }, 60_000);
      const chat: ChatRef = { platform: 'telegram', chatId: '-100777', kind: 'supergroup' };
      await subscribeWith(app, chat, [1], 0);
      const sides = async () => (await app.alerts.view(chat))!.thresholds.map((t) => t.side);
      let releaseFrontEnd = () => {};
      let frontEndStopping = false;
      const work = followUnlessLeading(app, {
        leader: leaderWork({
          app,
          logger: silentLogger,
          passGraceMs: 10,
          // A front end slow to close: the step-down takes until the test lets it end.
          frontEnds: [
            async () => ({
              stop: () => {
                frontEndStopping = true;
                return new Promise<void>((resolve) => (releaseFrontEnd = resolve));
              },
            }),
          ],
        }),
      });
      onTestFinished(() => work.stop());

      // Booting (the endpoint may take a Refresh before the roles start): the store is read, CoinGecko is not.
      await refreshIfOlderThan(app.core, DEFAULT_REFRESH_MIN_AGE_MS);
      expect(cg.marketCalls()).toBe(0);

      const elector = createFakeElector();
      const roles = createRoles({ elector, logger: silentLogger, leader: work.leader, standby: work.standby });
      await roles.start();
      await refreshIfOlderThan(app.core, DEFAULT_REFRESH_MIN_AGE_MS);
      expect(cg.marketCalls()).toBe(0);
      await elector.become('leader');
      await until('the first reading evaluated', async () => ((await sides())[0] === 'below' ? true : undefined));
      expect(cg.marketCalls()).toBe(1);

      // A refresh of the term whose answer (a ratio crossing 1) comes only after the step-down began.
      let answer = () => {};
      cg.fail((req, res) => {
        if (!req.url.includes('/coins/markets')) return sendJson(res, 404, { error: 'Not found' });
        answer = () => sendJson(res, 200, [marketItemWithRatio(2)]);
      });
      const late = app.core.refresh();
      await until('the refresh reaching CoinGecko', () => (cg.marketCalls() === 2 ? true : undefined));
      const stepDown = elector.become('standby');
      await until('the step-down under way', () => (frontEndStopping ? true : undefined));
      answer();
      expect((await late).market.data).not.toBeNull();
      expect(await sides()).toEqual(['below']);
      expect(outboxOf(app, chat)).toEqual([]);
      // A Refresh while the old term still stops: the store again.
      await app.core.refresh();
      expect(cg.marketCalls()).toBe(2);
      releaseFrontEnd();
      await stepDown;
      await refreshIfOlderThan(app.core, 0);
      expect(cg.marketCalls()).toBe(2);
      expect(outboxOf(app, chat)).toEqual([]);
      await roles.stop();
    },
  );

  it(
    'a step-down in the middle of an alert fan-out hands no further row to the sink; the next term sends the ' +
      'rest, each once',
    async () => {
      const app = realApp({});
      const chats: ChatRef[] = Array.from({ length: 30 }, (_, i) => ({
        platform: 'telegram',
        chatId: String(1000 + i),
        kind: 'private',
      }));
      for (const chat of chats) await subscribeWith(app, chat, [1], 0);
      await app.alerts.evaluate(freshSnapshot(systemClock, 0.5));
      await app.alerts.evaluate(freshSnapshot(systemClock, 2));
      expect(chats.every((c) => outboxOf(app, c).length === 1)).toBe(true);

      // Each send takes 30 ms; Telegram's pace (one every 41 ms) spreads 30 chats over more than a second.
      const sink = createRecordingSink('telegram', systemClock, () =>
        sleep(30).then(() => ({ status: 'delivered' as const })),
      );
      app.alerts.registerSink(sink);
      const elector = createFakeElector();
      const roles = createRoles({
        elector,
        logger: silentLogger,
        leader: leaderWork({ app, logger: silentLogger }),
        standby: standbyWork(app),
      });
      await roles.start();
      await elector.become('leader');
      await until('a third of the fan-out', () => (sink.attempts.length >= 10 ? true : undefined), undefined, 5_000);

      await elector.become('standby');
      const handedAtStepDown = sink.attempts.length;
      expect(handedAtStepDown).toBeLessThan(chats.length);
      // The sends in flight finished and were recorded before the step-down completed.
      const sentAtStepDown = chats.filter((c) => outboxOf(app, c)[0]!.sentAtMs !== null).length;
      expect(sentAtStepDown).toBe(handedAtStepDown);
      await sleep(500);
      expect(sink.attempts.length).toBe(handedAtStepDown);

      await elector.become('leader');
      await until(
        'every chat alerted',
        () => (chats.every((c) => outboxOf(app, c)[0]!.sentAtMs !== null) ? true : undefined),
        undefined,
        10_000,
      );
      await roles.stop();
      const perChat = chats.map((c) => sink.attempts.filter((a) => a.target.chatId === c.chatId).length);
      expect(perChat).toEqual(chats.map(() => 1));
    },
  );

  it(
    'npm start on the SQLite file: the one instance says it leads, runs the leader work, and stops it on ' + 'SIGTERM',
    async () => {
      const w = await startWorld({ chainBlocks: 30 });
      const bot = startBot(w);
      await bothReady(w, bot);
      await until(
        'the role in the start line',
        () =>
          /"role":"leader".*"msg":"opg-bot started"|"msg":"opg-bot started".*"role":"leader"/.test(bot.output())
            ? true
            : undefined,
        bot,
      );
      expect(bot.output()).toContain('this instance is now the leader');
      expect(bot.output()).toContain('this instance runs the leader-only work');
      bot.child.kill('SIGTERM');
      const [code] = await bot.exited;
      expect(code).toBe(0);
      expect(bot.output()).toContain('leader-only work stopped');
      expect(bot.errorLines()).toEqual([]);
    },
  );
});
