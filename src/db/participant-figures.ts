/**
 * What the SQLite and PostgreSQL participant stores share, so both give the same figures: the memo the
 * caller figures are kept in, the keys and versions they are kept under, and how counted rows become figures.
 *
 * The caller figures group a month of caller-days by account (a few hundred ms for 170,000 of them), so
 * they are kept until the data they read changes. They read only whole UTC days ending at `endMs` (the start
 * of today). The data only changes with a committed chunk, which moves the indexer's cursor and its block
 * time in the same transaction; blocks come in time order, so once the last counted block's day starts at or
 * after `endMs`, every later chunk adds only rows at or after `endMs`: the figures for `endMs` are final, and a
 * chunk at the chain head (every few seconds) leaves them be. Until then, figures are kept under the cursor
 * (and this process's own writes): any chunk may change them. The cursor is read from the store, so an instance
 * that does not index (a PostgreSQL standby) sees another's writes.
 */
import { LRUCache } from 'lru-cache';
import type { CallerFigures, CallerWeek, CallerWindows, OperatorFigures } from '../core/participants.js';
import { dayStart } from '../core/participants.js';

/** Figures of one kind kept at once (windows move once a day; weeks by range). */
const MEMO_SIZE = 16;

export interface FigureMemo {
  /** `compute`'s answer for `key`, computed again when `version` is not the one it was computed at. */
  get<T>(version: string, key: string, compute: () => Promise<T>): Promise<T>;
}

export function createFigureMemo(): FigureMemo {
  const memo = new LRUCache<string, { version: string; value: Promise<unknown> }>({ max: MEMO_SIZE });
  return {
    get<T>(version: string, key: string, compute: () => Promise<T>): Promise<T> {
      const hit = memo.get(key);
      if (hit?.version === version) return hit.value as Promise<T>;
      // The promise is kept, so answers asked for while it is computed share it; a failure is not kept.
      const entry = { version, value: compute() as Promise<unknown> };
      memo.set(key, entry);
      entry.value.catch(() => {
        if (memo.peek(key) === entry) memo.delete(key);
      });
      return entry.value as Promise<T>;
    },
  };
}

/** The indexer's cursor as the stores keep it: the next block to read and the time of the last one counted. */
export interface CursorRow {
  nextBlock: number;
  indexedBlockTimeMs: number | null;
}

/**
 * The version figures over days before `endMs` are kept under: `final` once the day of the last counted block
 * starts at or after `endMs` (a later block is no earlier, so no later chunk adds a row, or a caller's first
 * day, before `endMs`), else this process's writes and the cursor. Read the cursor before computing: figures
 * computed after it are then at least as new as their version.
 */
export function figureVersion(cursor: CursorRow | undefined, writes: number, endMs: number): string {
  const counted = cursor?.indexedBlockTimeMs;
  if (counted !== undefined && counted !== null && dayStart(counted) >= endMs) return 'final';
  return `${writes}|${cursor?.nextBlock ?? 'none'}`;
}

export const callersKey = (w: CallerWindows) => `callers|${w.last30Ms}|${w.previous7Ms}|${w.last7Ms}|${w.endMs}`;
export const weeksKey = (weekStartsMs: readonly number[], endMs: number) => `weeks|${weekStartsMs.join(',')}|${endMs}`;

/** @throws Error when the retention window does not lie inside the 30 days the caller figures read. */
export function checkCallerWindows(w: CallerWindows): void {
  if (w.previous7Ms < w.last30Ms) throw new Error('the 14 days of retention must lie inside the 30-day window');
}

/** The one-pass caller activity row both stores' queries answer. */
export interface CallerActivity {
  callers: number;
  inferences: number;
  repeatInferences: number;
  active: number;
  previous: number;
  retained: number;
  top10: number;
}

export function callerFiguresOf(a: CallerActivity, new7: number): CallerFigures {
  return {
    active7: a.active,
    new7,
    previous7: a.previous,
    retained7: a.retained,
    callers30: a.callers,
    inferences30: a.inferences,
    repeatInferences30: a.repeatInferences,
    top10Inferences30: a.top10,
  };
}

/** Distinct TEE ids of each stored type (null: never seen); both stores' "by type" queries answer this. */
export type TeesByType = ReadonlyArray<{ teeType: number | null; n: number }>;

export interface OperatorCounts {
  registered: number;
  registeredByType: TeesByType;
  enabled: number;
  enabledByType: TeesByType;
  enabledByRegistry: ReadonlyArray<{ registry: string; n: number }>;
  settling: { tees: number; settlements: number; busiest: number };
  heartbeats: number;
}

/** The SDK's types (0 LLM proxy, 1 validator), and every other value or none as `other`. */
function splitByType(rows: TeesByType): { llmProxy: number; validator: number; other: number } {
  const split = { llmProxy: 0, validator: 0, other: 0 };
  for (const { teeType, n } of rows) {
    if (teeType === 0) split.llmProxy += n;
    else if (teeType === 1) split.validator += n;
    else split.other += n;
  }
  return split;
}

export function operatorFiguresOf(c: OperatorCounts): OperatorFigures {
  const registered = splitByType(c.registeredByType);
  const enabled = splitByType(c.enabledByType);
  return {
    registered: c.registered,
    registeredLlmProxy: registered.llmProxy,
    registeredValidator: registered.validator,
    registeredOtherType: registered.other,
    enabled: c.enabled,
    enabledLlmProxy: enabled.llmProxy,
    enabledValidator: enabled.validator,
    enabledOtherType: enabled.other,
    enabledByRegistry: c.enabledByRegistry
      .map(({ registry, n }) => ({ registry, enabled: n }))
      .sort((a, b) => (a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : 0)),
    settling7: c.settling.tees,
    settlements7: c.settling.settlements,
    busiestSettlements7: c.settling.busiest,
    heartbeats: c.heartbeats,
  };
}

/** The bounds the weekly queries take: weeks of 7 days from the first start's day, to `endMs`. */
export function weekBounds(weekStartsMs: readonly number[], endMs: number) {
  return { start: dayStart(weekStartsMs[0]!), week: 7 * 86_400_000, end: endMs };
}

/** Each week's counts by its index from the first (`w`), weeks with none counted as 0. */
export function callerWeeksOf(
  weekStartsMs: readonly number[],
  active: ReadonlyArray<{ w: number; n: number }>,
  fresh: ReadonlyArray<{ w: number; n: number }>,
): CallerWeek[] {
  const activeBy = new Map(active.map((r) => [r.w, r.n]));
  const freshBy = new Map(fresh.map((r) => [r.w, r.n]));
  return weekStartsMs.map((startMs, i) => ({
    startMs,
    active: activeBy.get(i) ?? 0,
    newCallers: freshBy.get(i) ?? 0,
  }));
}

/** A range's caller-days, split into day, address and count, with the earliest day of each address. */
export interface ParsedCallerDays {
  rows: Array<{ dayMs: number; address: string; n: number }>;
  firstDayOf: Map<string, number>;
}

export function parseCallerDays(callerDays: ReadonlyMap<string, number>): ParsedCallerDays {
  const rows: ParsedCallerDays['rows'] = [];
  const firstDayOf = new Map<string, number>();
  for (const [key, n] of callerDays) {
    const bar = key.indexOf('|');
    const dayMs = Number(key.slice(0, bar));
    const address = key.slice(bar + 1);
    rows.push({ dayMs, address, n });
    const first = firstDayOf.get(address);
    if (first === undefined || dayMs < first) firstDayOf.set(address, dayMs);
  }
  return { rows, firstDayOf };
}

/** `dayMs|teeId` keys split. */
export function parseTeeDays(teeDays: ReadonlyMap<string, number>): Array<{ dayMs: number; teeId: string; n: number }> {
  return [...teeDays].map(([key, n]) => {
    const bar = key.indexOf('|');
    return { dayMs: Number(key.slice(0, bar)), teeId: key.slice(bar + 1), n };
  });
}
