import { refreshButton } from '../src/core/buttons.js';
import { defineCommand } from '../src/core/command.js';
import { compact, count, pct, ratio, signedPct, tokens, usd } from '../src/core/format.js';
import type { IndexerStatus, InferenceIndex } from '../src/core/services.js';
import {
  NOT_INDEXED,
  backfillNote,
  chainFooter,
  countedToNote,
  indexedStatus,
  modeSplit,
  windowStartMs,
} from './inference-text.js';
import { circulatingPct, volumeToMarketCap } from '../src/core/metrics.js';
import { reply } from '../src/core/reply.js';
import { DAY_MS, missingNotice, readingNotices, sourceFooter } from './shared.js';
import { callersLine } from './network.js';

/** Total, last 24 hours and the split by mode, or a plain "not indexed yet". */
async function inferencesLine(index: InferenceIndex, status: IndexerStatus | null, nowMs: number): Promise<string> {
  if (!status) return NOT_INDEXED;
  const all = await index.totals();
  const day = (await index.totals(windowStartMs(nowMs, DAY_MS))).total;
  const partial = countedToNote(status, nowMs);
  return `${count(all.total)} total, ${count(day)} in 24h${partial} · ${modeSplit(all, false)}${backfillNote(status)}`;
}

export default defineCommand({
  name: 'stats',
  description: 'OPG price, market cap, volume, volume/market-cap ratio, supply and inferences',
  options: {},
  access: 'everyone',
  menuAlias: true,
  async run(_args, { core, services }) {
    const { market } = core.snapshot();
    const m = market.data;
    const rank = m?.marketCapRank ? ` (rank #${m.marketCapRank})` : '';
    const now = core.clock.now();
    // Read once: the inference and caller lines and the footer all stand on the same index position.
    const status = await indexedStatus(services.indexer);
    const supplyLine = m
      ? `${tokens(m.circulatingSupply)} circulating / ${compact(m.totalSupply)} total / ${compact(m.maxSupply)} max`
      : tokens(null);
    return reply({
      title: 'OPG stats',
      fields: [
        { label: 'Price', value: `${usd(m?.priceUsd)} (${signedPct(m?.priceChange24hPct)} 24h)`, inline: true },
        { label: 'Market cap', value: `${usd(m?.marketCapUsd)}${rank}`, inline: true },
        { label: 'FDV', value: usd(m?.fdvUsd), inline: true },
        { label: '24h volume', value: usd(m?.volume24hUsd), inline: true },
        { label: 'Volume / market cap', value: ratio(volumeToMarketCap(m)), inline: true },
        { label: 'Supply', value: `${supplyLine} (${pct(circulatingPct(m))} circulating)` },
        { label: 'Inferences', value: await inferencesLine(services.indexer, status, now) },
        { label: 'Callers', value: await callersLine(services, status, now) },
      ],
      notices: [
        ...readingNotices(core, market, 'Market data'),
        ...missingNotice(market, [
          'priceUsd',
          'priceChange24hPct',
          'marketCapUsd',
          'fdvUsd',
          'volume24hUsd',
          'circulatingSupply',
          'totalSupply',
          'maxSupply',
        ]),
      ],
      // The inference and caller lines are as of the chain's last counted block, not the market's refresh.
      footer: [sourceFooter(core, [market]), status ? chainFooter(status, now) : '']
        .filter((line) => line !== '')
        .join('\n'),
      buttons: [refreshButton('stats')],
    });
  },
});
