/**
 * Charts for commands: history from the store, filled once per window from CoinGecko's `market_chart`
 * when the bot's own readings do not reach back far enough, drawn as SVG and rendered to PNG.
 *
 * Network use is bounded: `ensureHistory` calls CoinGecko only when stored history is short of the range,
 * at most once per range per window (a fill recorded within the last range-length, for that range or a
 * longer one, means CoinGecko has already given what it has), concurrent callers share one call, and a
 * failed fill waits `fillRetryMs` before anyone tries again. A rendered PNG is cached under its metric,
 * range, thresholds and the data's extent, so it is redrawn only when a refresh brings new data.
 */
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Core } from '../core.js';
import { describeError } from '../errors.js';
import { compact, count, ratio, usd, utc } from '../format.js';
import type { Logger } from '../logger.js';
import type { InferenceReader } from '../inferences.js';
import type { ChartHistorySource, ChartStore } from '../market-ports.js';
import { svgToPng } from './png.js';
import {
  gapThresholdMs,
  mergeSamples,
  metricValue,
  RANGES,
  summarize,
  type ChartRange,
  type MarketMetric,
  type SeriesPoint,
} from './series.js';
import { LAYER_COLORS, lineChartSvg, stackedBarSvg } from './svg.js';

export type FillResult =
  | { status: 'covered' }
  | { status: 'filled'; points: number }
  | { status: 'fetched-before' }
  | { status: 'failed'; error: string };

export interface ChartImage {
  png: Uint8Array;
  startMs: number;
  endMs: number;
  /** Whether the PNG came from the cache. */
  cached: boolean;
}

export interface MarketChart extends ChartImage {
  points: SeriesPoint[];
  low: number;
  high: number;
  first: number;
  last: number;
  /** Earliest point drawn; later than `startMs` when history does not reach back that far. */
  firstAtMs: number;
  thresholdsShown: number[];
}

export interface InferenceChart extends ChartImage {
  total: number;
  byMode: { vanilla: number; tee: number; zkml: number; unknown: number };
}

export interface ChartService {
  /** Makes stored history cover `range`, with at most one CoinGecko call. Never throws. */
  ensureHistory(range: ChartRange): Promise<FillResult>;
  /**
   * A chart of `metric` over `range`, ending at the latest data; null when nothing is stored, or the
   * metric is missing at every stored moment.
   */
  marketChart(metric: MarketMetric, range: ChartRange, thresholds?: readonly number[]): Promise<MarketChart | null>;
  /** Inferences stacked by mode over `range`, ending with the current hour; null when none are indexed. */
  inferenceChart(range: ChartRange, reader: InferenceReader): Promise<InferenceChart | null>;
}

export interface ChartServiceOptions {
  core: Core;
  store: ChartStore;
  source: ChartHistorySource;
  coinId: string;
  clock: Clock;
  logger: Logger;
  /** After a failed fill, the next attempt waits this long. Default 15 min. */
  fillRetryMs?: number;
  /** Rendered PNGs kept. Default 32 (a chart is about 100 KB). */
  cacheEntries?: number;
}

interface MetricInfo {
  title: string;
  yAxisTitle: string;
  zeroBased: boolean;
  format(v: number): string;
}

export const METRIC_INFO: Readonly<Record<MarketMetric, MetricInfo>> = {
  ratio: {
    title: 'OPG volume / market cap',
    yAxisTitle: '24h volume ÷ market cap (x)',
    zeroBased: true,
    format: ratio,
  },
  price: { title: 'OPG price', yAxisTitle: 'price (USD)', zeroBased: false, format: usd },
  volume: { title: 'OPG 24h volume', yAxisTitle: '24h trading volume (USD)', zeroBased: true, format: usd },
  mcap: { title: 'OPG market cap', yAxisTitle: 'market cap (USD)', zeroBased: false, format: usd },
};

const MODES = [
  { key: 'vanilla', name: 'Vanilla' },
  { key: 'tee', name: 'TEE' },
  { key: 'zkml', name: 'ZKML' },
  { key: 'unknown', name: 'unknown' },
] as const;

const HOUR_MS = 3_600_000;

export function createChartService(options: ChartServiceOptions): ChartService {
  const { core, store, source, coinId, clock, logger } = options;
  const fillRetryMs = options.fillRetryMs ?? 15 * 60_000;
  const cacheEntries = options.cacheEntries ?? 32;
  const inFlight = new Map<number, Promise<FillResult>>();
  const failedAt = new Map<number, number>();
  const cache = new LRUCache<string, Uint8Array>({ max: cacheEntries });

  function cached(key: string, draw: () => string): { png: Uint8Array; cached: boolean } {
    const hit = cache.get(key);
    if (hit) return { png: hit, cached: true };
    const png = svgToPng(draw());
    cache.set(key, png);
    return { png, cached: false };
  }

  async function earliestWithin(sinceMs: number): Promise<number | null> {
    const own = await store.earliestReadingAtMs(coinId, sinceMs);
    const filled = await store.earliestAtMs(coinId, sinceMs);
    if (own === null) return filled;
    return filled === null ? own : Math.min(own, filled);
  }

  async function needsFill(range: ChartRange): Promise<'covered' | 'fetched-before' | 'fill'> {
    const spec = RANGES[range];
    const now = clock.now();
    const startMs = now - spec.ms;
    const earliest = await earliestWithin(startMs);
    // A day's slack per 24 days of range: history that starts an hour late still counts as covering 24h.
    if (earliest !== null && earliest <= startMs + spec.ms / 24) return 'covered';
    const recent = (await store.fills(coinId)).some((f) => f.days >= spec.days && f.fetchedAtMs >= startMs);
    return recent ? 'fetched-before' : 'fill';
  }

  async function fill(range: ChartRange): Promise<FillResult> {
    const { days } = RANGES[range];
    try {
      const points = await source.marketChart(coinId, days);
      await store.saveFill(
        coinId,
        { days, source: source.name, fetchedAtMs: clock.now(), points: points.length },
        points,
      );
      failedAt.delete(days);
      logger.info({ days, points: points.length }, 'chart history filled from market_chart');
      return { status: 'filled', points: points.length };
    } catch (err) {
      failedAt.set(days, clock.now());
      logger.warn({ err, days }, 'chart history fill failed');
      return { status: 'failed', error: describeError(err) };
    }
  }

  async function ensureHistory(range: ChartRange): Promise<FillResult> {
    const { days } = RANGES[range];
    // A longer fill under way may cover this range: wait for it, then look again.
    for (const [d, p] of inFlight) if (d >= days) await p;
    const decision = await needsFill(range);
    if (decision === 'covered') return { status: 'covered' };
    if (decision === 'fetched-before') return { status: 'fetched-before' };
    const running = inFlight.get(days);
    if (running) return running;
    const failed = failedAt.get(days);
    if (failed !== undefined && clock.now() - failed < fillRetryMs) {
      return { status: 'failed', error: 'CoinGecko history was unavailable a few minutes ago' };
    }
    const p = fill(range).finally(() => inFlight.delete(days));
    inFlight.set(days, p);
    return p;
  }

  async function latestAtMs(): Promise<number | null> {
    const own = (await core.history.marketAgo(0))?.fetchedAtMs ?? null;
    const filled = await store.latestAtMs(coinId);
    if (own === null) return filled;
    return filled === null ? own : Math.max(own, filled);
  }

  async function marketChart(
    metric: MarketMetric,
    range: ChartRange,
    thresholds: readonly number[] = [],
  ): Promise<MarketChart | null> {
    const spec = RANGES[range];
    const endMs = await latestAtMs();
    if (endMs === null) return null;
    const startMs = endMs - spec.ms;
    const own = await store.readings(coinId, startMs, endMs, spec.bucketMs);
    const samples = mergeSamples(own, await store.points(coinId, startMs, endMs), spec.bucketMs);
    const points = samples.map((s) => ({ atMs: s.atMs, value: metricValue(s, metric) }));
    const summary = summarize(points);
    if (!summary) return null;
    const info = METRIC_INFO[metric];
    const lines =
      metric === 'ratio'
        ? [...new Set(thresholds.filter((t) => Number.isFinite(t) && t > 0))].sort((a, b) => a - b)
        : [];
    const thresholdsShown = lines.filter((t) => t <= Math.max(summary.high, 1e-12) * 3);
    const gapMs = gapThresholdMs(points, spec.bucketMs);
    const key = JSON.stringify(['m', metric, range, lines, endMs, points.length, points[0]?.atMs]);
    const { png, cached: hit } = cached(key, () =>
      lineChartSvg({
        title: `${info.title} · ${spec.label}`,
        subtitle: `${source.name} · to ${utc(endMs)} · latest ${info.format(summary.last.value)}`,
        yAxisTitle: info.yAxisTitle,
        startMs,
        endMs,
        formatY: info.format,
        points,
        gapMs,
        zeroBased: info.zeroBased,
        thresholds: lines,
      }),
    );
    return {
      png,
      cached: hit,
      startMs,
      endMs,
      points,
      low: summary.low,
      high: summary.high,
      first: summary.first.value,
      last: summary.last.value,
      firstAtMs: summary.first.atMs,
      thresholdsShown,
    };
  }

  async function inferenceChart(range: ChartRange, reader: InferenceReader): Promise<InferenceChart | null> {
    const spec = RANGES[range];
    const endMs = Math.floor(clock.now() / HOUR_MS) * HOUR_MS + HOUR_MS;
    const startMs = endMs - spec.ms;
    const hours = (await reader.hourly(startMs)).filter((h) => h.hourMs >= startMs && h.hourMs < endMs);
    if (hours.length === 0) return null;
    const byMode = { vanilla: 0, tee: 0, zkml: 0, unknown: 0 };
    const bars = new Map<number, number[]>();
    for (const h of hours) {
      const barAt = startMs + Math.floor((h.hourMs - startMs) / spec.barMs) * spec.barMs;
      const values = bars.get(barAt) ?? [0, 0, 0, 0];
      MODES.forEach((m, i) => {
        const v = Number.isFinite(h[m.key]) && h[m.key] > 0 ? h[m.key] : 0;
        values[i] = values[i]! + v;
        byMode[m.key] += v;
      });
      bars.set(barAt, values);
    }
    const total = byMode.vanilla + byMode.tee + byMode.zkml + byMode.unknown;
    if (total === 0) return null;
    const layers = MODES.map((m, i) => ({ name: m.name, color: LAYER_COLORS[i]! })).filter(
      (_, i) => i < 3 || byMode.unknown > 0,
    );
    const barList = [...bars.entries()]
      .sort(([a], [b]) => a - b)
      .map(([atMs, values]) => ({ atMs, values: values.slice(0, layers.length) }));
    const digest = createHash('sha1').update(JSON.stringify(barList)).digest('hex');
    const per = spec.barMs === HOUR_MS ? 'hour' : spec.barMs === 24 * HOUR_MS ? 'day' : `${spec.barMs / HOUR_MS} hours`;
    const { png, cached: hit } = cached(JSON.stringify(['i', range, endMs, digest]), () =>
      stackedBarSvg({
        title: `OPG inferences by mode · ${spec.label}`,
        subtitle: `OpenGradient chain · to ${utc(endMs)} · ${count(total)} in all`,
        yAxisTitle: `inferences per ${per}`,
        startMs,
        endMs,
        formatY: compact,
        barMs: spec.barMs,
        layers,
        bars: barList,
      }),
    );
    return { png, cached: hit, startMs, endMs, total, byMode };
  }

  return { ensureHistory, marketChart, inferenceChart };
}
