/**
 * What alerts and digests say. Both are plain `Reply`s, rendered by each platform's sink like any reply.
 * They never mention or ping anyone, and carry absolute times only: a message may be delivered minutes
 * after it was written, so "3 min ago" would be wrong by then.
 */
import type { Crossing } from './alert-rules.js';
import { rearmBelow } from './alert-rules.js';
import { countOf, ratio, signedPct, thresholdRatio, usd, utc } from './format.js';
import { volumeToMarketCap } from './metrics.js';
import { reply, type Reply, type ReplyField } from './reply.js';
import type { MarketData, Reading } from './snapshot.js';
import type { RatioStats } from './market-ports.js';

function crossingLine(c: Crossing, hysteresis: number): string {
  const at = utc(c.atMs).slice(11);
  return c.direction === 'up'
    ? `Rose to ${thresholdRatio(c.threshold)} or more (${ratio(c.ratio)} at ${at})`
    : `Fell below ${ratio(rearmBelow(c.threshold, hysteresis))}, ` +
        `under the ${thresholdRatio(c.threshold)} threshold (${ratio(c.ratio)} at ${at})`;
}

/** The alert for one or more crossings (more than one when several thresholds crossed or a cooldown merged them). */
export function alertReply(
  crossings: readonly Crossing[],
  market: MarketData,
  fetchedAtMs: number,
  source: string,
  hysteresis: number,
): Reply {
  const first = crossings[0];
  const title =
    crossings.length === 1 && first
      ? `OPG volume / market cap ${first.direction === 'up' ? 'crossed above' : 'fell below'} ` +
        thresholdRatio(first.threshold)
      : `OPG volume / market cap crossed ${crossings.length} thresholds`;
  return reply({
    title,
    lines: crossings.map((c) => crossingLine(c, hysteresis)),
    fields: [
      { label: 'Volume / market cap now', value: ratio(volumeToMarketCap(market)), inline: true },
      { label: '24h volume', value: usd(market.volume24hUsd), inline: true },
      { label: 'Market cap', value: usd(market.marketCapUsd), inline: true },
    ],
    footer: `${source} · as of ${utc(fetchedAtMs)}`,
  });
}

export interface DigestInput {
  market: Reading<MarketData>;
  stale: boolean;
  ratio24h: RatioStats | null;
  /** Alerts this chat was sent (or is being sent) in the last 24 hours, oldest first. */
  fired: readonly Crossing[];
  hysteresis: number;
  /** More fields from other features (venues gone since the last digest). */
  extraFields?: readonly ReplyField[];
}

/** The daily digest: the stats summary, the ratio's 24h range, and the alerts of the day. */
export function digestReply({ market, stale, ratio24h, fired, hysteresis, extraFields = [] }: DigestInput): Reply {
  const m = market.data;
  const notices: string[] = [];
  if (!m || market.fetchedAtMs === null)
    notices.push(`Market data unavailable: ${market.source} has not answered yet.`);
  else if (stale) notices.push(`Stale: market data last updated ${utc(market.fetchedAtMs)}.`);
  return reply({
    title: 'OPG daily digest',
    fields: [
      { label: 'Price', value: `${usd(m?.priceUsd)} (${signedPct(m?.priceChange24hPct)} 24h)`, inline: true },
      { label: 'Market cap', value: usd(m?.marketCapUsd), inline: true },
      { label: '24h volume', value: usd(m?.volume24hUsd), inline: true },
      { label: 'Volume / market cap', value: ratio(volumeToMarketCap(m)), inline: true },
      {
        label: 'Ratio, last 24h',
        value: ratio24h
          ? `low ${ratio(ratio24h.low)} · high ${ratio(ratio24h.high)} (${countOf(ratio24h.samples, 'reading')})`
          : 'no readings in the last 24h',
      },
      {
        label: 'Alerts, last 24h',
        value: fired.length === 0 ? 'none' : fired.map((c) => crossingLine(c, hysteresis)).join('\n'),
      },
      ...extraFields,
    ],
    notices,
    footer: m && market.fetchedAtMs !== null ? `${market.source} · as of ${utc(market.fetchedAtMs)}` : undefined,
  });
}
