import { refreshButton } from '../src/core/buttons.js';
import { defineCommand } from '../src/core/command.js';
import { age, countOf, pct, ratio, signedPct, thresholdRatio, usd } from '../src/core/format.js';
import { venuesWithVolume, type MarketStructure } from '../src/core/market-structure.js';
import { marketsNotices } from './markets.js';
import { volumeToMarketCap } from '../src/core/metrics.js';
import { reply } from '../src/core/reply.js';
import { DAY_MS, missingNotice, readingNotices, sourceFooter } from './shared.js';

/** Where the ratio stands against this chat's thresholds: `4.7x is above 1x; below 5x (+6.4% to go), 10x (+113% to
 * go)`. */
export function thresholdStanding(thresholds: readonly number[], now: number | null): string {
  if (thresholds.length === 0) return 'none in this chat (a moderator can start alerts with /opg alerts subscribe)';
  const sorted = [...thresholds].sort((a, b) => a - b);
  if (now === null) return `${sorted.map(thresholdRatio).join(', ')} (the ratio is not available now)`;
  const above = sorted.filter((t) => now >= t);
  const below = sorted
    .filter((t) => now < t)
    .map((t) => `${thresholdRatio(t)} (${signedPct(((t - now) / now) * 100)} to go)`);
  const parts = [
    above.length > 0 ? `above ${above.map(thresholdRatio).join(', ')}` : '',
    below.length > 0 ? `below ${below.join(', ')}` : '',
  ];
  return `${ratio(now)} is ${parts.filter(Boolean).join('; ')}`;
}

/** `busiest venue Binance 41.20% of volume · turnover 37x its ±2% depth (see /opg markets)`. */
export function venuesLine(s: MarketStructure | null): string {
  if (!s) return 'not read yet (venues are read on a schedule, hourly unless the operator chose otherwise)';
  const busiest = venuesWithVolume(s)[0];
  const share = busiest
    ? `busiest venue ${busiest.venueName} ${pct(busiest.sharePct)} of tickers' volume`
    : 'busiest venue: none with a volume figure';
  const depthShare =
    s.volumeUsd > 0 ? ` on the markets that report it, ${pct((s.depth.volumeUsd / s.volumeUsd) * 100)} of volume` : '';
  const turnover =
    s.turnover === null
      ? 'turnover against depth n/a ' +
        `(${s.depth.markets === 0 ? 'no depth reported' : 'no market with depth has a volume figure'})`
      : `turnover ${ratio(s.turnover)} its ±2% depth${depthShare}`;
  return `${share} · ${turnover} (see /opg markets)`;
}

export default defineCommand({
  name: 'volume',
  description: "24h volume against market cap, its 7-day range, and this chat's alert thresholds",
  options: {},
  access: 'everyone',
  menuAlias: true,
  async run(_args, { core, services, chat }) {
    const { market } = core.snapshot();
    const m = market.data;
    const now = core.clock.now();
    const week = await core.history.ratioStats(7 * DAY_MS);
    const venues = services.markets.current();
    const coverage =
      week && now - week.firstAtMs < 7 * DAY_MS - DAY_MS / 24
        ? ` (history since ${age(week.firstAtMs, now)}, ${countOf(week.samples, 'reading')})`
        : '';
    return reply({
      title: 'OPG volume',
      fields: [
        { label: '24h volume', value: usd(m?.volume24hUsd), inline: true },
        { label: 'Market cap', value: usd(m?.marketCapUsd), inline: true },
        { label: 'Volume / market cap', value: ratio(volumeToMarketCap(m)), inline: true },
        {
          label: '7-day ratio',
          value: week
            ? `low ${ratio(week.low)} · high ${ratio(week.high)} · average ${ratio(week.average)}${coverage}`
            : 'no history yet: the bot records a reading at every refresh',
        },
        {
          label: 'Alert thresholds',
          value: thresholdStanding(await services.alerts.thresholdsFor(chat), volumeToMarketCap(m)),
        },
        { label: 'Where it trades', value: venuesLine(venues.data?.structure ?? null) },
      ],
      notices: [
        ...readingNotices(core, market, 'Market data'),
        ...missingNotice(market, ['volume24hUsd', 'marketCapUsd']),
        ...marketsNotices(services.markets, now),
      ],
      footer: sourceFooter(core, [market, venues]),
      buttons: [refreshButton('volume')],
    });
  },
});
