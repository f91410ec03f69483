/**
 * `chart venues`: the busiest venues' daily volume, stacked, from the stored tickers readings. A day's bar is
 * each venue's 24h volume at that day's last reading (CoinGecko's tickers give a rolling 24h volume, not a
 * calendar day's). The three venues with the most volume over the range get a layer each and the rest are
 * summed as "other venues", which keeps the legend readable on a phone.
 */
import { compact, usd, utc } from '../format.js';
import type { VenueVolumeRow } from '../markets.js';
import { svgToPng } from './png.js';
import { RANGES, type ChartRange } from './series.js';
import { LAYER_COLORS, stackedBarSvg } from './svg.js';

const DAY_MS = 86_400_000;
const NAMED_LAYERS = 3;

export interface VenueChart {
  png: Uint8Array;
  startMs: number;
  endMs: number;
  /** Days with a reading. */
  days: number;
  /** The named layers with their summed daily volume over the range, busiest first; then "other venues". */
  layers: Array<{ name: string; volumeUsd: number }>;
}

function shortName(name: string): string {
  return name.length > 14 ? `${name.slice(0, 13)}…` : name;
}

/** Draws `rows` (every reading's venue volumes since the range start) up to the day of `nowMs`; null when empty. */
export function venueChart(
  rows: readonly VenueVolumeRow[],
  range: ChartRange,
  nowMs: number,
  source: string,
): VenueChart | null {
  const spec = RANGES[range];
  const endMs = Math.floor(nowMs / DAY_MS) * DAY_MS + DAY_MS;
  const startMs = endMs - spec.days * DAY_MS;
  const lastAtByDay = new Map<number, number>();
  for (const r of rows) {
    if (r.atMs < startMs || r.atMs >= endMs) continue;
    const day = Math.floor(r.atMs / DAY_MS) * DAY_MS;
    lastAtByDay.set(day, Math.max(lastAtByDay.get(day) ?? -Infinity, r.atMs));
  }
  if (lastAtByDay.size === 0) return null;
  const byDay = new Map<number, Map<string, { name: string; volumeUsd: number }>>();
  for (const r of rows) {
    const day = Math.floor(r.atMs / DAY_MS) * DAY_MS;
    if (lastAtByDay.get(day) !== r.atMs || r.volumeUsd === null) continue;
    const venues = byDay.get(day) ?? new Map();
    venues.set(r.venueId, { name: r.venueName, volumeUsd: r.volumeUsd });
    byDay.set(day, venues);
  }
  const totals = new Map<string, { name: string; volumeUsd: number }>();
  for (const venues of byDay.values()) {
    for (const [id, v] of venues) {
      const t = totals.get(id) ?? { name: v.name, volumeUsd: 0 };
      t.volumeUsd += v.volumeUsd;
      totals.set(id, t);
    }
  }
  const ranked = [...totals.entries()].sort(([, a], [, b]) => b.volumeUsd - a.volumeUsd);
  const named = ranked.slice(0, NAMED_LAYERS);
  const others = ranked.slice(NAMED_LAYERS);
  const layers = named.map(([, v]) => ({ name: v.name, volumeUsd: v.volumeUsd }));
  if (others.length > 0)
    layers.push({ name: 'other venues', volumeUsd: others.reduce((s, [, v]) => s + v.volumeUsd, 0) });
  const bars = [...lastAtByDay.keys()]
    .sort((a, b) => a - b)
    .map((day) => {
      const venues = byDay.get(day) ?? new Map<string, { volumeUsd: number }>();
      const values = named.map(([id]) => venues.get(id)?.volumeUsd ?? 0);
      if (others.length > 0) values.push(others.reduce((s, [id]) => s + (venues.get(id)?.volumeUsd ?? 0), 0));
      return { atMs: day, values };
    });
  const png = svgToPng(
    stackedBarSvg({
      title: `OPG volume by venue · ${spec.label}`,
      subtitle:
        `${source} · daily, to ${utc(endMs - DAY_MS).slice(0, 10)} · ` +
        `${usd(layers.reduce((s, l) => s + l.volumeUsd, 0))} summed`,
      yAxisTitle: '24h volume at the day’s last reading (USD)',
      startMs,
      endMs,
      formatY: (v) => `$${compact(v)}`,
      barMs: DAY_MS,
      layers: layers.map((l, i) => ({ name: shortName(l.name), color: LAYER_COLORS[i]! })),
      bars,
    }),
  );
  return { png, startMs, endMs, days: bars.length, layers };
}
