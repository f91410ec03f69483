/**
 * Numbers and times the way a person writes them in chat: `$41.7M`, `4.7x`, `18.25%`,
 * `2026-11-22 03:15 UTC (3 min ago)`. Every function takes a possibly missing value and returns text
 * that never contains `NaN`, `Infinity`, `undefined` or `null`: a missing value reads as `n/a`.
 */

export const MISSING = 'n/a';

function isNum(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

const UNITS: ReadonlyArray<[number, string]> = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'K'],
];

/** A large quantity with a unit suffix and three significant figures: `41.7M`, `1.00B`, `950`. */
export function compact(value: number | null | undefined): string {
  if (!isNum(value)) return MISSING;
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  for (const [size, unit] of UNITS) {
    // Round first, so 999,950 reads as 1.00M rather than 1000K.
    if (Number(abs.toPrecision(3)) >= size) return `${sign}${trimZeros((abs / size).toPrecision(3))}${unit}`;
  }
  if (abs >= 100) return `${sign}${Math.round(abs)}`;
  return `${sign}${trimZeros(abs.toPrecision(3))}`;
}

function trimZeros(text: string): string {
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
}

/** Dollars, compact for large amounts (`$41.7M`) and with enough digits for a small price (`$0.04123`). */
export function usd(value: number | null | undefined): string {
  if (!isNum(value)) return MISSING;
  const abs = Math.abs(value);
  const sign = value < 0 ? '-' : '';
  if (abs >= 1000) return `${sign}$${compact(abs)}`;
  if (abs >= 1) return `${sign}$${abs.toFixed(2)}`;
  if (abs === 0) return '$0';
  // Four significant figures for sub-dollar prices; exponent notation never reaches a person.
  const digits = Math.min(12, Math.max(2, 3 - Math.floor(Math.log10(abs))));
  return `${sign}$${trimZeros(abs.toFixed(digits))}`;
}

/** A token quantity: `137M OPG`. */
export function tokens(value: number | null | undefined, symbol = 'OPG'): string {
  if (!isNum(value)) return MISSING;
  return `${compact(value)} ${symbol}`;
}

/** A multiple: `4.7x`, `13.2x`, `0.85x`, `0.012x`. */
export function ratio(value: number | null | undefined): string {
  if (!isNum(value)) return MISSING;
  if (value >= 100) return `${Math.round(value)}x`;
  if (value >= 1) return `${trimZeros(value.toFixed(1))}x`;
  if (value >= 0.01) return `${trimZeros(value.toFixed(2))}x`;
  if (value === 0) return '0x';
  return `${trimZeros(value.toPrecision(2))}x`;
}

/** A percentage with two decimals: `18.25%`. */
export function pct(value: number | null | undefined): string {
  if (!isNum(value)) return MISSING;
  return `${value.toFixed(2)}%`;
}

/** A signed change: `+3.41%`, `-12.00%`. */
export function signedPct(value: number | null | undefined): string {
  if (!isNum(value)) return MISSING;
  return `${value > 0 ? '+' : ''}${value.toFixed(2)}%`;
}

/** An exact count with thousands separators: `2,104,331`. */
export function count(value: number | null | undefined): string {
  if (!isNum(value)) return MISSING;
  return Math.round(value).toLocaleString('en-US');
}

/** How long ago, coarsely: `just now`, `3 min ago`, `2 h 5 min ago`, `4 days ago`. */
export function age(thenMs: number, nowMs: number): string {
  const ms = Math.max(0, nowMs - thenMs);
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h ago` : `${h} h ${min % 60} min ago`;
  return `${Math.floor(h / 24)} days ago`;
}

/** A duration: `45 s`, `12 min`, `3 h 20 min`, `5 days`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return MISSING;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

/** `2026-11-22 03:15 UTC`. */
export function utc(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return MISSING;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `2026-11-22 03:15 UTC (3 min ago)`. */
export function asOfText(ms: number | null | undefined, nowMs: number): string {
  if (!isNum(ms)) return MISSING;
  return `${utc(ms)} (${age(ms, nowMs)})`;
}

/** `1 reading`, `3 readings`: a count with its noun, singular for one. */
export function countOf(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count(n)} ${n === 1 ? singular : pluralForm}`;
}

/**
 * A threshold as the moderator typed it (`5.05x`, `0.015x`), never rounded like a live figure: two
 * thresholds must never read the same.
 */
export function thresholdRatio(value: number): string {
  return `${Number(value.toPrecision(10))}x`;
}

/**
 * Every 42-character `0x` address in `text` as `0x8335…2913` (first and last four hex digits): a DEX pair
 * CoinGecko names by contract address stays readable on a phone.
 */
export function shortAddresses(text: string): string {
  return text.replace(/\b0x([0-9a-fA-F]{4})[0-9a-fA-F]{32}([0-9a-fA-F]{4})\b/g, '0x$1…$2');
}
