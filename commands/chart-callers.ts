/** `chart callers [30d|90d]`: weekly active callers, new and returning stacked (see core/charts/caller-chart.ts). */
import { CALLER_CHART_RANGES, callerChart, type CallerChartRange } from '../src/core/charts/caller-chart.js';
import type { ChartRange } from '../src/core/charts/series.js';
import type { Core } from '../src/core/core.js';
import { count, utc } from '../src/core/format.js';
import { reply, type Reply } from '../src/core/reply.js';
import type { Services } from '../src/core/services.js';
import { BASE_NOTE } from './network.js';
import { NOT_INDEXED, countedBlock, countedTo, indexedStatus } from './inference-text.js';

const isCallerRange = (r: string): r is CallerChartRange => (CALLER_CHART_RANGES as readonly string[]).includes(r);

export async function callerChartReply(range: ChartRange | undefined, core: Core, services: Services): Promise<Reply> {
  const chosen = range ?? '30d';
  if (!isCallerRange(chosen)) {
    return reply({
      kind: 'usage',
      title: 'Callers chart',
      lines: [`The callers chart counts weeks: choose 30d or 90d (got ${chosen}).`],
    });
  }
  const reader = services.participants;
  const coverage = await reader.coverage();
  const status = await indexedStatus(services.indexer);
  if (!coverage || !status)
    return reply({ title: 'OpenGradient callers chart', lines: [`Callers are ${NOT_INDEXED}.`] });
  const chart = await callerChart(reader, chosen, core.clock.now());
  const last = chart.weeks[chart.weeks.length - 1]!;
  const notices: string[] = [];
  if (coverage.fromBlockTimeMs > chart.startMs) {
    notices.push(
      `Caller history starts ${utc(coverage.fromBlockTimeMs)}: weeks before it are empty or partial, and the first ` +
        'week it covers counts everyone as new.',
    );
  }
  if (!countedTo(status, chart.endMs)) {
    notices.push(
      `The indexer is behind: the chain is counted only to ${countedBlock(status)}; ` +
        'weeks from then on are empty or partial.',
    );
  }
  const weeksText = chart.weeks.map((w) => `${count(w.active)} (${count(w.newCallers)} new)`).join(', ');
  return reply({
    title: `OpenGradient callers by week, ${chart.weeks.length} weeks`,
    lines: [
      'Accounts that sent inference transactions on the OpenGradient chain, per week of 7 full UTC days to ' +
        `${utc(chart.endMs - 60_000).slice(0, 10)}, oldest first: ${weeksText}. Last week: ` +
        `${count(last.active - last.newCallers)} returning, ${count(last.newCallers)} new.`,
      BASE_NOTE,
    ],
    notices,
    footer:
      `OpenGradient chain · counted to block ${count(status.nextBlock - 1)} · as of ` +
      `${utc(status.lastRunAtMs ?? core.clock.now())}`,
    image: {
      png: chart.png,
      filename: `opg-callers-${chosen}.png`,
      alt:
        'Stacked bar chart of weekly active callers on the OpenGradient chain, returning and new, ' +
        `${chart.weeks.length} weeks to ${utc(chart.endMs - 60_000).slice(0, 10)}: ${weeksText}.`,
    },
  });
}
