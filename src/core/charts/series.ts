/**
 * Pure preparation of chart data: ranges and their spacing, merging the bot's own readings with filled
 * `market_chart` points, picking a metric, and splitting a series where it has gaps. No I/O, no clock.
 */

export const CHART_METRICS = ['ratio', 'price', 'volume', 'mcap', 'inferences', 'venues', 'callers'] as const;
export const CHART_RANGES = ['24h', '7d', '30d', '90d'] as const;
export type ChartMetric = (typeof CHART_METRICS)[number];
export type MarketMetric = Exclude<ChartMetric, 'inferences' | 'venues' | 'callers'>;
export type ChartRange = (typeof CHART_RANGES)[number];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface RangeSpec {
  /** Length of the window shown. */
  ms: number;
  /** The `days` asked of `market_chart` to fill it. */
  days: number;
  /** Market points are thinned to at most one per bucket (CoinGecko's own spacing for that range). */
  bucketMs: number;
  /** Inference bars are this wide. */
  barMs: number;
  label: string;
}

export const RANGES: Readonly<Record<ChartRange, RangeSpec>> = {
  '24h': { ms: DAY_MS, days: 1, bucketMs: 5 * 60_000, barMs: HOUR_MS, label: '24 hours' },
  '7d': { ms: 7 * DAY_MS, days: 7, bucketMs: HOUR_MS, barMs: 6 * HOUR_MS, label: '7 days' },
  '30d': { ms: 30 * DAY_MS, days: 30, bucketMs: HOUR_MS, barMs: DAY_MS, label: '30 days' },
  '90d': { ms: 90 * DAY_MS, days: 90, bucketMs: HOUR_MS, barMs: DAY_MS, label: '90 days' },
};

/** Market figures at one moment, from a stored reading or a filled point. */
export interface MarketSample {
  atMs: number;
  priceUsd: number | null;
  marketCapUsd: number | null;
  volume24hUsd: number | null;
}

export interface SeriesPoint {
  atMs: number;
  /** null where the figure is missing at that moment: drawn as a gap. */
  value: number | null;
}

/**
 * One sample per bucket of `bucketMs`, oldest first: the last of the bot's own readings in the bucket
 * when there is one, else the last filled point. Readings win because they are what the bot showed.
 */
export function mergeSamples(
  own: readonly MarketSample[],
  filled: readonly MarketSample[],
  bucketMs: number,
): MarketSample[] {
  const buckets = new Map<number, { own?: MarketSample; filled?: MarketSample }>();
  for (const s of filled) {
    const b = Math.floor(s.atMs / bucketMs);
    const slot = buckets.get(b) ?? {};
    if (!slot.filled || slot.filled.atMs <= s.atMs) slot.filled = s;
    buckets.set(b, slot);
  }
  for (const s of own) {
    const b = Math.floor(s.atMs / bucketMs);
    const slot = buckets.get(b) ?? {};
    if (!slot.own || slot.own.atMs <= s.atMs) slot.own = s;
    buckets.set(b, slot);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, slot]) => {
      const s = (slot.own ?? slot.filled)!;
      return { atMs: s.atMs, priceUsd: s.priceUsd, marketCapUsd: s.marketCapUsd, volume24hUsd: s.volume24hUsd };
    });
}

function finite(v: number | null): number | null {
  return v !== null && Number.isFinite(v) ? v : null;
}

/** The metric's value for one sample; a ratio over a missing or zero market cap is missing. */
export function metricValue(s: MarketSample, metric: MarketMetric): number | null {
  switch (metric) {
    case 'price':
      return finite(s.priceUsd);
    case 'volume':
      return finite(s.volume24hUsd);
    case 'mcap':
      return s.marketCapUsd !== null && s.marketCapUsd > 0 ? finite(s.marketCapUsd) : null;
    case 'ratio':
      return s.volume24hUsd !== null && s.marketCapUsd !== null && s.marketCapUsd > 0
        ? finite(s.volume24hUsd / s.marketCapUsd)
        : null;
  }
}

/**
 * The spacing beyond which two neighbouring points are not joined: three times the series' usual spacing
 * (its median step), and never less than three buckets. A 15-minute refresh schedule still draws a line.
 */
export function gapThresholdMs(points: readonly SeriesPoint[], bucketMs: number): number {
  const steps: number[] = [];
  for (let i = 1; i < points.length; i++) steps.push(points[i]!.atMs - points[i - 1]!.atMs);
  steps.sort((a, b) => a - b);
  const median = steps.length > 0 ? steps[Math.floor(steps.length / 2)]! : bucketMs;
  return 3 * Math.max(bucketMs, median);
}

/** Runs of points to draw as one line each: split at a missing value or a step longer than `gapMs`. */
export function segments(points: readonly SeriesPoint[], gapMs: number): Array<Array<{ atMs: number; value: number }>> {
  const out: Array<Array<{ atMs: number; value: number }>> = [];
  let run: Array<{ atMs: number; value: number }> = [];
  let prevAtMs: number | null = null;
  for (const p of points) {
    if (p.value === null) {
      if (run.length > 0) out.push(run);
      run = [];
      prevAtMs = null;
      continue;
    }
    if (prevAtMs !== null && p.atMs - prevAtMs > gapMs && run.length > 0) {
      out.push(run);
      run = [];
    }
    run.push({ atMs: p.atMs, value: p.value });
    prevAtMs = p.atMs;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/** Low, high, first and last of the values present. */
export function summarize(
  points: readonly SeriesPoint[],
): { low: number; high: number; first: SeriesPoint & { value: number }; last: SeriesPoint & { value: number } } | null {
  const present = points.filter((p): p is SeriesPoint & { value: number } => p.value !== null);
  if (present.length === 0) return null;
  let low = Infinity;
  let high = -Infinity;
  for (const p of present) {
    low = Math.min(low, p.value);
    high = Math.max(high, p.value);
  }
  return { low, high, first: present[0]!, last: present[present.length - 1]! };
}
