import { refreshButton } from '../src/core/buttons.js';
import { defineCommand } from '../src/core/command.js';
import type { Core } from '../src/core/core.js';
import { duration, pct, ratio, signedPct, tokens, utc } from '../src/core/format.js';
import { changePct, circulatingPct, fdvToMarketCap } from '../src/core/metrics.js';
import { reply } from '../src/core/reply.js';
import type { InferenceIndex } from '../src/core/services.js';
import { NOT_INDEXED, backfillNote, indexedStatus, inferenceGrowth } from './inference-text.js';
import { DAY_MS, missingNotice, readingNotices, READING_WITHIN_MS, sourceFooter } from './shared.js';

/**
 * Circulating change over `days`, or why it cannot be said yet. It compares the current reading (taken at
 * `currentAtMs`) with the last stored one at least `days` old; when that one is further than `READING_WITHIN_MS`
 * from `days` before the current one (a gap in history, a stale current reading), the value names the span it
 * really covers.
 */
async function circulatingChange(
  core: Core,
  current: number | null | undefined,
  currentAtMs: number | null,
  days: number,
): Promise<string> {
  const then = await core.history.marketAgo(days * DAY_MS);
  if (!then) {
    const first = await core.history.firstMarket();
    const have = first ? duration(core.clock.now() - first.fetchedAtMs) : 'none';
    return `not enough history yet (have ${have}, need ${days} days)`;
  }
  const change = changePct(then.data.circulatingSupply, current);
  if (change === null || currentAtMs === null) return 'n/a';
  const from = tokens(then.data.circulatingSupply);
  const spanMs = currentAtMs - then.fetchedAtMs;
  if (Math.abs(spanMs - days * DAY_MS) <= READING_WITHIN_MS) return `${signedPct(change)} (from ${from})`;
  return `${signedPct(change)} over ${duration(spanMs)} (from ${from} on ${utc(then.fetchedAtMs)})`;
}

/** Inference growth over 7 and 30 days, beside the circulating-supply change. */
async function inferenceGrowthLine(index: InferenceIndex, nowMs: number): Promise<string> {
  const status = await indexedStatus(index);
  if (!status) return NOT_INDEXED;
  return (
    `7 days: ${await inferenceGrowth(index, nowMs, 7)} · 30 days: ` +
    `${await inferenceGrowth(index, nowMs, 30)}${backfillNote(status)}`
  );
}

export default defineCommand({
  name: 'supply',
  description: 'Circulating, total and max supply, FDV / market cap, and how circulation changed',
  options: {},
  access: 'everyone',
  menuAlias: true,
  async run(_args, { core, services }) {
    const { market } = core.snapshot();
    const m = market.data;
    return reply({
      title: 'OPG supply',
      fields: [
        { label: 'Circulating', value: tokens(m?.circulatingSupply), inline: true },
        { label: 'Total', value: tokens(m?.totalSupply), inline: true },
        { label: 'Max', value: tokens(m?.maxSupply), inline: true },
        { label: '% circulating', value: pct(circulatingPct(m)), inline: true },
        { label: 'FDV / market cap', value: ratio(fdvToMarketCap(m)), inline: true },
        {
          label: 'Circulating, 7 days',
          value: await circulatingChange(core, m?.circulatingSupply, market.fetchedAtMs, 7),
        },
        {
          label: 'Circulating, 30 days',
          value: await circulatingChange(core, m?.circulatingSupply, market.fetchedAtMs, 30),
        },
        { label: 'Inference growth', value: await inferenceGrowthLine(services.indexer, core.clock.now()) },
      ],
      notices: [
        ...readingNotices(core, market, 'Market data'),
        ...missingNotice(market, ['circulatingSupply', 'totalSupply', 'maxSupply', 'fdvUsd', 'marketCapUsd']),
      ],
      footer: sourceFooter(core, [market]),
      buttons: [refreshButton('supply')],
    });
  },
});
