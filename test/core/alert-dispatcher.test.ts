import { describe, expect, it } from 'vitest';
import type { App, AppInstruments } from '../../src/app.js';
import { noTelemetry } from '../../src/core/telemetry.js';
import type { ChatRef } from '../../src/core/command.js';
import { replyText } from '../../src/core/reply.js';
import type { DeliveryResult } from '../../src/core/sink.js';
import { createTestApp, member } from '../helpers/app.js';
import { freshSnapshot, outboxOf, subscribeWith } from '../helpers/alerts.js';
import { createTestClock, type TestClock } from '../helpers/clock.js';
import { createRecordingSink } from '../helpers/recording-sink.js';
import { tempDbPath } from '../helpers/temp-dir.js';
import { repeatedKeys } from '../helpers/log-lines.js';
import { createLogger } from '../../src/logger.js';
import { createAlertDispatcher } from '../../src/core/alert-dispatcher.js';
import type { OutboxStore } from '../../src/core/alert-ports.js';

const tg = (chatId: string): ChatRef => ({
  platform: 'telegram',
  chatId,
  kind: chatId.startsWith('-') ? 'supergroup' : 'private',
});

/** Swings the ratio across 1x `times` times, five minutes apart: one alert per swing after the first reading. */
async function swing(app: App & { clock: TestClock }, times: number): Promise<void> {
  for (let i = 0; i <= times; i++) {
    app.clock.advance(5 * 60_000);
    await app.alerts.evaluate(freshSnapshot(app.clock, i % 2 === 0 ? 0.5 : 2));
  }
}

describe('alert dispatcher', () => {
  it('delivers every alert once, in order per chat, within Telegram limits', async () => {
    const app = createTestApp();
    const chats = ['111', '222', '333'].map(tg);
    for (const chat of chats) await subscribeWith(app, chat, [1], 0);
    await swing(app, 4);
    const sink = createRecordingSink('telegram', app.clock);
    app.alerts.registerSink(sink);
    await app.alerts.dispatcher.drain();

    expect(sink.attempts).toHaveLength(12);
    for (const chat of chats) {
      const mine = sink.attempts.filter((a) => a.target.chatId === chat.chatId);
      expect(mine.map((a) => a.reply.title)).toEqual([
        'OPG volume / market cap crossed above 1x',
        'OPG volume / market cap fell below 1x',
        'OPG volume / market cap crossed above 1x',
        'OPG volume / market cap fell below 1x',
      ]);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.atMs - mine[i - 1]!.atMs).toBeGreaterThanOrEqual(1_000);
      expect(outboxOf(app, chat).every((r) => r.sentAtMs !== null)).toBe(true);
    }
    for (let i = 1; i < sink.attempts.length; i++)
      expect(sink.attempts[i]!.atMs - sink.attempts[i - 1]!.atMs).toBeGreaterThanOrEqual(40);
  });

  it('sends at most 20 messages a minute to one Telegram group', async () => {
    const app = createTestApp();
    const group = tg('-100777');
    await subscribeWith(app, group, [1], 0);
    await swing(app, 25);
    const sink = createRecordingSink('telegram', app.clock);
    app.alerts.registerSink(sink);
    await app.alerts.dispatcher.drain();

    expect(sink.attempts).toHaveLength(25);
    for (let i = 20; i < sink.attempts.length; i++) {
      expect(sink.attempts[i]!.atMs - sink.attempts[i - 20]!.atMs).toBeGreaterThanOrEqual(60_000);
    }
  });

  it('honours retry-after and marks a row sent only once the platform accepted it', async () => {
    const app = createTestApp();
    const chat = tg('111');
    await subscribeWith(app, chat, [1], 0);
    await swing(app, 1);
    const answers: DeliveryResult[] = [
      { status: 'retry', retryAfterMs: 7_000, reason: 'Telegram 429' },
      { status: 'delivered' },
    ];
    let sentAfterFirst: number | null | undefined;
    const sink = createRecordingSink('telegram', app.clock, (_t, n) => {
      if (n === 2) sentAfterFirst = outboxOf(app, chat)[0]!.sentAtMs;
      return answers[n - 1]!;
    });
    app.alerts.registerSink(sink);
    await app.alerts.dispatcher.drain();

    expect(sink.attempts).toHaveLength(2);
    expect(sink.attempts[1]!.atMs - sink.attempts[0]!.atMs).toBeGreaterThanOrEqual(7_000);
    expect(sentAfterFirst).toBeNull();
    expect(outboxOf(app, chat)[0]!.sentAtMs).toBe(sink.attempts[1]!.atMs);
  });

  it('backs off on failures and gives a row up instead of retrying it forever', async () => {
    const app = createTestApp();
    const chat = tg('111');
    await subscribeWith(app, chat, [1], 0);
    await swing(app, 1);
    const sink = createRecordingSink('telegram', app.clock, () => ({
      status: 'retry',
      retryAfterMs: 0,
      reason: 'Telegram 502',
    }));
    app.alerts.registerSink(sink);
    await app.alerts.dispatcher.drain();

    expect(sink.attempts).toHaveLength(12);
    const gaps = sink.attempts.slice(1).map((a, i) => a.atMs - sink.attempts[i]!.atMs);
    expect(gaps[0]).toBeGreaterThanOrEqual(2_000);
    expect(gaps[3]!).toBeGreaterThan(gaps[2]!);
    const [row] = outboxOf(app, chat);
    expect(row!.failedAtMs).not.toBeNull();
    expect(row!.lastError).toMatch(/gave up after 12 attempts: Telegram 502/);
  });

  it('writes one "part" in every line alerts and its dispatcher log, as the app wires them', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', secrets: [], destination: { write: (l: string) => lines.push(l) } });
    const app = createTestApp({ logger });
    const gone = tg('-100666');
    await subscribeWith(app, gone, [1], 0);
    await swing(app, 2);
    app.alerts.registerSink(createRecordingSink('telegram', app.clock, () => ({ status: 'gone', reason: 'kicked' })));
    await app.alerts.dispatcher.drain();

    const parsed = lines.map((l) => JSON.parse(l) as { msg: string; part?: string });
    expect(parsed.find((l) => l.msg === 'alerts queued')?.part).toBe('alerts');
    expect(parsed.find((l) => l.msg === 'alert subscription paused')?.part).toBe('dispatcher');
    expect(lines.flatMap(repeatedKeys)).toEqual([]);
  });

  it('pauses a chat the bot was removed from, says why in alerts, and stops trying it', async () => {
    const app = createTestApp();
    const gone = tg('-100666');
    const fine = tg('-100555');
    await subscribeWith(app, gone, [1], 0);
    await subscribeWith(app, fine, [1], 0);
    await swing(app, 2);
    const sink = createRecordingSink('telegram', app.clock, (t) =>
      t.chatId === gone.chatId
        ? { status: 'gone', reason: 'Telegram: Forbidden: bot was kicked from the group chat' }
        : { status: 'delivered' },
    );
    app.alerts.registerSink(sink);
    await app.alerts.dispatcher.drain();
    await swing(app, 2);
    await app.alerts.dispatcher.drain();

    expect(sink.attempts.filter((a) => a.target.chatId === gone.chatId)).toHaveLength(1);
    expect(sink.attempts.filter((a) => a.target.chatId === fine.chatId)).toHaveLength(4);
    const status = await app.runText('/opg alerts', gone, member);
    expect(replyText(status)).toContain('paused');
    expect(replyText(status)).toContain('bot was kicked from the group chat');
    expect(await app.alerts.thresholdsFor(gone)).toEqual([]);
  });

  it('gives up at once an alert the platform refused for good, counts it, and keeps the chat subscribed', async () => {
    const givenUp: string[] = [];
    const instruments: AppInstruments = {
      telemetry: { ...noTelemetry, alertGivenUp: (platform) => givenUp.push(platform) },
      dispatcherFor: (_source, base) => base!,
      marketSource: (source) => source,
    };
    const app = createTestApp({ instruments });
    const chat = tg('-100777');
    await subscribeWith(app, chat, [1], 0);
    await swing(app, 2);
    const reason = 'Telegram refused the alert, even as plain text (Bad Request: message is too long)';
    const sink = createRecordingSink('telegram', app.clock, () => ({ status: 'failed', reason }));
    app.alerts.registerSink(sink);
    await app.alerts.dispatcher.drain();

    // Each crossing's alert is tried once, never again, and the chat's alerts stay on.
    expect(sink.attempts.length).toBeGreaterThan(0);
    const rows = outboxOf(app, chat);
    expect(rows).toHaveLength(sink.attempts.length);
    expect(rows.every((r) => r.failedAtMs !== null && r.lastError === reason)).toBe(true);
    expect(givenUp).toEqual(rows.map(() => 'telegram'));
    expect((await app.alerts.view(chat))?.status).toBe('active');
    await swing(app, 2);
    await app.alerts.dispatcher.drain();
    expect(sink.attempts.length).toBe(outboxOf(app, chat).length);
  });

  it('follows a group that became a supergroup, with its undelivered alerts', async () => {
    const app = createTestApp();
    const old = tg('-4001');
    await subscribeWith(app, old, [1], 0);
    await swing(app, 2);
    const sink = createRecordingSink('telegram', app.clock, (t) =>
      t.chatId === old.chatId ? { status: 'moved', toChatId: '-1004001' } : { status: 'delivered' },
    );
    app.alerts.registerSink(sink);
    await app.alerts.dispatcher.drain();

    expect(sink.attempts.map((a) => a.target.chatId)).toEqual(['-4001', '-1004001', '-1004001']);
    expect(await app.alerts.view(old)).toBeNull();
    expect((await app.alerts.view(tg('-1004001')))?.status).toBe('active');
    expect(outboxOf(app, tg('-1004001')).every((r) => r.sentAtMs !== null)).toBe(true);
  });

  it(
    'after a kill in the middle of a fan-out, ' + 'a new process delivers every alert, repeating at most one per chat',
    async () => {
      const clock = createTestClock();
      const databasePath = tempDbPath();
      const first = createTestApp({ clock, databasePath });
      const chats = Array.from({ length: 30 }, (_, i) => tg(`-100${1000 + i}`));
      for (const chat of chats) await subscribeWith(first, chat, [1], 0);
      await swing(first, 3);
      const expected = chats.length * 3;

      // The first process sends 40 messages, then its sends hang: the platform got them, the process died
      // before it heard back.
      const received: Array<{ chatId: string; title: string; line: string }> = [];
      const record = (chatId: string, r: { title: string; lines: string[] }) =>
        received.push({ chatId, title: r.title, line: r.lines[0] ?? '' });
      /** The sink, writing down every message handed to it (delivered or not) in `received`. */
      const recorded = (sink: ReturnType<typeof createRecordingSink>) => {
        const deliver = sink.deliver.bind(sink);
        sink.deliver = async (t, r) => {
          record(t.chatId, r);
          return deliver(t, r);
        };
        return sink;
      };
      let sends = 0;
      const dying = createRecordingSink('telegram', clock, () => {
        sends += 1;
        return sends <= 40 ? { status: 'delivered' } : new Promise<DeliveryResult>(() => {});
      });
      first.alerts.registerSink(recorded(dying));
      void first.alerts.dispatcher.drain();
      for (let i = 0; i < 200 && sends < 48; i++) await new Promise((r) => setImmediate(r));
      expect(sends).toBeGreaterThan(40);
      void first.alerts.dispatcher.stop();
      first.database.close();

      const second = createTestApp({ clock, databasePath });
      second.alerts.registerSink(recorded(createRecordingSink('telegram', clock)));
      await second.alerts.dispatcher.drain();

      const unique = new Set(received.map((m) => JSON.stringify(m)));
      expect(unique.size).toBe(expected);
      for (const chat of chats) {
        const mine = received.filter((m) => m.chatId === chat.chatId);
        expect(mine.length - new Set(mine.map((m) => JSON.stringify(m))).size).toBeLessThanOrEqual(1);
      }
      expect(received.length - expected).toBeGreaterThan(0);
      expect(received.length - expected).toBeLessThanOrEqual(8);
      expect(chats.flatMap((c) => outboxOf(second, c)).every((r) => r.sentAtMs !== null)).toBe(true);
    },
  );

  it('keeps delivering to Discord while every Telegram send hangs', async () => {
    const app = createTestApp();
    const telegramChats = Array.from({ length: 12 }, (_, i) => tg(`-100${2000 + i}`));
    for (const chat of telegramChats) await subscribeWith(app, chat, [1], 0);
    const channel: ChatRef = { platform: 'discord', chatId: '900', kind: 'group' };
    await subscribeWith(app, channel, [1], 0);
    await swing(app, 1);

    const release: Array<() => void> = [];
    const telegram = createRecordingSink(
      'telegram',
      app.clock,
      () => new Promise<DeliveryResult>((resolve) => release.push(() => resolve({ status: 'delivered' }))),
    );
    const discord = createRecordingSink('discord', app.clock);
    app.alerts.registerSink(telegram);
    app.alerts.registerSink(discord);
    const drained = app.alerts.dispatcher.drain();
    for (let i = 0; i < 400; i++) await new Promise((r) => setImmediate(r));

    // Telegram is at its limit of sends in flight and none answers; Discord's alert went out regardless.
    expect(telegram.attempts).toHaveLength(8);
    expect(discord.attempts.map((a) => a.target.chatId)).toEqual(['900']);
    expect(outboxOf(app, channel).map((r) => r.sentAtMs !== null)).toEqual([true]);

    while (release.length > 0 || telegram.attempts.length < telegramChats.length) {
      release.splice(0).forEach((r) => r());
      await new Promise((r) => setImmediate(r));
    }
    await drained;
    expect(telegramChats.flatMap((c) => outboxOf(app, c)).every((r) => r.sentAtMs !== null)).toBe(true);
  });

  it('sends what was waiting for a platform as soon as its sink is registered, not at the next poll', async () => {
    // A clock whose sleeps never end: only a wake can make the running dispatcher look again.
    const base = createTestClock();
    const clock: TestClock = { ...base, now: base.now, sleep: () => new Promise<void>(() => {}) };
    const app = createTestApp({ clock });
    const chat = tg('-100555');
    await subscribeWith(app, chat, [1], 0);
    await swing(app, 1);
    app.alerts.dispatcher.start();

    const sink = createRecordingSink('telegram', clock);
    app.alerts.registerSink(sink);
    for (let i = 0; i < 200 && outboxOf(app, chat)[0]?.sentAtMs == null; i++) await new Promise((r) => setImmediate(r));
    expect(sink.attempts).toHaveLength(1);
    expect(outboxOf(app, chat).map((r) => r.sentAtMs !== null)).toEqual([true]);
    await app.alerts.dispatcher.stop();
  });
});

describe('two dispatchers on one store (two leaders overlapping for a moment)', () => {
  it('deliver every row exactly once between them: each row goes to whichever claimed it', async () => {
    const clock = createTestClock();
    const path = tempDbPath();
    const a = createTestApp({ clock, databasePath: path });
    const b = createTestApp({ clock, databasePath: path });
    const chats = Array.from({ length: 30 }, (_, i) => tg(String(1000 + i)));
    for (const chat of chats) await subscribeWith(a, chat, [1], 0);
    await swing(a, 2);
    const sinkA = createRecordingSink('telegram', clock);
    const sinkB = createRecordingSink('telegram', clock);
    a.alerts.registerSink(sinkA);
    b.alerts.registerSink(sinkB);
    await Promise.all([a.alerts.dispatcher.drain(), b.alerts.dispatcher.drain()]);

    const sent = [...sinkA.attempts, ...sinkB.attempts];
    expect(sent).toHaveLength(60);
    expect(sinkA.attempts.length).toBeGreaterThan(0);
    expect(sinkB.attempts.length).toBeGreaterThan(0);
    for (const chat of chats) {
      expect(sent.filter((s) => s.target.chatId === chat.chatId).map((s) => s.reply.title)).toEqual([
        'OPG volume / market cap crossed above 1x',
        'OPG volume / market cap fell below 1x',
      ]);
      expect(outboxOf(a, chat).every((r) => r.sentAtMs !== null)).toBe(true);
    }
  });
});

describe('bookkeeping after a send, when the store fails for a while (a failover, a pool timeout)', () => {
  const LEASE_MS = 60_000;

  /**
   * An app with one alert waiting for one chat, and a dispatcher of its own over the app's outbox whose
   * `markSent` fails while `fails(nowMs)` says so; every call is written down with the clock's time.
   */
  async function flakyStoreWorld(fails: (call: number, nowMs: number) => boolean) {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', secrets: [], destination: { write: (l: string) => lines.push(l) } });
    const app = createTestApp();
    const chat = tg('111');
    await subscribeWith(app, chat, [1], 0);
    await swing(app, 1);
    const real = app.store.stores.alerts.outbox;
    const markSentAt: number[] = [];
    const store: OutboxStore = {
      ...real,
      async markSent(...args) {
        markSentAt.push(app.clock.now());
        if (fails(markSentAt.length, app.clock.now())) throw new Error('Connection terminated unexpectedly');
        return real.markSent(...args);
      },
    };
    const dispatcher = createAlertDispatcher({ store, clock: app.clock, logger, lifecycle: app.alerts });
    const sink = createRecordingSink('telegram', app.clock);
    dispatcher.registerSink(sink);
    const logged = () =>
      lines.map((l) => JSON.parse(l) as { level: number; msg: string; tries?: number }).filter((l) => l.level >= 40);
    return { app, chat, dispatcher, sink, markSentAt, logged };
  }

  it('tries marking a delivered row sent again until the store answers: one send, one warning', async () => {
    const { app, chat, dispatcher, sink, markSentAt, logged } = await flakyStoreWorld((call) => call <= 2);
    await dispatcher.drain();

    expect(sink.attempts).toHaveLength(1);
    expect(markSentAt).toHaveLength(3);
    expect(markSentAt.at(-1)! - sink.attempts[0]!.atMs).toBeLessThan(LEASE_MS / 2);
    expect(outboxOf(app, chat).map((r) => r.sentAtMs !== null)).toEqual([true]);
    expect(logged()).toEqual([
      expect.objectContaining({ msg: 'alert delivery bookkeeping (sent) went through after failing', tries: 3 }),
    ]);
  });

  it(
    'gives up at the end of the lease when the store stays down, with one error line, ' +
      'and sends nothing again while the claim lasts',
    async () => {
      let firstSendAtMs = 0;
      // Down from the first send until a minute and a half after it: past the first claim's lease.
      const world = await flakyStoreWorld((_call, nowMs) => nowMs < firstSendAtMs + 90_000);
      const { app, chat, dispatcher, sink, markSentAt, logged } = world;
      firstSendAtMs = app.clock.now();
      await dispatcher.drain();

      // The first claim's tries all started by a sixth of the lease before its end, and then stopped.
      const [first, second] = sink.attempts;
      const firstClaimTries = markSentAt.filter((t) => t < second!.atMs);
      expect(firstClaimTries.length).toBeGreaterThan(3);
      expect(Math.max(...firstClaimTries)).toBeLessThanOrEqual(first!.atMs + LEASE_MS - LEASE_MS / 6);
      // Once the lease ended, the row was claimed and sent again (at least once, as after a crash mid-send),
      // and that send was recorded.
      expect(sink.attempts).toHaveLength(2);
      expect(second!.atMs - first!.atMs).toBeGreaterThanOrEqual(LEASE_MS);
      expect(outboxOf(app, chat).map((r) => r.sentAtMs !== null)).toEqual([true]);
      expect(logged().map((l) => [l.level, l.msg])).toEqual([
        [50, 'alert delivery bookkeeping failed (sent); the row goes out again once its lease has ended'],
        [40, 'alert delivery bookkeeping (sent) went through after failing'],
      ]);
    },
  );
});
