import { describe, expect, it } from 'vitest';
import { svgToPng } from '../../../src/core/charts/png.js';
import { escapeXml, lineChartSvg, niceTicks, timeTicks } from '../../../src/core/charts/svg.js';
import { ratio } from '../../../src/core/format.js';
import { pngSize } from '../../helpers/png.js';

const H = 3_600_000;
const END = Date.parse('2026-11-22T12:00:00Z');

function spec(points: Array<{ atMs: number; value: number | null }>, thresholds: number[] = []) {
  return {
    title: 'OPG volume / market cap · 7 days',
    subtitle: 'CoinGecko · to 2026-11-22 12:00 UTC',
    yAxisTitle: 'volume ÷ market cap (x)',
    startMs: END - 7 * 24 * H,
    endMs: END,
    formatY: ratio,
    points,
    gapMs: 3 * H,
    zeroBased: true,
    thresholds,
  };
}

const hourly = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => ({ atMs: END - (168 - from - i) * H, value: 2 + Math.sin(i / 5) }));

describe('chart SVG', () => {
  it('draws a gap in history as two separate lines', () => {
    const svg = lineChartSvg(spec([...hourly(0, 50), ...hourly(80, 168)]));
    expect(svg.match(/fill="none" stroke="#2563eb"/g)).toHaveLength(2);
  });

  it('draws one line when history has no gap', () => {
    expect(lineChartSvg(spec(hourly(0, 168))).match(/fill="none" stroke="#2563eb"/g)).toHaveLength(1);
  });

  it('draws thresholds within reach of the data as dashed lines, and leaves far ones off', () => {
    const svg = lineChartSvg(spec(hourly(0, 168), [1, 5, 50]));
    expect(svg.match(/stroke-dasharray="14 8"/g)).toHaveLength(2);
    expect(svg).toContain('>5x</text>');
    expect(svg).not.toContain('>50x</text>');
  });

  it('escapes text, so a title cannot break the document', () => {
    expect(escapeXml('a < b & "c" > d')).toBe('a &lt; b &amp; &quot;c&quot; &gt; d');
    expect(lineChartSvg({ ...spec(hourly(0, 10)), title: '<script>' })).toContain('&lt;script&gt;');
  });

  it('chooses round ticks that cover the values', () => {
    expect(niceTicks(0, 13.2)).toEqual([0, 5, 10, 15]);
    expect(niceTicks(0, 9)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.0381, 0.0452)).toEqual([0.038, 0.04, 0.042, 0.044, 0.046]);
    expect(niceTicks(5, 5).length).toBeGreaterThan(1);
  });

  it('puts time ticks on round UTC days for a week', () => {
    const ticks = timeTicks(END - 7 * 24 * H, END);
    expect(ticks).toHaveLength(7);
    expect(ticks.every((t) => t % (24 * H) === 0)).toBe(true);
  });

  it('renders a 1200 x 675 PNG, the same bytes for the same data', () => {
    const a = svgToPng(lineChartSvg(spec(hourly(0, 168), [1, 5])));
    const b = svgToPng(lineChartSvg(spec(hourly(0, 168), [1, 5])));
    expect(pngSize(a)).toEqual({ width: 1200, height: 675 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});
