import { defineCommand } from '../src/core/command.js';
import { age, ratio, usd } from '../src/core/format.js';
import { volumeToMarketCap } from '../src/core/metrics.js';
import { reply } from '../src/core/reply.js';
import { DAY_MS, missingNotice, readingNotices, sourceFooter } from './shared.js';

export default defineCommand({
  name: 'volume',
  description: "24h volume against market cap, its 7-day range, and this chat's alert thresholds",
  options: {},
  access: 'everyone',
  menuAlias: true,
  async run(_args, { core }) {
    const { market } = core.snapshot();
    const m = market.data;
    const now = core.clock.now();
    const week = core.history.ratioStats(7 * DAY_MS);
    const coverage =
      week && now - week.firstAtMs < 7 * DAY_MS - DAY_MS / 24
        ? ` (history since ${age(week.firstAtMs, now)}, ${week.samples} readings)`
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
      ],
      notices: [...readingNotices(core, market, 'Market data'), ...missingNotice(market, ['volume24hUsd', 'marketCapUsd'])],
      footer: sourceFooter(core, [market]),
      buttons: [{ id: 'refresh:volume', label: 'Refresh' }],
    });
  },
});
