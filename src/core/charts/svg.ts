/**
 * Charts as SVG text, built by hand: pure functions of their spec, so the same data always gives the same
 * bytes. Sized for a phone: 1200 x 675 (16:9, what Telegram and Discord preview without cropping), labels
 * 24 px or larger, a white background and a few strong colours. Every string is escaped; every coordinate
 * is rounded to 0.1 px.
 */
import { segments, type SeriesPoint } from './series.js';

export const CHART_WIDTH = 1200;
export const CHART_HEIGHT = 675;
export const FONT_FAMILY = 'DejaVu Sans';

const PLOT = { left: 150, right: CHART_WIDTH - 40, top: 170, bottom: CHART_HEIGHT - 90 };
const COLORS = {
  background: '#ffffff',
  text: '#1f2933',
  muted: '#52606d',
  grid: '#e4e7eb',
  axis: '#9aa5b1',
  line: '#2563eb',
  area: '#2563eb',
  threshold: '#d9480f',
};

/** Layer colours for stacked charts, in order. */
export const LAYER_COLORS = ['#2563eb', '#16a34a', '#9333ea', '#9aa5b1'] as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface ChartFrame {
  title: string;
  /** Second line: source, as-of time, latest figure. */
  subtitle: string;
  /** What the y axis measures, with its unit: `USD`, `volume / market cap (x)`. */
  yAxisTitle: string;
  startMs: number;
  endMs: number;
  /** Formats a y tick: `$41M`, `4.5x`. */
  formatY(value: number): string;
}

export interface LineChartSpec extends ChartFrame {
  points: readonly SeriesPoint[];
  /** Steps longer than this are drawn as gaps. */
  gapMs: number;
  /** Start the y axis at zero (volumes, ratios) rather than near the lowest value (prices). */
  zeroBased: boolean;
  /** Horizontal reference lines (alert thresholds), labelled with `formatY`. */
  thresholds?: readonly number[];
}

export interface StackedChartSpec extends ChartFrame {
  barMs: number;
  layers: ReadonlyArray<{ name: string; color: string }>;
  /** One bar per entry; `values` in layer order. */
  bars: ReadonlyArray<{ atMs: number; values: readonly number[] }>;
}

const n = (v: number) => (Math.round(v * 10) / 10).toFixed(1).replace(/\.0$/, '');

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round ticks (1, 2, 2.5 or 5 times a power of ten) covering `[min, max]`. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count);
  }
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const TIME_STEPS = [
  HOUR_MS,
  2 * HOUR_MS,
  3 * HOUR_MS,
  4 * HOUR_MS,
  6 * HOUR_MS,
  12 * HOUR_MS,
  DAY_MS,
  2 * DAY_MS,
  5 * DAY_MS,
  7 * DAY_MS,
  10 * DAY_MS,
  15 * DAY_MS,
  30 * DAY_MS,
];

/** Tick times on round UTC hours or days, at most 8 across the window. */
export function timeTicks(startMs: number, endMs: number): number[] {
  const span = endMs - startMs;
  const step = TIME_STEPS.find((s) => span / s <= 8) ?? 30 * DAY_MS;
  const ticks: number[] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) ticks.push(t);
  return ticks;
}

function timeLabel(ms: number, stepMs: number): string {
  const d = new Date(ms);
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  if (stepMs >= DAY_MS || (d.getUTCHours() === 0 && d.getUTCMinutes() === 0)) return day;
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

interface Scale {
  x(ms: number): number;
  y(v: number): number;
  yTicks: number[];
}

function frame(spec: ChartFrame, yTicks: number[], legend: string): { scale: Scale; head: string; axes: string } {
  const yMin = yTicks[0]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const x = (ms: number) => PLOT.left + ((ms - spec.startMs) / (spec.endMs - spec.startMs)) * (PLOT.right - PLOT.left);
  const y = (v: number) => PLOT.bottom - ((v - yMin) / (yMax - yMin)) * (PLOT.bottom - PLOT.top);
  const head =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" ` +
    `viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="${FONT_FAMILY}">` +
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="${COLORS.background}"/>` +
    `<text x="40" y="58" font-size="40" font-weight="bold" fill="${COLORS.text}">${escapeXml(spec.title)}</text>` +
    `<text x="40" y="100" font-size="24" fill="${COLORS.muted}">${escapeXml(spec.subtitle)}</text>` +
    legend;
  const parts: string[] = [];
  for (const t of yTicks) {
    const yy = n(y(t));
    parts.push(
      `<line x1="${PLOT.left}" y1="${yy}" x2="${PLOT.right}" y2="${yy}" stroke="${COLORS.grid}" stroke-width="2"/>`,
    );
    parts.push(
      `<text x="${PLOT.left - 14}" y="${n(y(t) + 9)}" ` +
        `font-size="26" text-anchor="end" fill="${COLORS.text}">${escapeXml(spec.formatY(t))}</text>`,
    );
  }
  const ticks = timeTicks(spec.startMs, spec.endMs);
  const stepMs = ticks.length > 1 ? ticks[1]! - ticks[0]! : DAY_MS;
  for (const t of ticks) {
    const xx = n(x(t));
    parts.push(
      `<line x1="${xx}" y1="${PLOT.bottom}" x2="${xx}" y2="${PLOT.bottom + 10}" ` +
        `stroke="${COLORS.axis}" stroke-width="2"/>`,
    );
    // A label near either edge is pulled in, so `Nov 22` at the last tick is never cut off.
    const labelX = n(Math.min(CHART_WIDTH - 50, Math.max(PLOT.left, x(t))));
    parts.push(
      `<text x="${labelX}" y="${PLOT.bottom + 40}" ` +
        `font-size="26" text-anchor="middle" fill="${COLORS.text}">${escapeXml(timeLabel(t, stepMs))}</text>`,
    );
  }
  parts.push(
    `<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}" ` +
      `stroke="${COLORS.axis}" stroke-width="2"/>`,
  );
  parts.push(
    `<text x="${PLOT.right}" y="${CHART_HEIGHT - 12}" ` +
      `font-size="22" text-anchor="end" fill="${COLORS.muted}">time (UTC)</text>`,
  );
  parts.push(
    `<text x="40" y="${CHART_HEIGHT - 12}" font-size="22" fill="${COLORS.muted}">${escapeXml(spec.yAxisTitle)}</text>`,
  );
  return { scale: { x, y, yTicks }, head, axes: parts.join('') };
}

function legendSvg(items: ReadonlyArray<{ name: string; color: string; dashed?: boolean }>): string {
  // Right-aligned in the band between the subtitle and the plot; DejaVu Sans at 24 px is about 14 px a character.
  let xRight = PLOT.right;
  const out: string[] = [];
  for (const item of [...items].reverse()) {
    const textWidth = item.name.length * 14;
    const x0 = xRight - textWidth - 44;
    const dash = item.dashed ? ' stroke-dasharray="10 6"' : '';
    out.push(
      `<line x1="${n(x0)}" y1="131" x2="${n(x0 + 34)}" y2="131" stroke="${item.color}" stroke-width="6"${dash}/>`,
    );
    out.push(`<text x="${n(x0 + 44)}" y="139" font-size="24" fill="${COLORS.text}">${escapeXml(item.name)}</text>`);
    xRight = x0 - 30;
  }
  return out.join('');
}

/** A line chart of one series, with gaps where data is missing and optional threshold lines. */
export function lineChartSvg(spec: LineChartSpec): string {
  const present = spec.points.filter((p) => p.value !== null).map((p) => p.value as number);
  let lo = present.length > 0 ? Math.min(...present) : 0;
  let hi = present.length > 0 ? Math.max(...present) : 1;
  // A threshold far above the data would flatten the line to the floor: draw those within 3x of the top.
  const shown = (spec.thresholds ?? []).filter((t) => Number.isFinite(t) && t > 0 && t <= Math.max(hi, 1e-12) * 3);
  for (const t of shown) {
    lo = Math.min(lo, t);
    hi = Math.max(hi, t);
  }
  if (spec.zeroBased) lo = Math.min(0, lo);
  const legend =
    shown.length > 0 ? legendSvg([{ name: 'alert thresholds', color: COLORS.threshold, dashed: true }]) : '';
  const { scale, head, axes } = frame(spec, niceTicks(lo, hi), legend);
  const body: string[] = [];
  for (const run of segments(spec.points, spec.gapMs)) {
    if (run.length === 1) {
      const p = run[0]!;
      body.push(`<circle cx="${n(scale.x(p.atMs))}" cy="${n(scale.y(p.value))}" r="4" fill="${COLORS.line}"/>`);
      continue;
    }
    const line = run.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(scale.x(p.atMs))} ${n(scale.y(p.value))}`).join('');
    const base = n(PLOT.bottom);
    body.push(
      `<path d="${line}L${n(scale.x(run[run.length - 1]!.atMs))} ${base}L${n(scale.x(run[0]!.atMs))} ${base}Z" ` +
        `fill="${COLORS.area}" fill-opacity="0.08"/>`,
    );
    body.push(
      `<path d="${line}" fill="none" stroke="${COLORS.line}" stroke-width="4" ` +
        `stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  for (const t of shown) {
    const yy = n(scale.y(t));
    const label = escapeXml(spec.formatY(t));
    body.push(
      `<line x1="${PLOT.left}" y1="${yy}" x2="${PLOT.right}" y2="${yy}" ` +
        `stroke="${COLORS.threshold}" stroke-width="3" stroke-dasharray="14 8"/>`,
    );
    // Labels sit above their line, or below it near the top, where the legend is.
    const labelY = scale.y(t) - PLOT.top < 36 ? scale.y(t) + 30 : scale.y(t) - 10;
    body.push(
      `<text x="${PLOT.right - 8}" y="${n(labelY)}" font-size="24" font-weight="bold" ` +
        `text-anchor="end" fill="${COLORS.threshold}" ` +
        `stroke="${COLORS.background}" stroke-width="6" paint-order="stroke">${label}</text>`,
    );
  }
  const last = [...spec.points].reverse().find((p) => p.value !== null);
  if (last && last.value !== null) {
    body.push(
      `<circle cx="${n(scale.x(last.atMs))}" cy="${n(scale.y(last.value))}" r="8" ` +
        `fill="${COLORS.line}" stroke="${COLORS.background}" stroke-width="3"/>`,
    );
  }
  return `${head}${axes}${body.join('')}</svg>`;
}

/** Bars stacked by layer (inferences by verification mode); empty buckets are zero, not gaps. */
export function stackedBarSvg(spec: StackedChartSpec): string {
  const totals = spec.bars.map((b) => b.values.reduce((a, v) => a + v, 0));
  const hi = Math.max(1, ...totals);
  const legend = legendSvg(spec.layers);
  const { scale, head, axes } = frame(spec, niceTicks(0, hi), legend);
  const body: string[] = [];
  const widthPx = ((PLOT.right - PLOT.left) * spec.barMs) / (spec.endMs - spec.startMs);
  const gapPx = widthPx > 8 ? Math.min(6, widthPx * 0.15) : 0;
  for (const bar of spec.bars) {
    let acc = 0;
    const x0 = scale.x(bar.atMs) + gapPx / 2;
    bar.values.forEach((v, i) => {
      if (v <= 0) return;
      const yTop = scale.y(acc + v);
      const yBottom = scale.y(acc);
      acc += v;
      body.push(
        `<rect x="${n(x0)}" y="${n(yTop)}" width="${n(Math.max(1, widthPx - gapPx))}" ` +
          `height="${n(yBottom - yTop)}" fill="${spec.layers[i]?.color ?? COLORS.muted}"/>`,
      );
    });
  }
  return `${head}${axes}${body.join('')}</svg>`;
}
