import { describe, expect, it } from 'vitest';
import type { ChatRef } from '../../src/core/command.js';
import { replyText, type Reply } from '../../src/core/reply.js';
import { createTestApp } from '../helpers/app.js';
import { freshSnapshot, marketWithRatio, outboxOf, subscribeWith } from '../helpers/alerts.js';
import { startCoinGeckoServer, marketItemWithRatio } from '../helpers/coingecko-server.js';
import { sendJson } from '../helpers/http-server.js';
import { expectNoBadText } from '../helpers/expect.js';

const group: ChatRef = { platform: 'telegram', chatId: '-100123', kind: 'supergroup' };

describe('alert evaluation', () => {
  it('fires nothing when there is no snapshot yet', async () => {
    const cg = await startCoinGeckoServer([marketItemWithRatio(13.2)]);
    cg.fail((_req, res) => sendJson(res, 500, { error: 'down' }));
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    await subscribeWith(app, group, [1, 5, 10], 0);
    await app.core.refresh();
    expect(outboxOf(app, group)).toEqual([]);
    expect((await app.alerts.view(group))?.thresholds.every((t) => t.side === null)).toBe(true);
  });

  it('fires nothing on a stale snapshot, then fires once the figures are fresh again', async () => {
    const cg = await startCoinGeckoServer([marketItemWithRatio(0.8)]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    await subscribeWith(app, group, [1, 5, 10], 0);
    await app.core.refresh();
    expect((await app.alerts.view(group))?.thresholds.map((t) => t.side)).toEqual(['below', 'below', 'below']);

    // A failed refresh keeps the last figures, marked stale: nothing is evaluated.
    app.clock.advance(5 * 60_000);
    cg.fail((_req, res) => sendJson(res, 503, { error: 'busy' }));
    await app.core.refresh();
    // A reading past the stale limit, or one carrying an error, with a ratio that would cross everything.
    const old = freshSnapshot(app.clock, 13.2);
    expect(
      (await app.alerts.evaluate({ market: { ...old.market, fetchedAtMs: app.clock.now() - 16 * 60_000 } })).skipped,
    ).toBe('stale');
    expect(
      (
        await app.alerts.evaluate({
          market: { ...old.market, error: 'CoinGecko: HTTP 503', failedAtMs: app.clock.now() },
        })
      ).skipped,
    ).toBe('stale');
    expect(outboxOf(app, group)).toEqual([]);

    cg.heal();
    cg.setMarkets([marketItemWithRatio(13.2)]);
    app.clock.advance(5 * 60_000);
    await app.core.refresh();
    const rows = outboxOf(app, group);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.crossings.map((c) => c.threshold)).toEqual([1, 5, 10]);
  });

  it('fires nothing when the market cap is zero and the ratio is not available', async () => {
    const app = createTestApp();
    await subscribeWith(app, group, [1], 0);
    await app.alerts.evaluate(freshSnapshot(app.clock, 0.5));
    const snapshot = freshSnapshot(app.clock, 0.5);
    snapshot.market.data = { ...marketWithRatio(5), marketCapUsd: 0 };
    expect((await app.alerts.evaluate(snapshot)).skipped).toBe('no-ratio');
    expect(outboxOf(app, group)).toEqual([]);
  });

  it(
    'writes an alert that says which way, which threshold, ' +
      'the ratio, volume, market cap and as-of time, and mentions no one',
    async () => {
      const app = createTestApp();
      await subscribeWith(app, group, [5], 0);
      await app.alerts.evaluate(freshSnapshot(app.clock, 3));
      app.clock.advance(5 * 60_000);
      await app.alerts.evaluate(freshSnapshot(app.clock, 6.4));
      app.clock.advance(5 * 60_000);
      await app.alerts.evaluate(freshSnapshot(app.clock, 4.4));
      const [up, down] = outboxOf(app, group).map((r) => JSON.parse(r.replyJson) as Reply);
      expect(up!.title).toBe('OPG volume / market cap crossed above 5x');
      expect(up!.lines).toEqual(['Rose to 5x or more (6.4x at 12:05 UTC)']);
      expect(up!.fields).toEqual([
        { label: 'Volume / market cap now', value: '6.4x', inline: true },
        { label: '24h volume', value: '$256M', inline: true },
        { label: 'Market cap', value: '$40M', inline: true },
      ]);
      expect(up!.footer).toBe('CoinGecko · as of 2026-11-22 12:05 UTC');
      expect(down!.title).toBe('OPG volume / market cap fell below 5x');
      expect(down!.lines).toEqual(['Fell below 4.5x, under the 5x threshold (4.4x at 12:10 UTC)']);
      for (const r of [up!, down!]) {
        expectNoBadText(replyText(r));
        expect(replyText(r)).not.toMatch(/@/);
      }
    },
  );

  it('merges crossings inside the cooldown into the next message', async () => {
    const app = createTestApp();
    await subscribeWith(app, group, [1, 5], 60);
    await app.alerts.evaluate(freshSnapshot(app.clock, 0.5));
    app.clock.advance(5 * 60_000);
    await app.alerts.evaluate(freshSnapshot(app.clock, 2)); // crosses 1: sent
    app.clock.advance(10 * 60_000);
    await app.alerts.evaluate(freshSnapshot(app.clock, 6)); // crosses 5: inside the cooldown
    app.clock.advance(10 * 60_000);
    await app.alerts.evaluate(freshSnapshot(app.clock, 0.5)); // down through both: still inside
    expect(outboxOf(app, group)).toHaveLength(1);
    app.clock.advance(45 * 60_000);
    await app.alerts.evaluate(freshSnapshot(app.clock, 0.5)); // cooldown over: one merged message
    const rows = outboxOf(app, group);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.crossings.map((c) => `${c.direction} ${c.threshold}`)).toEqual(['up 5', 'down 5', 'down 1']);
    expect(rows[1]!.createdAtMs - rows[0]!.createdAtMs).toBe(65 * 60_000);
  });

  it(
    'gives each chat its own crossings when one evaluation ' +
      'holds back or sends different lists for different chats',
    async () => {
      const app = createTestApp();
      const a: ChatRef = { platform: 'telegram', chatId: '-100201', kind: 'supergroup' };
      const b: ChatRef = { platform: 'telegram', chatId: '-100202', kind: 'supergroup' };
      const c: ChatRef = { platform: 'discord', chatId: '203', guildId: '777', kind: 'guild_text' };
      await subscribeWith(app, a, [1, 5, 10], 60);
      await subscribeWith(app, b, [1, 5], 60);
      await subscribeWith(app, c, [1, 5], 0);
      const at = async (minute: number, ratio: number) => {
        app.clock.set(Date.parse('2026-11-22T12:00:00Z') + minute * 60_000);
        await app.alerts.evaluate(freshSnapshot(app.clock, ratio));
      };
      await at(0, 0.5);
      await at(5, 2); // 1x for everyone, sent to everyone
      await at(10, 12); // a keeps 5x and 10x, b keeps 5x, c is told 5x
      await at(15, 0.5); // everything down: a and b add it to different lists, c is told
      await at(70, 0.5); // a's and b's cooldowns are over: each gets its own list
      const lists = (chat: ChatRef) =>
        outboxOf(app, chat).map((r) => r.crossings.map((x) => `${x.direction} ${x.threshold}`).join(', '));
      expect(lists(a)).toEqual(['up 1', 'up 5, up 10, down 10, down 5, down 1']);
      expect(lists(b)).toEqual(['up 1', 'up 5, down 5, down 1']);
      expect(lists(c)).toEqual(['up 1', 'up 5', 'down 5, down 1']);
    },
  );

  it('does not fire on subscribing or on a first reading after restart', async () => {
    const cg = await startCoinGeckoServer([marketItemWithRatio(13.2)]);
    const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
    await subscribeWith(app, group, [1, 5, 10], 0);
    await app.core.refresh();
    expect(outboxOf(app, group)).toEqual([]);
  });
});

describe('shared threshold state', () => {
  const other: ChatRef = { platform: 'discord', chatId: '555', guildId: '777', kind: 'guild_text' };
  const directions = (app: ReturnType<typeof createTestApp>, chat: ChatRef) =>
    outboxOf(app, chat).flatMap((r) => r.crossings.map((c) => `${c.direction} ${c.threshold}`));
  const levels = (app: ReturnType<typeof createTestApp>) =>
    app.database.sqlite.prepare(`SELECT ratio, side FROM alert_levels ORDER BY ratio, side`).all();

  it(
    'keeps chats that saw different ratios apart until their sides agree, ' + 'then fires once per chat per crossing',
    async () => {
      const app = createTestApp();
      await subscribeWith(app, group, [1], 0);
      const step = async (ratio: number) => {
        app.clock.advance(60_000);
        await app.alerts.evaluate(freshSnapshot(app.clock, ratio));
      };
      await step(0.95);
      await step(1.2);
      await step(0.95); // inside the hysteresis band: the group's 1x stays above
      await subscribeWith(app, other, [1], 0);
      await step(0.95); // the Discord channel's 1x is first seen here: below
      expect((await app.alerts.view(group))?.thresholds.map((t) => t.side)).toEqual(['above']);
      expect((await app.alerts.view(other))?.thresholds.map((t) => t.side)).toEqual(['below']);
      expect(levels(app)).toEqual([
        { ratio: 1, side: 'above' },
        { ratio: 1, side: 'below' },
      ]);

      await step(1.0); // only the channel crosses up; the two states become one
      expect(levels(app)).toEqual([{ ratio: 1, side: 'above' }]);
      await step(0.8); // both cross down, once each
      await step(0.85);
      expect(directions(app, group)).toEqual(['up 1', 'down 1']);
      expect(directions(app, other)).toEqual(['up 1', 'down 1']);
    },
  );

  it('lists crossings the same way whether the crossed levels hold most thresholds or few', async () => {
    // Staging takes one pass over every threshold when the crossed levels hold four fifths of them or more,
    // and a pass per crossed level otherwise; chats holding other thresholds tip it from one to the other.
    const run = async (bystanders: number) => {
      const app = createTestApp();
      await subscribeWith(app, group, [10, 1, 5], 0);
      for (let i = 0; i < bystanders; i++)
        await subscribeWith(app, { platform: 'telegram', chatId: `-100900${i}`, kind: 'supergroup' }, [20, 30, 40], 0);
      for (const ratio of [0.5, 13.2, 0.5, 5.5]) {
        app.clock.advance(60_000);
        await app.alerts.evaluate(freshSnapshot(app.clock, ratio));
      }
      return outboxOf(app, group).map((r) => r.crossings.map((c) => `${c.direction} ${c.threshold}`).join(', '));
    };
    const expected = ['up 1, up 5, up 10', 'down 10, down 5, down 1', 'up 1, up 5'];
    expect(await run(0)).toEqual(expected);
    expect(await run(2)).toEqual(expected);
  });

  it('keeps every chat’s crossings apart when 61 levels flip at once', async () => {
    const app = createTestApp();
    // Six chats with ten thresholds each, interleaved from 1x to 60x: 60 distinct levels, each chat's spread
    // across all of them and created out of ratio order, so each list follows the message order, not the levels'.
    const chats = Array.from({ length: 6 }, (_, k): ChatRef => ({
      platform: 'telegram',
      chatId: `-100700${k}`,
      kind: 'supergroup',
    }));
    const thresholds = (k: number) => Array.from({ length: 10 }, (_, j) => j * 6 + k + 1);
    for (const [k, chat] of chats.entries()) await subscribeWith(app, chat, thresholds(k), 0);
    const late: ChatRef = { platform: 'discord', chatId: '701', guildId: '777', kind: 'guild_text' };
    await subscribeWith(app, late, [100], 60);
    const at = async (minute: number, ratio: number) => {
      app.clock.set(Date.parse('2026-11-22T12:00:00Z') + minute * 60_000);
      await app.alerts.evaluate(freshSnapshot(app.clock, ratio));
    };
    await at(0, 0.5);
    await at(1, 200); // all 61 levels up
    await at(2, 0.5); // all 61 down; the late chat keeps its 100x for its cooldown
    await at(70, 60.5); // 60 up again; the late chat's wait is over with nothing new for it
    const lists = (chat: ChatRef) =>
      outboxOf(app, chat).map((r) => r.crossings.map((x) => `${x.direction} ${x.threshold}`).join(', '));
    const up = (k: number) =>
      thresholds(k)
        .map((t) => `up ${t}`)
        .join(', ');
    const down = (k: number) =>
      thresholds(k)
        .reverse()
        .map((t) => `down ${t}`)
        .join(', ');
    chats.forEach((chat, k) => expect(lists(chat)).toEqual([up(k), down(k), up(k)]));
    expect(lists(late)).toEqual(['up 100', 'down 100']);
  });

  it('drops the crossings a chat was waiting for when it is paused, and never queues them', async () => {
    const app = createTestApp();
    await subscribeWith(app, group, [1, 5], 60);
    const step = async (minutes: number, ratio: number) => {
      app.clock.advance(minutes * 60_000);
      await app.alerts.evaluate(freshSnapshot(app.clock, ratio));
    };
    await step(0, 0.5);
    await step(5, 2); // 1x: sent
    await step(5, 6); // 5x: waits for the cooldown
    await app.alerts.pauseChat('telegram', group.chatId, 'bot was removed');
    await step(60, 6.1);
    await app.alerts.subscribe(group, 'tester');
    await step(60, 6.2);
    expect(directions(app, group)).toEqual(['up 1']);
  });

  it('evaluates nothing for a paused chat and only records the side again after it resubscribes', async () => {
    const app = createTestApp();
    await subscribeWith(app, group, [1, 5], 0);
    await app.alerts.evaluate(freshSnapshot(app.clock, 0.8));
    await app.alerts.pauseChat('telegram', group.chatId, 'bot was removed');
    app.clock.advance(60_000);
    expect((await app.alerts.evaluate(freshSnapshot(app.clock, 6))).crossings).toBe(0);
    await app.alerts.subscribe(group, 'tester');
    app.clock.advance(60_000);
    expect((await app.alerts.evaluate(freshSnapshot(app.clock, 6.2))).crossings).toBe(0);
    expect((await app.alerts.view(group))?.thresholds.map((t) => t.side)).toEqual(['above', 'above']);
    app.clock.advance(60_000);
    expect((await app.alerts.evaluate(freshSnapshot(app.clock, 0.5))).crossings).toBe(2);
    expect(directions(app, group)).toEqual(['down 5', 'down 1']);
  });
});

describe('daily digest', () => {
  it(
    'posts the stats, the ratio 24h low and high and ' + 'the alerts of the day at the chosen UTC minute, once',
    async () => {
      const cg = await startCoinGeckoServer([marketItemWithRatio(0.8)]);
      const app = createTestApp({ env: { COINGECKO_API_URL: cg.url } });
      await subscribeWith(app, group, [1, 5, 10], 0);
      await app.alerts.setDigest(group, 8 * 60);
      for (const [r, at] of [
        [0.8, '2026-11-22T20:00:00Z'],
        [2.2, '2026-11-23T02:00:00Z'],
        [1.5, '2026-11-23T07:55:00Z'],
      ] as const) {
        app.clock.set(Date.parse(at));
        cg.setMarkets([marketItemWithRatio(r)]);
        await app.core.refresh();
      }
      expect(await app.alerts.runDigests()).toBe(0);

      app.clock.set(Date.parse('2026-11-23T08:00:20Z'));
      expect(await app.alerts.runDigests()).toBe(1);
      app.clock.set(Date.parse('2026-11-23T08:01:00Z'));
      expect(await app.alerts.runDigests()).toBe(0);

      const digest = outboxOf(app, group).filter((r) => r.kind === 'digest');
      expect(digest).toHaveLength(1);
      const reply = JSON.parse(digest[0]!.replyJson) as Reply;
      const text = replyText(reply);
      expect(reply.title).toBe('OPG daily digest');
      expect(text).toContain('Volume / market cap\n1.5x');
      expect(text).toContain('low 0.8x · high 2.2x (3 readings)');
      expect(text).toContain('Rose to 1x or more (2.2x at 02:00 UTC)');
      expectNoBadText(text);
    },
  );

  it('skips a digest whose minute passed more than an hour before the bot came back', async () => {
    const app = createTestApp();
    await subscribeWith(app, group, [1], 0);
    await app.alerts.setDigest(group, 8 * 60);
    app.clock.set(Date.parse('2026-11-23T09:30:00Z'));
    expect(await app.alerts.runDigests()).toBe(0);
    app.clock.set(Date.parse('2026-11-24T08:30:00Z'));
    expect(await app.alerts.runDigests()).toBe(1);
  });
});
