/**
 * Weekly active callers, new and returning stacked: one bar per week of 7 full UTC days, the last ending at
 * the start of today (the same days as `network`'s "last 7 days"; today so far is in no week). New callers
 * are those first seen that week; returning, the rest of that week's active callers.
 */
import { compact, count, utc } from '../format.js';
import { DAY_MS, dayStart, type CallerWeek, type ParticipantReader } from '../participants.js';
import { svgToPng } from './png.js';
import { LAYER_COLORS, stackedBarSvg } from './svg.js';

export const CALLER_CHART_RANGES = ['30d', '90d'] as const;
export type CallerChartRange = (typeof CALLER_CHART_RANGES)[number];

/** Weeks drawn for each range: 5 (35 days) covers 30 days, 13 (91 days) covers 90. */
export const CALLER_WEEKS: Readonly<Record<CallerChartRange, number>> = { '30d': 5, '90d': 13 };

export interface CallerChart {
  png: Uint8Array;
  weeks: CallerWeek[];
  startMs: number;
  /** The start of today, exclusive: the last week ends here. */
  endMs: number;
}

/** Week start times, oldest first, for `weeks` weeks of whole UTC days ending at the start of today. */
export function callerWeekStarts(nowMs: number, weeks: number): number[] {
  const lastStart = dayStart(nowMs) - 7 * DAY_MS;
  return Array.from({ length: weeks }, (_, i) => lastStart - (weeks - 1 - i) * 7 * DAY_MS);
}

export async function callerChart(
  reader: ParticipantReader,
  range: CallerChartRange,
  nowMs: number,
): Promise<CallerChart> {
  const starts = callerWeekStarts(nowMs, CALLER_WEEKS[range]);
  const endMs = dayStart(nowMs);
  const weeks = await reader.callerWeeks(starts, endMs);
  const startMs = starts[0]!;
  const svg = stackedBarSvg({
    title: `OpenGradient callers by week · ${weeks.length} weeks`,
    subtitle:
      'accounts that sent inference transactions on the OpenGradient chain · weeks of 7 full UTC days to ' +
      `${utc(endMs - 60_000).slice(0, 10)} · ${count(weeks[weeks.length - 1]!.active)} in the last`,
    yAxisTitle: 'active callers per week',
    startMs,
    endMs,
    formatY: compact,
    barMs: 7 * DAY_MS,
    layers: [
      { name: 'returning', color: LAYER_COLORS[0] },
      { name: 'new', color: LAYER_COLORS[1] },
    ],
    bars: weeks.map((w) => ({ atMs: w.startMs, values: [w.active - w.newCallers, w.newCallers] })),
  });
  return { png: svgToPng(svg), weeks, startMs, endMs };
}
