/**
 * The alert stores' contract, run on every backend (a SQLite file, PGlite, the real PostgreSQL server when
 * TEST_DATABASE_URL is set): the same calls through the ports, the same answers. Evaluation rounds are
 * built as the alerts service builds them (its `crossingsAt` and `downBoundOf`), with a message
 * that lists the crossings, so each chat's outbox says exactly which crossings it was sent.
 */
import { describe, expect, it } from 'vitest';
import type { Crossing } from '../../src/core/alert-rules.js';
import type { AlertStores, EvaluationCounts, NewSubscription } from '../../src/core/alert-ports.js';
import { crossingsAt, downBoundOf } from '../../src/core/alerts.js';
import type { Reply } from '../../src/core/reply.js';
import { STORE_BACKENDS, storesOn } from '../helpers/store-backends.js';

const MIN = 60_000;
const HYSTERESIS = 0.1;
const T0 = Date.UTC(2026, 0, 1);

/** A round of a reading fetched at `nowMs` unless `fetchedAtMs` says otherwise. */
function round(ratio: number, nowMs: number, fetchedAtMs = nowMs) {
  return {
    ratio,
    nowMs,
    fetchedAtMs,
    downBound: downBoundOf(ratio, HYSTERESIS),
    crossingsOf: crossingsAt(ratio, nowMs, HYSTERESIS),
    message: (crossings: readonly Crossing[]): Reply =>
      ({ text: crossings.map((c) => `${c.direction} ${c.threshold}`).join(', ') }) as unknown as Reply,
  };
}

function chat(
  chatId: string,
  thresholds: readonly number[],
  platform: 'telegram' | 'discord' = 'telegram',
): NewSubscription {
  return { platform, chatId, threadId: null, guildId: null, createdBy: 'tester', thresholds };
}

/** Delivers every undelivered row on `platform` through the ports: what each chat was sent, by chat. */
async function deliverAll(
  stores: AlertStores,
  nowMs: number,
  platform: 'telegram' | 'discord' = 'telegram',
): Promise<Record<string, string[]>> {
  const sent: Record<string, string[]> = {};
  for (;;) {
    const heads = await stores.outbox.heads(platform, 1_000);
    if (heads.length === 0) return sent;
    for (const head of heads) {
      const lease = await stores.outbox.claim(head.id, nowMs, MIN);
      expect(lease).toBe(nowMs + MIN);
      const payload = (await stores.outbox.payload(head.payloadId)) as unknown as { text: string };
      (sent[head.chatId] ??= []).push(`${head.kind}: ${payload.text}`);
      expect(await stores.outbox.markSent(head.id, lease, nowMs)).toBe(true);
    }
  }
}

const counts = (crossings: number, messages: number, deferred: number): EvaluationCounts => ({
  crossings,
  messages,
  deferred,
});

// The first PGlite of a worker compiles and migrates PostgreSQL: seconds, more on a busy machine.
describe.each(STORE_BACKENDS)('alert stores on %s', { timeout: 60_000 }, (backend) => {
  it(
    'records sides at first sight, ' +
      'then alerts every chat holding a crossed level once, listing its crossings in order',
    async ({ skip }) => {
      const { alerts } = await storesOn(backend, skip);
      const a = await alerts.subscriptions.subscribe(chat('a', [1, 5, 10]), T0);
      await alerts.subscriptions.subscribe(chat('b', [5]), T0);
      await alerts.subscriptions.subscribe(chat('c', [20]), T0);

      expect(await alerts.evaluation.evaluate(round(0.5, T0))).toEqual(counts(0, 0, 0));
      expect((await alerts.subscriptions.thresholdsOf(a.id)).map((t) => t.side)).toEqual(['below', 'below', 'below']);
      expect(await deliverAll(alerts, T0)).toEqual({});

      expect(await alerts.evaluation.evaluate(round(13.2, T0 + MIN))).toEqual(counts(4, 2, 0));
      expect(await deliverAll(alerts, T0 + MIN)).toEqual({ a: ['alert: up 1, up 5, up 10'], b: ['alert: up 5'] });
      expect((await alerts.subscriptions.thresholdsOf(a.id)).map((t) => t.side)).toEqual(['above', 'above', 'above']);
      expect((await alerts.subscriptions.byId(a.id))!.lastAlertAtMs).toBe(T0 + MIN);
      // A quiet tick writes nothing.
      expect(await alerts.evaluation.evaluate(round(13.1, T0 + 2 * MIN))).toEqual(counts(0, 0, 0));
    },
  );

  it(
    'skips a reading older than one evaluated already (a stepped-down leader committing last): no level moves, ' +
      'nothing is queued',
    async ({ skip }) => {
      const { alerts } = await storesOn(backend, skip);
      const a = await alerts.subscriptions.subscribe(chat('a', [1, 5]), T0);
      await alerts.subscriptions.setCooldown(a.id, 0);
      await alerts.evaluation.evaluate(round(0.5, T0));
      // The new leader's reading, fetched at T0 + 2 min, crosses both levels up...
      expect(await alerts.evaluation.evaluate(round(6, T0 + 2 * MIN))).toEqual(counts(2, 1, 0));
      expect(await deliverAll(alerts, T0 + 2 * MIN)).toEqual({ a: ['alert: up 1, up 5'] });
      // ...then the old leader's slower refresh, fetched at T0 + 1 min, is evaluated: it changes nothing.
      expect(await alerts.evaluation.evaluate(round(0.5, T0 + 3 * MIN, T0 + MIN))).toBeNull();
      expect((await alerts.subscriptions.thresholdsOf(a.id)).map((t) => t.side)).toEqual(['above', 'above']);
      expect(await deliverAll(alerts, T0 + 3 * MIN)).toEqual({});
      // The same reading again is evaluated, and crosses nothing twice; a newer one crosses from where it left.
      expect(await alerts.evaluation.evaluate(round(6, T0 + 4 * MIN, T0 + 2 * MIN))).toEqual(counts(0, 0, 0));
      expect(await alerts.evaluation.evaluate(round(0.5, T0 + 5 * MIN))).toEqual(counts(2, 1, 0));
      expect(await deliverAll(alerts, T0 + 5 * MIN)).toEqual({ a: ['alert: down 5, down 1'] });
    },
  );

  it('re-arms only below the hysteresis band, and crosses down in descending order', async ({ skip }) => {
    const { alerts } = await storesOn(backend, skip);
    await alerts.subscriptions.subscribe(chat('a', [2, 3]), T0);
    await alerts.subscriptions.setCooldown((await alerts.subscriptions.byChat('telegram', 'a'))!.id, 0);
    await alerts.evaluation.evaluate(round(1, T0));
    await alerts.evaluation.evaluate(round(3.5, T0 + MIN));
    await deliverAll(alerts, T0 + MIN);
    // 2.75 is within 10% under 3: no crossing.
    expect(await alerts.evaluation.evaluate(round(2.75, T0 + 2 * MIN))).toEqual(counts(0, 0, 0));
    expect(await alerts.evaluation.evaluate(round(1.7, T0 + 3 * MIN))).toEqual(counts(2, 1, 0));
    expect(await deliverAll(alerts, T0 + 3 * MIN)).toEqual({ a: ['alert: down 3, down 2'] });
  });

  it('defers crossings inside the cooldown and sends them, waiting ones first, when it is over', async ({ skip }) => {
    const { alerts } = await storesOn(backend, skip);
    await alerts.subscriptions.subscribe(chat('a', [1, 5]), T0);
    await alerts.subscriptions.subscribe(chat('b', [1]), T0);
    await alerts.evaluation.evaluate(round(0.5, T0));
    expect(await alerts.evaluation.evaluate(round(1.5, T0 + MIN))).toEqual(counts(2, 2, 0));
    await deliverAll(alerts, T0 + MIN);
    // Inside the 60 min cooldown: 5 up for a is kept waiting.
    expect(await alerts.evaluation.evaluate(round(6, T0 + 10 * MIN))).toEqual(counts(1, 0, 1));
    expect(await deliverAll(alerts, T0 + 10 * MIN)).toEqual({});
    // Still inside: the fresh down crossings of both chats; a's join its waiting row, b's start one.
    expect(await alerts.evaluation.evaluate(round(0.5, T0 + 20 * MIN))).toEqual(counts(3, 0, 2));
    // A quiet tick once the cooldown is over sends each chat its waiting crossings.
    expect(await alerts.evaluation.evaluate(round(0.5, T0 + 61 * MIN))).toEqual(counts(0, 2, 0));
    expect(await deliverAll(alerts, T0 + 61 * MIN)).toEqual({
      a: ['alert: up 5, down 5, down 1'],
      b: ['alert: down 1'],
    });
    expect(await alerts.evaluation.evaluate(round(0.5, T0 + 130 * MIN))).toEqual(counts(0, 0, 0));
  });

  it('keeps every chat apart when 60 levels cross at once', async ({ skip }) => {
    const { alerts } = await storesOn(backend, skip);
    const many = Array.from({ length: 60 }, (_, i) => 1 + i / 10);
    await alerts.subscriptions.subscribe(chat('all', many), T0);
    await alerts.subscriptions.subscribe(
      chat(
        'odd',
        many.filter((_, i) => i % 2 === 1),
      ),
      T0,
    );
    await alerts.subscriptions.subscribe(chat('last', [many.at(-1)!]), T0);
    await alerts.evaluation.evaluate(round(0.5, T0));
    expect(await alerts.evaluation.evaluate(round(10, T0 + MIN))).toEqual(counts(91, 3, 0));
    const sent = await deliverAll(alerts, T0 + MIN);
    expect(sent.all).toEqual([`alert: ${many.map((r) => `up ${r}`).join(', ')}`]);
    expect(sent.odd).toEqual([
      `alert: ${many
        .filter((_, i) => i % 2 === 1)
        .map((r) => `up ${r}`)
        .join(', ')}`,
    ]);
    expect(sent.last).toEqual([`alert: up ${many.at(-1)}`]);
  });

  it('shares levels: a threshold added later records its own side, and same-side levels merge', async ({ skip }) => {
    const { alerts } = await storesOn(backend, skip);
    const a = await alerts.subscriptions.subscribe(chat('a', [2]), T0);
    await alerts.evaluation.evaluate(round(1, T0));
    const b = await alerts.subscriptions.subscribe(chat('b', [2]), T0 + MIN);
    expect((await alerts.subscriptions.thresholdsOf(b.id))[0]!.side).toBeNull();
    expect(await alerts.evaluation.evaluate(round(1, T0 + 2 * MIN))).toEqual(counts(0, 0, 0));
    expect((await alerts.subscriptions.thresholdsOf(b.id))[0]!.side).toBe('below');
    expect(await alerts.evaluation.evaluate(round(2.5, T0 + 3 * MIN))).toEqual(counts(2, 2, 0));
    expect(await deliverAll(alerts, T0 + 3 * MIN)).toEqual({ a: ['alert: up 2'], b: ['alert: up 2'] });
    expect((await alerts.subscriptions.thresholdsOf(a.id))[0]!.side).toBe('above');
  });

  it('pausing drops waiting crossings and stops evaluation; subscribing again forgets the old sides and rows', async ({
    skip,
  }) => {
    const { alerts } = await storesOn(backend, skip);
    const a = await alerts.subscriptions.subscribe(chat('a', [1, 5]), T0);
    await alerts.evaluation.evaluate(round(0.5, T0));
    await alerts.evaluation.evaluate(round(1.5, T0 + MIN));
    expect(await alerts.evaluation.evaluate(round(6, T0 + 2 * MIN))).toEqual(counts(1, 0, 1));
    await alerts.subscriptions.pause(a.id, 'bot removed', T0 + 3 * MIN);
    expect((await alerts.subscriptions.byId(a.id))!).toMatchObject({
      status: 'paused',
      pauseReason: 'bot removed',
      pausedAtMs: T0 + 3 * MIN,
    });
    expect(await alerts.evaluation.evaluate(round(0.5, T0 + 100 * MIN))).toEqual(counts(0, 0, 0));
    expect(await alerts.outbox.heads('telegram', 10)).toEqual([]);
    const again = await alerts.subscriptions.subscribe(chat('a', []), T0 + 101 * MIN);
    expect(again.id).toBe(a.id);
    expect((await alerts.subscriptions.thresholdsOf(a.id)).map((t) => t.side)).toEqual([null, null]);
    expect(await alerts.outbox.heads('telegram', 10)).toEqual([]);
    await alerts.subscriptions.unsubscribe(a.id);
    expect(await alerts.subscriptions.byChat('telegram', 'a')).toBeNull();
    expect(await alerts.subscriptions.thresholdsOf(a.id)).toEqual([]);
  });

  it('changes thresholds, cooldown and digest time, and moves a chat with its undelivered rows', async ({ skip }) => {
    const { alerts } = await storesOn(backend, skip);
    const a = await alerts.subscriptions.subscribe(chat('a', [1]), T0);
    await alerts.subscriptions.addThreshold(a.id, 3);
    const [one] = await alerts.subscriptions.thresholdsOf(a.id);
    await alerts.subscriptions.removeThreshold(one!.id);
    expect((await alerts.subscriptions.thresholdsOf(a.id)).map((t) => t.ratio)).toEqual([3]);
    await alerts.subscriptions.setCooldown(a.id, 15);
    await alerts.subscriptions.setDigest(a.id, 9 * 60, T0);
    expect(await alerts.subscriptions.byId(a.id)).toMatchObject({
      cooldownMinutes: 15,
      digestMinute: 540,
      lastDigestAtMs: T0,
    });
    await alerts.evaluation.evaluate(round(1, T0));
    await alerts.evaluation.evaluate(round(4, T0 + MIN));
    const target = await alerts.subscriptions.subscribe(chat('a2', [7]), T0);
    await alerts.subscriptions.moveChat('telegram', 'a', 'a2');
    expect(await alerts.subscriptions.byChat('telegram', 'a')).toBeNull();
    expect((await alerts.outbox.heads('telegram', 10)).map((h) => [h.subscriptionId, h.chatId])).toEqual([
      [target.id, 'a2'],
    ]);
  });

  it(
    'sends a chat its messages in the order they were written, ' +
      'though an alert for many chats is split into rows later',
    async ({ skip }) => {
      const { alerts } = await storesOn(backend, skip);
      const a = await alerts.subscriptions.subscribe(chat('a', [1]), T0);
      await alerts.subscriptions.subscribe(chat('b', [1]), T0);
      await alerts.evaluation.evaluate(round(0.5, T0));
      expect(await alerts.evaluation.evaluate(round(2, T0 + MIN))).toEqual(counts(2, 2, 0));
      // Written after the alert, before anything read the outbox (so before the alert's fan-out was split).
      await alerts.digests.queue(
        [{ subscriptionId: a.id, lastDigestAtMs: null, reply: { text: 'digest of a' } as unknown as Reply }],
        T0 + MIN,
      );
      expect(await deliverAll(alerts, T0 + 2 * MIN)).toEqual({
        a: ['alert: up 1', 'digest: digest of a'],
        b: ['alert: up 1'],
      });
    },
  );

  it('drops the alerts a chat missed while paused even when they were not yet split into rows', async ({ skip }) => {
    const { alerts } = await storesOn(backend, skip);
    const a = await alerts.subscriptions.subscribe(chat('a', [1]), T0);
    await alerts.subscriptions.subscribe(chat('b', [1]), T0);
    await alerts.evaluation.evaluate(round(0.5, T0));
    await alerts.evaluation.evaluate(round(2, T0 + MIN));
    await alerts.subscriptions.pause(a.id, 'gone', T0 + MIN);
    await alerts.subscriptions.subscribe(chat('a', [1]), T0 + 2 * MIN);
    expect(await deliverAll(alerts, T0 + 2 * MIN)).toEqual({ b: ['alert: up 1'] });
  });

  it('queues digests with what each chat was alerted to, and records them as the last', async ({ skip }) => {
    const { alerts } = await storesOn(backend, skip);
    const a = await alerts.subscriptions.subscribe(chat('a', [1]), T0);
    const b = await alerts.subscriptions.subscribe(chat('b', [1]), T0);
    await alerts.subscriptions.setDigest(a.id, 60, T0);
    await alerts.evaluation.evaluate(round(0.5, T0));
    await alerts.evaluation.evaluate(round(2, T0 + MIN));
    expect((await alerts.digests.withDigest()).map((s) => s.id)).toEqual([a.id]);
    const alerted = await alerts.digests.alertedSince([a.id, b.id], T0);
    expect(alerted.get(a.id)).toEqual([{ threshold: 1, direction: 'up', atMs: T0 + MIN, ratio: 2 }]);
    expect(alerted.get(b.id)).toHaveLength(1);
    expect((await alerts.digests.alertedSince([a.id], T0 + 2 * MIN)).size).toBe(0);
    const read = (await alerts.digests.withDigest())[0]!.lastDigestAtMs;
    const digest = { subscriptionId: a.id, lastDigestAtMs: read, reply: { text: 'digest of a' } as unknown as Reply };
    expect(await alerts.digests.queue([digest], T0 + 2 * MIN)).toBe(1);
    expect((await alerts.subscriptions.byId(a.id))!.lastDigestAtMs).toBe(T0 + 2 * MIN);
    // A second leader of a hand-over built the same digest from the same reading: it is not queued again.
    expect(await alerts.digests.queue([digest], T0 + 2 * MIN + 500)).toBe(0);
    expect((await alerts.subscriptions.byId(a.id))!.lastDigestAtMs).toBe(T0 + 2 * MIN);
    expect(await deliverAll(alerts, T0 + 2 * MIN)).toEqual({
      a: ['alert: up 1', 'digest: digest of a'],
      b: ['alert: up 1'],
    });
    // The next day's digest, built from the recorded time, is queued.
    const next = { ...digest, lastDigestAtMs: T0 + 2 * MIN, reply: { text: 'next' } as unknown as Reply };
    expect(await alerts.digests.queue([next], T0 + 2 * MIN + 86_400_000)).toBe(1);
  });

  it('settles rows: retry keeps the row with its next attempt, failed and sent ones are pruned later', async ({
    skip,
  }) => {
    const { alerts } = await storesOn(backend, skip);
    await alerts.subscriptions.subscribe(chat('a', [1]), T0);
    await alerts.subscriptions.subscribe(chat('b', [1]), T0);
    await alerts.evaluation.evaluate(round(0.5, T0));
    await alerts.evaluation.evaluate(round(2, T0 + MIN));
    const [ha, hb] = await alerts.outbox.heads('telegram', 10);
    expect(ha).toMatchObject({
      chatId: 'a',
      kind: 'alert',
      attempts: 0,
      nextAttemptAtMs: T0 + MIN,
      claimedUntilMs: null,
      threadId: null,
      guildId: null,
    });
    expect(await alerts.outbox.claim(ha!.id, T0 + MIN, MIN)).toBe(T0 + 2 * MIN);
    expect(await alerts.outbox.markRetry(ha!.id, T0 + 2 * MIN, T0 + 5 * MIN, 'HTTP 502')).toBe(true);
    expect(await alerts.outbox.claim(hb!.id, T0 + MIN, MIN)).toBe(T0 + 2 * MIN);
    expect(await alerts.outbox.markFailed(hb!.id, T0 + 2 * MIN, T0 + MIN, 'gave up')).toBe(true);
    expect(await alerts.outbox.heads('telegram', 10)).toEqual([
      expect.objectContaining({ id: ha!.id, attempts: 1, nextAttemptAtMs: T0 + 5 * MIN, claimedUntilMs: null }),
    ]);
    expect(await alerts.outbox.claim(hb!.id, T0 + 2 * MIN, MIN)).toBeNull();
    // Settled without a claim (as a row whose message is gone is): the row carries no lease.
    expect(await alerts.outbox.markSent(ha!.id, null, T0 + 5 * MIN)).toBe(true);
    expect(await alerts.outbox.heads('telegram', 10)).toEqual([]);
    await alerts.outbox.prune(T0 + 2 * MIN);
    expect(await alerts.outbox.payload(ha!.payloadId)).not.toBeNull();
    await alerts.outbox.prune(T0 + 6 * MIN);
    expect(await alerts.outbox.payload(ha!.payloadId)).toBeNull();
    expect(await alerts.outbox.heads('discord', 10)).toEqual([]);
  });

  it('leases a claimed row: nobody else claims it until it is settled, released or the lease runs out', async ({
    skip,
  }) => {
    const { alerts } = await storesOn(backend, skip);
    await alerts.subscriptions.subscribe(chat('a', [1]), T0);
    await alerts.evaluation.evaluate(round(0.5, T0));
    await alerts.evaluation.evaluate(round(2, T0 + MIN));
    const [head] = await alerts.outbox.heads('telegram', 10);
    expect(await alerts.outbox.claim(head!.id, T0 + MIN, 2 * MIN)).toBe(T0 + 3 * MIN);
    expect((await alerts.outbox.heads('telegram', 10))[0]!.claimedUntilMs).toBe(T0 + 3 * MIN);
    expect(await alerts.outbox.claim(head!.id, T0 + 2 * MIN, 2 * MIN)).toBeNull();
    // The lease ran out (its dispatcher died mid-send): another one takes the row.
    expect(await alerts.outbox.claim(head!.id, T0 + 3 * MIN, 2 * MIN)).toBe(T0 + 5 * MIN);
    expect(await alerts.outbox.release(head!.id, T0 + 5 * MIN)).toBe(true);
    expect(await alerts.outbox.claim(head!.id, T0 + 3 * MIN, 2 * MIN)).toBe(T0 + 5 * MIN);
    expect(await alerts.outbox.markSent(head!.id, T0 + 5 * MIN, T0 + 4 * MIN)).toBe(true);
    expect(await alerts.outbox.claim(head!.id, T0 + 10 * MIN, 2 * MIN)).toBeNull();
  });

  it("settles only with the row's own claim: a stale claimant whose lease was taken over changes nothing", async ({
    skip,
  }) => {
    const stores = await storesOn(backend, skip);
    const { alerts } = stores;
    const other = await stores.second();
    await alerts.subscriptions.subscribe(chat('a', [1]), T0);
    await alerts.evaluation.evaluate(round(0.5, T0));
    await alerts.evaluation.evaluate(round(2, T0 + MIN));
    const [head] = await alerts.outbox.heads('telegram', 10);
    // The first leader claims and sends; its store fails until its lease has run out; the next leader claims.
    const stale = (await alerts.outbox.claim(head!.id, T0 + MIN, MIN))!;
    const current = (await other.outbox.claim(head!.id, T0 + 2 * MIN, MIN))!;
    expect(current).toBeGreaterThan(stale);
    const before = await alerts.outbox.heads('telegram', 10);
    expect(before).toEqual([expect.objectContaining({ id: head!.id, attempts: 0, claimedUntilMs: current })]);

    // Every late write of the first one is refused, and the row stays the second one's.
    expect(await alerts.outbox.markSent(head!.id, stale, T0 + 2 * MIN)).toBe(false);
    expect(await alerts.outbox.markRetry(head!.id, stale, T0 + 3 * MIN, 'HTTP 502')).toBe(false);
    expect(await alerts.outbox.markFailed(head!.id, stale, T0 + 2 * MIN, 'gave up')).toBe(false);
    expect(await alerts.outbox.release(head!.id, stale)).toBe(false);
    expect(await alerts.outbox.markSent(head!.id, null, T0 + 2 * MIN)).toBe(false);
    expect(await alerts.outbox.heads('telegram', 10)).toEqual(before);
    // So nobody can claim the row for a third send while the second one holds it.
    expect(await alerts.outbox.claim(head!.id, T0 + 2 * MIN + 1, MIN)).toBeNull();

    // The holder settles it; a second settle with the same claim, once the row is sent, changes nothing either.
    expect(await other.outbox.markSent(head!.id, current, T0 + 2 * MIN)).toBe(true);
    expect(await other.outbox.markSent(head!.id, current, T0 + 3 * MIN)).toBe(false);
    expect(await other.outbox.markRetry(head!.id, current, T0 + 3 * MIN, 'late')).toBe(false);
    expect(await alerts.outbox.heads('telegram', 10)).toEqual([]);
  });

  it('gives two concurrent claimers on two connections disjoint rows', async ({ skip }) => {
    const stores = await storesOn(backend, skip);
    const { alerts } = stores;
    const other = await stores.second();
    for (let i = 0; i < 40; i++) await alerts.subscriptions.subscribe(chat(`c${i}`, [1]), T0);
    await alerts.evaluation.evaluate(round(0.5, T0));
    expect((await alerts.evaluation.evaluate(round(2, T0 + MIN)))?.messages).toBe(40);
    const ids = (await alerts.outbox.heads('telegram', 100)).map((h) => h.id);
    expect(ids).toHaveLength(40);
    const claimAll = (stores: AlertStores) =>
      Promise.all(ids.map(async (id) => ((await stores.outbox.claim(id, T0 + MIN, MIN)) ? [id] : [])));
    const [mine, theirs] = await Promise.all([claimAll(alerts), claimAll(other)]);
    const won = [...mine.flat(), ...theirs.flat()].sort((x, y) => x - y);
    expect(won).toEqual([...ids].sort((x, y) => x - y));
  });

  it('two evaluations of one refresh at once (two leaders overlapping) alert each chat once', async ({ skip }) => {
    const stores = await storesOn(backend, skip);
    const other = await stores.second();
    for (let i = 0; i < 20; i++) await stores.alerts.subscriptions.subscribe(chat(`c${i}`, [1, 2]), T0);
    await stores.alerts.evaluation.evaluate(round(0.5, T0));
    const results = await Promise.all([
      stores.alerts.evaluation.evaluate(round(3, T0 + MIN)),
      other.evaluation.evaluate(round(3, T0 + MIN)),
    ]);
    expect(results.map((r) => r?.messages).sort()).toEqual([0, 20]);
    const sent = await deliverAll(stores.alerts, T0 + MIN);
    expect(Object.keys(sent)).toHaveLength(20);
    expect(Object.values(sent).every((messages) => messages.length === 1 && messages[0] === 'alert: up 1, up 2')).toBe(
      true,
    );
  });
});
