import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { connectionState } from '../../src/ops/connections.js';
import { createOperations, type OperationsOptions } from '../../src/ops/operations.js';
import type { Platform } from '../../src/core/chat.js';
import { freshSnapshot, subscribeWith } from '../helpers/alerts.js';
import { until } from '../helpers/bot-process.js';
import { createTestApp } from '../helpers/app.js';
import { createTestClock } from '../helpers/clock.js';
import { runEntry } from '../helpers/spawn.js';
import { tempDbPath } from '../helpers/temp-dir.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { postgresStore } from '../../src/db/store.js';
import { createLogger } from '../../src/logger.js';
import { pgliteDatabase } from '../helpers/postgres.js';

const pendingOn = (scrape: string, platform: string) =>
  Number(
    scrape
      .split('\n')
      .find((l) => l.startsWith(`opg_alert_outbox_pending{platform="${platform}"} `))
      ?.split(' ')[1],
  );

/** The endpoint over a test app on a test clock, re-reading the store's figures every 20 ms unless told. */
function assembled(platforms: Platform[], options: Partial<OperationsOptions> = {}) {
  const clock = createTestClock();
  const ops = createOperations({
    host: '127.0.0.1',
    port: 0,
    platforms,
    logger: silentLogger,
    clock,
    secrets: [],
    storeFiguresIntervalMs: 20,
    ...options,
  });
  return { clock, ops, app: createTestApp({ clock }) };
}

describe('the operations endpoint, assembled over the app', () => {
  it(
    'reports undelivered alerts per platform, recounted off the scrape path and only while someone ' + 'scrapes',
    async () => {
      const { clock, ops, app } = assembled(['telegram']);
      // Each chat watches its own level, above the last one: lifting the ratio past it queues one alert for that
      // chat alone (the chats before it stay above their own levels), through the evaluation the leader runs.
      let chats = 0;
      const enqueue = async (chatId: string) => {
        chats += 1;
        await subscribeWith(app, { platform: 'telegram', chatId, kind: 'supergroup' }, [2 * chats], 0);
        await app.alerts.evaluate(freshSnapshot(clock, 2 * chats - 0.5));
        await app.alerts.evaluate(freshSnapshot(clock, 2 * chats + 0.5));
      };
      await enqueue('-1001');
      await enqueue('-1002');
      const { port } = await ops.start(app, [connectionState('telegram')]);
      onTestFinished(() => ops.close());
      const term = ops.outboxGauge(app)();
      onTestFinished(() => term.stop());
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

      await until(
        'the first count',
        async () => (pendingOn(await scrape(), 'telegram') === 2 ? true : undefined),
        undefined,
        5_000,
      );
      await enqueue('-1003');
      await until(
        'the third row counted',
        async () => (pendingOn(await scrape(), 'telegram') === 3 ? true : undefined),
        undefined,
        5_000,
      );

      // Nobody has scraped for longer than twelve intervals: the count stops (the registry, read without the
      // route, keeps the old figure), and resumes at the next scrape.
      clock.advance(12 * 20 + 1);
      await enqueue('-1004');
      await new Promise((r) => setTimeout(r, 200));
      expect(pendingOn((await ops.metrics.scrape()).body, 'telegram')).toBe(3);
      await until(
        'the fourth row counted once scraped again',
        async () => (pendingOn(await scrape(), 'telegram') === 4 ? true : undefined),
        undefined,
        5_000,
      );
    },
  );

  it('recounts the outbox at once when a scrape finds the watch idle, not an interval later', async () => {
    // Only the watch's interval is faked: a tick runs when the test says, HTTP and setImmediate run for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    onTestFinished(() => void vi.useRealTimers());
    const { clock, ops, app } = assembled(['telegram'], { storeFiguresIntervalMs: 10_000 });
    const chat = (chatId: string) => ({ platform: 'telegram', chatId, kind: 'supergroup' }) as const;
    await subscribeWith(app, chat('-1001'), [2], 0);
    await subscribeWith(app, chat('-1002'), [4], 0);
    await app.alerts.evaluate(freshSnapshot(clock, 1.5));
    await app.alerts.evaluate(freshSnapshot(clock, 2.5));
    const { port } = await ops.start(app, [connectionState('telegram')]);
    onTestFinished(() => ops.close());
    const term = ops.outboxGauge(app)();
    onTestFinished(() => term.stop());
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await until('the first count', async () => (pendingOn(await scrape(), 'telegram') === 1 ? true : undefined));

    // Two minutes without a scrape: the next tick finds nobody reading and counts nothing.
    clock.advance(12 * 10_000 + 1);
    vi.advanceTimersByTime(10_000);
    await app.alerts.evaluate(freshSnapshot(clock, 4.5));
    // The scrape that ends the pause answers the old figure and starts a recount beside it; no tick comes.
    expect(pendingOn(await scrape(), 'telegram')).toBe(1);
    await until('recounted without waiting for a tick', async () =>
      pendingOn(await scrape(), 'telegram') === 2 ? true : undefined,
    );
  });

  it('exports the outbox gauge only while this instance leads: none on a standby, none after a step-down', async () => {
    const { clock, ops, app } = assembled(['telegram', 'discord']);
    const chat = { platform: 'telegram', chatId: '-1001', kind: 'supergroup' } as const;
    await subscribeWith(app, chat, [2], 0);
    await app.alerts.evaluate(freshSnapshot(clock, 1.5));
    await app.alerts.evaluate(freshSnapshot(clock, 2.5));
    // The leader's work starts and stops the gauge's terms (src/main.ts); none has started yet: a standby.
    const { port } = await ops.start(app, [connectionState('telegram'), connectionState('discord')]);
    onTestFinished(() => ops.close());
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const pendingLines = (s: string) => s.split('\n').filter((l) => l.startsWith('opg_alert_outbox_pending'));

    // A standby: the deliveries counter is there (at 0), the pending gauge has no series, so a rule
    // "pending > 0 unless delivered" has nothing to fire on.
    const standby = await scrape();
    expect(pendingLines(standby)).toEqual([]);
    expect(standby).toContain('opg_alert_deliveries_total{platform="telegram",result="delivered"} 0');

    const term = ops.outboxGauge(app)();
    await until(
      'the leader counting',
      async () => (pendingOn(await scrape(), 'telegram') === 1 ? true : undefined),
      undefined,
      5_000,
    );
    expect(pendingOn(await scrape(), 'discord')).toBe(0);

    term.stop();
    expect(pendingLines(await scrape())).toEqual([]);
    // Nothing counted after the step-down brings it back.
    await new Promise((r) => setTimeout(r, 100));
    expect(pendingLines(await scrape())).toEqual([]);

    const next = ops.outboxGauge(app)();
    onTestFinished(() => next.stop());
    await until(
      'counting again as leader',
      async () => (pendingOn(await scrape(), 'telegram') === 1 ? true : undefined),
      undefined,
      5_000,
    );
  });

  it(
    "on a standby, follows where the leader's index stands in the shared store, and stops when the term " + 'ends',
    async () => {
      const { clock, ops, app } = assembled(['telegram']);
      const inferences = app.store.stores.inferences;
      const hourMs = Date.UTC(2026, 11, 7, 10);
      // What the leader's passes leave in the shared store: the cursor, the head it saw and the counts.
      const leaderPass = async (fromBlock: number, nextBlock: number, head: number, vanilla: number) => {
        await inferences.commitChunk({
          network: 'opengradient',
          fromBlock,
          nextBlock,
          counts: new Map([[`${hourMs}|vanilla|precompile`, vanilla]]),
          undecodableLogs: 0,
          indexedBlockTimeMs: null,
        });
        await inferences.recordHead('opengradient', head, clock.now());
        await inferences.recordRun('opengradient', clock.now(), null);
      };
      await inferences.ensureState('opengradient', 100);
      await leaderPass(100, 201, 230, 4);
      const { port } = await ops.start(app, [connectionState('telegram')]);
      onTestFinished(() => ops.close());
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const value = (s: string, name: string) =>
        Number(
          s
            .split('\n')
            .find((l) => l.startsWith(`${name} `))
            ?.split(' ')[1],
        );
      expect(value(await scrape(), 'opg_indexer_block')).toBe(200);

      const term = ops.indexerGauges(app)();
      await leaderPass(201, 301, 305, 3);
      await until(
        "the standby reading the leader's pass",
        async () => {
          const s = await scrape();
          return value(s, 'opg_indexer_block') === 300 && value(s, 'opg_indexer_head_lag_blocks') === 5 ? s : undefined;
        },
        undefined,
        5_000,
      ).then((s) => expect(s).toContain('opg_inferences_total{mode="vanilla"} 7'));

      term.stop();
      await leaderPass(301, 401, 401, 1);
      await new Promise((r) => setTimeout(r, 100));
      expect(value(await scrape(), 'opg_indexer_block')).toBe(300);
    },
  );

  it('answers /readyz from the app: unavailable with no market reading and a platform still starting', async () => {
    const { ops, app } = assembled(['telegram'], { secrets: ['sekret-token'], storeFiguresIntervalMs: 1_000 });
    const { port } = await ops.start(app, [connectionState('telegram')], {
      role: () => 'leader',
      reach: () => ({ state: 'reachable' }),
    });
    onTestFinished(() => ops.close());
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      checks: [
        { name: 'store', ok: true, state: 'open' },
        { name: 'telegram', ok: false, state: 'starting' },
        { name: 'market', ok: false, state: 'missing', detail: 'no market reading yet' },
      ],
      role: 'leader',
    });
    // The load balancer's check waits for Telegram's webhook set-up, not for a market reading.
    const webhook = await fetch(`http://127.0.0.1:${port}/readyz/webhook`);
    expect(webhook.status).toBe(503);
    expect(await webhook.json()).toEqual({
      status: 'unavailable',
      checks: [
        { name: 'store', ok: true, state: 'open' },
        { name: 'telegram', ok: false, state: 'starting' },
      ],
      role: 'leader',
    });
  });
  it('names the role on the SQLite file too: the only instance, which leads', async () => {
    const { ops, app } = assembled(['telegram'], { storeFiguresIntervalMs: 1_000 });
    // No shared store health: main.ts on the SQLite file.
    const { port } = await ops.start(app, [connectionState('telegram')]);
    onTestFinished(() => ops.close());
    const body = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { role?: string };
    expect(body.role).toBe('leader');
    const webhook = (await (await fetch(`http://127.0.0.1:${port}/readyz/webhook`)).json()) as { role?: string };
    expect(webhook.role).toBe('leader');
  });
});

describe("comparing this instance's clock with the PostgreSQL server's", () => {
  const skewOf = (scrape: string) =>
    Number(
      scrape
        .split('\n')
        .find((l) => l.startsWith('opg_clock_skew_seconds '))
        ?.split(' ')[1],
    );

  // The first PGlite of a worker compiles and migrates PostgreSQL: seconds, more on a busy machine.
  it('exports the skew at start and at each term, and warns once it passes 5 s', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', secrets: [], destination: { write: (l: string) => lines.push(l) } });
    const clock = createTestClock();
    // The helper closes PGlite when the test ends; the app closing its store must not close it a second time.
    const pglite = { ...(await pgliteDatabase()), close: async () => {} };
    const config = loadConfig({ DATABASE_PATH: tempDbPath(), OG_RPC_URL: 'http://127.0.0.1:9' });
    const app = createApp({ config, logger: silentLogger, clock, store: postgresStore(pglite) });
    onTestFinished(() => app.close());
    // This instance's clock runs 42 s ahead of the server's (PGlite's clock is this machine's).
    clock.set(Date.now() + 42_000);
    const ops = createOperations({ host: '127.0.0.1', port: 0, platforms: [], logger, clock, secrets: [] });
    const { port } = await ops.start(app, []);
    onTestFinished(() => ops.close());
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const warnings = () =>
      lines
        .map((l) => JSON.parse(l) as { level: number; msg: string; skewSeconds?: number })
        .filter((l) => l.level === 40);

    const ahead = skewOf(await scrape());
    expect(ahead).toBeGreaterThan(40);
    expect(ahead).toBeLessThan(44);
    expect(warnings()).toEqual([expect.objectContaining({ skewSeconds: ahead })]);
    expect(warnings()[0]!.msg).toMatch(
      /^this instance's clock is 4\d(\.\d+)? s ahead of the PostgreSQL server's: .*assume synchronised clocks/,
    );

    // NTP fixed it; the next leader term measures again: the gauge follows, and nothing is logged.
    clock.set(Date.now());
    const term = ops.outboxGauge(app)();
    onTestFinished(() => term.stop());
    const synced = await until('the term measuring', async () => {
      const skew = skewOf(await scrape());
      return Math.abs(skew) < 2 ? skew : undefined;
    });
    expect(Math.abs(synced)).toBeLessThan(2);
    expect(warnings()).toHaveLength(1);
  });

  it('exports NaN on the SQLite file, which one process stamps alone', async () => {
    const { ops, app } = assembled([]);
    const { port } = await ops.start(app, []);
    onTestFinished(() => ops.close());
    expect(skewOf(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())).toBeNaN();
  });
});

describe('npm start with HTTP_PORT taken', () => {
  it('refuses to start, naming the address, rather than run without its endpoint', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    onTestFinished(() => void taken.close());
    const { port } = taken.address() as AddressInfo;
    const result = await runEntry('src/main.ts', [], {
      TELEGRAM_BOT_TOKEN: '123456:ops-test-token',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      COINGECKO_API_URL: 'http://127.0.0.1:9',
      OG_RPC_URL: 'http://127.0.0.1:9',
      OG_EXPLORER_API_URL: 'http://127.0.0.1:9/api/v2',
      DATABASE_PATH: tempDbPath(),
      HTTP_PORT: String(port),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`EADDRINUSE`);
    expect(result.stderr).toContain(`127.0.0.1:${port}`);
    expect(result.stdout + result.stderr).not.toContain('ops-test-token');
  });
});
