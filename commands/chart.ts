import { defineCommand } from '../src/core/command.js';
import { CHART_METRICS, CHART_RANGES, RANGES, type ChartRange } from '../src/core/charts/series.js';
import { venueChart } from '../src/core/charts/venue-chart.js';
import { UserInputError } from '../src/core/errors.js';
import type { Services } from '../src/core/services.js';
import { METRIC_INFO } from '../src/core/charts/chart-service.js';
import { asOfText, count, countOf, duration, pct, usd, utc } from '../src/core/format.js';
import { reply, type Reply } from '../src/core/reply.js';
import { readingNotices } from './shared.js';
import { marketsNotices } from './markets.js';
import { callerChartReply } from './chart-callers.js';

const METRIC_WORDS = {
  ratio: 'volume / market cap',
  price: 'price',
  volume: '24h volume',
  mcap: 'market cap',
} as const;

/** `chart venues [7d|30d|90d]`: daily bars, so 24h has nothing to draw. */
async function venuesChartReply(range: ChartRange, services: Services, now: number, filename: string): Promise<Reply> {
  if (range === '24h')
    throw new UserInputError(
      'The venues chart shows daily volume: choose 7d, 30d or 90d.',
      '/opg chart venues [7d|30d|90d]',
    );
  const spec = RANGES[range];
  const { markets } = services;
  const chart = venueChart(
    await markets.venueVolumes(now - spec.ms - 86_400_000),
    range,
    now,
    markets.current().source,
  );
  if (!chart) {
    return reply({
      title: 'No venue history yet',
      lines: [
        'The bot reads CoinGecko tickers on a schedule (hourly unless the operator chose otherwise) and keeps each ' +
          'reading; there is nothing stored to draw yet.',
      ],
    });
  }
  const split = chart.layers.map((l) => `${l.name} ${usd(l.volumeUsd)}`).join(' · ');
  // The latest tickers reading, as the other charts show their source's: its time, and whether it is stale.
  const latest = markets.current();
  const notices = marketsNotices(markets, now);
  if (chart.days < spec.days) notices.push(`History covers ${chart.days} of ${spec.days} days.`);
  const asOf = latest.fetchedAtMs !== null ? ` · as of ${asOfText(latest.fetchedAtMs, now)}` : '';
  return reply({
    title: `OPG volume by venue, ${spec.label}`,
    lines: [`Summed daily volume: ${split}.`, 'Each bar is each venue’s 24h volume at that day’s last reading.'],
    notices,
    footer: `${latest.source} · days to ${utc(chart.endMs - 86_400_000).slice(0, 10)}${asOf}`,
    image: {
      png: chart.png,
      filename,
      alt: `Stacked bar chart of OPG's daily volume by venue over ${spec.label}: ${split}.`,
    },
  });
}

export default defineCommand({
  name: 'chart',
  description: 'A picture of ratio, price, volume, market cap, inferences, volume by venue or callers, 24h to 90d',
  options: {
    metric: {
      type: 'choice',
      choices: CHART_METRICS,
      description: 'What to draw (default ratio: volume / market cap)',
    },
    range: {
      type: 'choice',
      choices: CHART_RANGES,
      description: 'How far back (default 7d; callers: 30d or 90d, default 30d)',
    },
  },
  access: 'everyone',
  menuAlias: true,
  slow: true,
  async run(args, { core, services, chat }) {
    if (args.metric === 'callers') return callerChartReply(args.range, core, services);
    const metric = args.metric ?? 'ratio';
    const range = args.range ?? '7d';
    const spec = RANGES[range];
    const now = core.clock.now();
    const filename = `opg-${metric}-${range}.png`;
    const charts = services.charts;

    if (metric === 'venues') return venuesChartReply(args.range ?? '7d', services, now, filename);

    if (metric === 'inferences') {
      const chart = await charts.inferenceChart(range, services.inferences);
      if (!chart) {
        return reply({
          title: 'OPG inferences chart',
          lines: ['Inferences are not indexed yet: there are no inference counts to draw for this range.'],
        });
      }
      const share = (v: number) => pct((v / chart.total) * 100);
      const { vanilla, tee, zkml, unknown } = chart.byMode;
      const split =
        `Vanilla ${count(vanilla)} (${share(vanilla)}) · TEE ${count(tee)} (${share(tee)}) · ZKML ` +
        `${count(zkml)} (${share(zkml)})${unknown > 0 ? ` · unknown ${count(unknown)}` : ''}`;
      return reply({
        title: `OPG inferences by mode, ${spec.label}`,
        lines: [`${countOf(chart.total, 'inference')}: ${split}`],
        footer: `OpenGradient chain · hours to ${utc(chart.endMs)}`,
        image: {
          png: chart.png,
          filename,
          alt:
            `Stacked bar chart of OPG inferences by verification mode over ${spec.label} to ${utc(chart.endMs)}: ` +
            `${count(chart.total)} in all, ${split}.`,
        },
      });
    }

    const fill = await charts.ensureHistory(range);
    const thresholds = metric === 'ratio' ? await services.alerts.thresholdsFor(chat) : [];
    const chart = await charts.marketChart(metric, range, thresholds);
    const word = METRIC_WORDS[metric];
    if (!chart) {
      const why = fill.status === 'failed' ? ' CoinGecko history could not be fetched either.' : '';
      return reply({
        title: `No ${word} history yet`,
        lines: [
          `There is no stored ${word} history to draw.${why} ` +
            'The bot records a reading at every refresh; try again later.',
        ],
      });
    }

    const info = METRIC_INFO[metric];
    const { market } = core.snapshot();
    const notices = readingNotices(core, market, 'Market data');
    const coveredMs = chart.endMs - chart.firstAtMs;
    if (chart.points.length < 2) {
      notices.push(
        `Only one reading so far (${utc(chart.firstAtMs)}): ` +
          'the line grows as the bot records a reading at every refresh.',
      );
    } else if (chart.firstAtMs > chart.startMs + spec.ms / 24) {
      notices.push(`History covers only ${duration(coveredMs)} of ${spec.label} (since ${utc(chart.firstAtMs)}).`);
    }
    // The reason is in the log; a chat gets the fact, not the URL and error code.
    if (fill.status === 'failed') notices.push('Older history could not be fetched from CoinGecko right now.');

    const lines = [
      `Latest ${info.format(chart.last)} · low ${info.format(chart.low)} · ` +
        `high ${info.format(chart.high)} over ${spec.label}.`,
    ];
    if (metric === 'ratio') {
      const all = [...new Set(thresholds.filter((t) => Number.isFinite(t) && t > 0))].sort((a, b) => a - b);
      if (all.length > 0) {
        const above = all.filter((t) => !chart.thresholdsShown.includes(t));
        const aboveText = above.length > 0 ? ` (${above.map(info.format).join(', ')} above the chart)` : '';
        lines.push(`Alert thresholds, dashed: ${all.map(info.format).join(', ')}${aboveText}.`);
      }
    }
    return reply({
      title: `${info.title}, ${spec.label}`,
      lines,
      notices,
      footer: `${market.source} · as of ${asOfText(chart.endMs, now)}`,
      image: {
        png: chart.png,
        filename,
        alt:
          `Line chart of OPG ${word} over ${spec.label} to ${utc(chart.endMs)}: from ${info.format(chart.first)} ` +
          `to ${info.format(chart.last)}, low ${info.format(chart.low)}, high ${info.format(chart.high)}.`,
      },
    });
  },
});
