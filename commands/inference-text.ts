/** How chain figures read in chat, shared by `inferences`, `stats`, `supply`, `network` and `chart callers`. */
import { age, count, countOf, duration, pct, signedPct, utc } from '../src/core/format.js';
import type { IndexerStatus, InferenceIndex, ModeCounts } from '../src/core/services.js';
import { HOUR_MS } from './shared.js';

export const NOT_INDEXED = 'not indexed yet: the OpenGradient inference indexer has not finished a pass';

/** The indexer's status once it has counted at least one block; null before. */
export async function indexedStatus(index: InferenceIndex): Promise<IndexerStatus | null> {
  const status = await index.status();
  return status && status.nextBlock > status.fromBlock ? status : null;
}

/**
 * The indexer is current when its last counted block is at most this old: a figure over a window that ends
 * now is whole then (an indexer on schedule is a minute or two behind; a backfill or a stalled indexer is not).
 */
export const CURRENT_WITHIN_MS = HOUR_MS;

/** Whether the chain is counted up to within `CURRENT_WITHIN_MS` of now (an unknown block time is not). */
export function countedToNow(s: IndexerStatus, nowMs: number): boolean {
  return s.indexedBlockTimeMs !== null && nowMs - s.indexedBlockTimeMs <= CURRENT_WITHIN_MS;
}

/**
 * Whether every block before `endMs` is counted (the last counted block is at or after it): a window of whole
 * UTC days ending there is whole then.
 */
export function countedTo(s: IndexerStatus, endMs: number): boolean {
  return s.indexedBlockTimeMs !== null && s.indexedBlockTimeMs >= endMs;
}

/**
 * ` (counted to 21 h 7 min ago)` after a count over a window that ends now, when the chain is not counted up
 * to now (a stalled node or indexer, a backfill): the count is what the chain holds to that point, and says so.
 * Empty when the indexer is current.
 */
export function countedToNote(s: IndexerStatus, nowMs: number): string {
  if (countedToNow(s, nowMs)) return '';
  return s.indexedBlockTimeMs === null
    ? ` (counted to block ${count(s.nextBlock - 1)})`
    : ` (counted to ${age(s.indexedBlockTimeMs, nowMs)})`;
}

/** `block 1,234 (2026-11-22 03:15 UTC)`: the last counted block and its time, when known. */
export function countedBlock(s: IndexerStatus): string {
  const time = s.indexedBlockTimeMs === null ? 'its time not known' : utc(s.indexedBlockTimeMs);
  return `block ${count(s.nextBlock - 1)} (${time})`;
}

/** `2026-11-22 03:15 UTC`, the last counted block's time, or `block 1,234` when its time is not known. */
export function countedTime(s: IndexerStatus): string {
  return s.indexedBlockTimeMs === null ? `block ${count(s.nextBlock - 1)}` : utc(s.indexedBlockTimeMs);
}

/** `OpenGradient chain · counted to block 1,234 (block time …) · as of …`: the as-of of chain figures. */
export function chainFooter(s: IndexerStatus, nowMs: number): string {
  const time = s.indexedBlockTimeMs === null ? '' : ` (block time ${utc(s.indexedBlockTimeMs)})`;
  return (
    `OpenGradient chain · counted to block ${count(s.nextBlock - 1)}${time} · ` + `as of ${utc(s.lastRunAtMs ?? nowMs)}`
  );
}

/** The start of the hour bucket that begins a window of `windowMs` ending now. */
export function windowStartMs(nowMs: number, windowMs: number): number {
  return Math.ceil((nowMs - windowMs) / HOUR_MS) * HOUR_MS;
}

/** `Vanilla 1,204 (58.10%) · TEE 700 (33.78%) · ZKML 168 (8.11%)`; unknown only when there is some. */
export function modeSplit(c: ModeCounts, withCounts = true): string {
  const parts: Array<[string, number]> = [
    ['Vanilla', c.vanilla],
    ['TEE', c.tee],
    ['ZKML', c.zkml],
  ];
  if (c.unknown > 0) parts.push(['Unknown', c.unknown]);
  return parts
    .map(([label, n]) => {
      const share = c.total > 0 ? pct((100 * n) / c.total) : 'n/a';
      return withCounts ? `${label} ${count(n)} (${share})` : `${label} ${share}`;
    })
    .join(' · ');
}

/** Blocks still to read before the indexer reaches head minus confirmations. */
export function blocksToRead(s: IndexerStatus): number {
  return s.safeHeadBlock === null ? 0 : Math.max(0, s.safeHeadBlock - (s.nextBlock - 1));
}

/** A backfill is under way while more than this many blocks remain. */
export const BACKFILL_BLOCKS = 1_000;

/** `43.20%` of the history from the first block to head minus confirmations. */
export function backfillPct(s: IndexerStatus): number | null {
  if (s.safeHeadBlock === null) return null;
  const span = s.safeHeadBlock - s.fromBlock + 1;
  return span > 0 ? Math.min(100, (100 * (s.nextBlock - s.fromBlock)) / span) : 100;
}

/** Where the indexer stands against the head, in blocks and time, or how far a backfill has come. */
export function lagText(s: IndexerStatus, nowMs: number): string {
  if (s.headBlock === null) return 'head not seen yet';
  const last = s.nextBlock - 1;
  if (blocksToRead(s) > BACKFILL_BLOCKS) {
    return (
      `backfilling: ${pct(backfillPct(s))} of blocks ${count(s.fromBlock)}–${count(s.safeHeadBlock)} ` +
      `(at block ${count(last)})`
    );
  }
  const behind = Math.max(0, s.headBlock - last);
  const time =
    s.indexedBlockTimeMs === null
      ? ''
      : `, last counted block ${duration(Math.max(0, nowMs - s.indexedBlockTimeMs))} old`;
  return `${countOf(behind, 'block')} behind head (block ${count(last)} of ${count(s.headBlock)})${time}`;
}

/** ` (backfill 43.20% done)` while history remains to be read, so a partial total never passes as whole. */
export function backfillNote(s: IndexerStatus): string {
  return blocksToRead(s) > BACKFILL_BLOCKS ? ` (backfill ${pct(backfillPct(s))} done)` : '';
}

/** `+12.30% (+1,204)` over the last `days`, or why it cannot be said. */
export async function inferenceGrowth(index: InferenceIndex, nowMs: number, days: number): Promise<string> {
  const since = windowStartMs(nowMs, days * 86_400_000);
  const total = (await index.totals()).total;
  const recent = (await index.totals(since)).total;
  const before = total - recent;
  if (before <= 0)
    return total > 0 ? `n/a (every inference counted is from the last ${days} days)` : 'n/a (none counted yet)';
  return `${signedPct((100 * recent) / before)} (+${count(recent)})`;
}
