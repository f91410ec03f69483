import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextSide, type Crossing, type Side } from '../../src/core/alert-rules.js';
import type { ChatRef } from '../../src/core/command.js';
import { volumeToMarketCap } from '../../src/core/metrics.js';
import { createTestApp } from '../helpers/app.js';
import { freshSnapshot, marketWithRatio, outboxOf, subscribeWith } from '../helpers/alerts.js';

const H = 0.1;
const ratioArb = fc.double({ min: 0.001, max: 2000, noNaN: true, noDefaultInfinity: true });

/** The ratio the service actually sees for a generated one (volume / cap after rounding). */
const seen = (r: number) => volumeToMarketCap(marketWithRatio(r))!;

/** The reference: every crossing the hysteresis rule gives for a sequence of ratios. */
function expectedCrossings(threshold: number, ratios: readonly number[]): Array<'up' | 'down'> {
  let side: Side | null = null;
  const out: Array<'up' | 'down'> = [];
  for (const r of ratios) {
    const change = nextSide(side, threshold, seen(r), H);
    side = change.side;
    if (change.crossed) out.push(change.crossed);
  }
  return out;
}

let chatSeq = 0;
function newChat(): ChatRef {
  chatSeq += 1;
  return { platform: 'telegram', chatId: `-100${chatSeq}`, kind: 'supergroup' };
}

describe('alert crossings (property tests)', () => {
  it('fires nothing while the ratio stays on one side of a threshold', async () => {
    const app = createTestApp();
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0.01, max: 1000, noNaN: true }),
        fc.boolean(),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 25 }),
        async (threshold, above, positions) => {
          const chat = newChat();
          await subscribeWith(app, chat, [threshold], 0);
          // Above: first seen at or over the threshold, then anywhere from the re-arm line to 1.3x it, so
          // the hysteresis band is well visited. Below: anywhere under the threshold.
          const ratios = positions.map((p, i) =>
            above
              ? (i === 0 ? threshold * 1.0001 : threshold * (1 - H) * 1.0001) + p * threshold * 0.4
              : threshold * 0.9999 * p,
          );
          for (const r of ratios) {
            app.clock.advance(5 * 60_000);
            await app.alerts.evaluate(freshSnapshot(app.clock, r));
          }
          expect(outboxOf(app, chat)).toEqual([]);
          await app.alerts.unsubscribe(chat);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('fires exactly one alert per real crossing, in both directions', async () => {
    const app = createTestApp();
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.double({ min: 0.01, max: 1000, noNaN: true }), {
          minLength: 1,
          maxLength: 4,
          comparator: (a, b) => Math.abs(a - b) < 1e-6,
        }),
        fc.array(ratioArb, { minLength: 1, maxLength: 30 }),
        async (thresholds, ratios) => {
          const chat = newChat();
          await subscribeWith(app, chat, thresholds, 0);
          for (const r of ratios) {
            app.clock.advance(5 * 60_000);
            await app.alerts.evaluate(freshSnapshot(app.clock, r));
          }
          const fired = outboxOf(app, chat).flatMap((row) => row.crossings);
          for (const t of thresholds) {
            const got = fired.filter((c) => Math.abs(c.threshold - t) < 1e-9).map((c) => c.direction);
            expect(got).toEqual(expectedCrossings(t, ratios));
          }
          await app.alerts.unsubscribe(chat);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('counts a swing from clearly below to at-or-above and back as one crossing each way', async () => {
    const app = createTestApp();
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0.02, max: 900, noNaN: true }),
        fc.integer({ min: 2, max: 12 }),
        async (threshold, swings) => {
          const chat = newChat();
          await subscribeWith(app, chat, [threshold], 0);
          for (let i = 0; i < swings; i++) {
            app.clock.advance(5 * 60_000);
            await app.alerts.evaluate(
              freshSnapshot(app.clock, i % 2 === 0 ? threshold * (1 - H) * 0.98 : threshold * 1.01),
            );
          }
          const rows = outboxOf(app, chat);
          expect(rows).toHaveLength(swings - 1);
          expect(rows.every((r) => r.crossings.length === 1)).toBe(true);
          await app.alerts.unsubscribe(chat);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never posts more often than the cooldown, and merges crossings inside it into the next message', async () => {
    const app = createTestApp();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 180 }),
        fc.array(fc.tuple(ratioArb, fc.integer({ min: 1, max: 120 })), { minLength: 1, maxLength: 30 }),
        async (cooldownMinutes, steps) => {
          const chat = newChat();
          const thresholds = [1, 5, 10];
          await subscribeWith(app, chat, thresholds, cooldownMinutes);
          for (const [r, gapMinutes] of steps) {
            app.clock.advance(gapMinutes * 60_000);
            await app.alerts.evaluate(freshSnapshot(app.clock, r));
          }
          // One more fresh reading after the cooldown flushes what is still pending.
          app.clock.advance(cooldownMinutes * 60_000);
          await app.alerts.evaluate(freshSnapshot(app.clock, steps[steps.length - 1]![0]));

          const rows = outboxOf(app, chat);
          for (let i = 1; i < rows.length; i++) {
            expect(rows[i]!.createdAtMs - rows[i - 1]!.createdAtMs).toBeGreaterThanOrEqual(cooldownMinutes * 60_000);
          }
          const fired: Crossing[] = rows.flatMap((row) => row.crossings);
          const ratios = steps.map(([r]) => r);
          for (const t of thresholds) {
            expect(fired.filter((c) => c.threshold === t).map((c) => c.direction)).toEqual(
              expectedCrossings(t, ratios),
            );
          }
          await app.alerts.unsubscribe(chat);
        },
      ),
      { numRuns: 150 },
    );
  });
});
