/**
 * Callers, TEE operators and workflow developers in PostgreSQL: the participant store of
 * participant-store.ts (read its comment) on the pg schema, with the same figures (participant-figures.ts
 * holds what both share). `writeInTransaction` runs inside the inference store's chunk transaction. A
 * backfill meets millions of caller-days, so a range's rows go in multi-row upserts; consecutive heartbeats
 * (most registry events) go in one statement, keeping each TEE's latest.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import {
  callerWindows,
  type CallerFigures,
  type CallerWeek,
  type CallerWindows,
  type ParticipantChunk,
  type ParticipantCoverage,
  type ParticipantEvent,
  type ParticipantStore,
} from '../core/participants.js';
import {
  callerFiguresOf,
  callersKey,
  callerWeeksOf,
  checkCallerWindows,
  createFigureMemo,
  figureVersion,
  operatorFiguresOf,
  parseCallerDays,
  parseTeeDays,
  weekBounds,
  weeksKey,
  type CallerActivity,
  type TeesByType,
} from './participant-figures.js';
import type { PgQueries } from './pg-alert-subscriptions.js';
import {
  callerDays,
  callers,
  indexerState,
  participantCoverage,
  teeDays,
  tees,
  workflowTasks,
} from './pg-schema/index.js';
import { excluded } from './column-sql.js';
import { pgRows } from './pg-statement.js';
import type { PgStoreDb } from './postgres.js';

/** Rows one upsert writes (at most 3 values each; PostgreSQL binds at most 65,535 a statement). */
const BATCH_ROWS = 1_000;

/** Caller ids kept in memory (about 100 bytes each). */
const ID_CACHE_SIZE = 200_000;

/** The PostgreSQL participant store, with the writes the inference store runs inside its chunk transaction. */
export interface PgParticipantStore extends ParticipantStore {
  /** Adds a range's findings through `q`, the chunk's transaction. */
  writeInTransaction(q: PgQueries, chunk: ParticipantChunk): Promise<void>;
  /** The transaction that ran the last write committed: the caller ids it assigned may be reused. */
  committed(): void;
}

type N = { n: number };

function batches<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += BATCH_ROWS) out.push(rows.slice(i, i + BATCH_ROWS));
  return out;
}

/** The store over a migrated PostgreSQL database, for one indexed network. */
export function createPgParticipantStore(db: PgStoreDb, network = 'opengradient'): PgParticipantStore {
  // Caller ids already stored, so a known caller costs no upsert: ranges are written in chain order, so its
  // first day is already the earliest. Ids a write assigns are only trusted once its transaction committed.
  const knownIds = new LRUCache<string, number>({ max: ID_CACHE_SIZE });
  const pendingIds = new Map<string, number>();

  let writes = 0;
  const memo = createFigureMemo();
  /** One probe of the cursor's row (by its key), from the shared store: another instance's commits count. */
  async function version(endMs: number): Promise<string> {
    const [row] = await db
      .select({ nextBlock: indexerState.nextBlock, indexedBlockTimeMs: indexerState.indexedBlockTimeMs })
      .from(indexerState)
      .where(eq(indexerState.network, network));
    return figureVersion(row, writes, endMs);
  }

  const one = async (query: SQL): Promise<number> => (await pgRows<N>(db, query))[0]?.n ?? 0;

  /** Upserts the callers not known yet (with their first day in the range), then adds the caller-days. */
  async function writeCallerDays(q: PgQueries, days: ReadonlyMap<string, number>): Promise<void> {
    const { rows, firstDayOf } = parseCallerDays(days);
    const newcomers = [...firstDayOf.keys()].filter((a) => !knownIds.has(a) && !pendingIds.has(a));
    for (const batch of batches(newcomers)) {
      const ids = await q
        .insert(callers)
        .values(batch.map((address) => ({ address, firstDayMs: firstDayOf.get(address)! })))
        .onConflictDoUpdate({
          target: callers.address,
          set: { firstDayMs: sql`least(${callers.firstDayMs}, ${excluded(callers.firstDayMs)})` },
        })
        .returning({ id: callers.id, address: callers.address });
      for (const { id, address } of ids) pendingIds.set(address, id);
    }
    const dayRows = rows.map(({ dayMs, address, n }) => {
      const callerId = knownIds.get(address) ?? pendingIds.get(address);
      if (callerId === undefined) throw new Error(`caller ${address} has no id after its upsert`);
      return { dayMs, callerId, inferences: n };
    });
    dayRows.sort((a, b) => a.dayMs - b.dayMs || a.callerId - b.callerId);
    for (const batch of batches(dayRows)) {
      await q
        .insert(callerDays)
        .values(batch)
        .onConflictDoUpdate({
          target: [callerDays.dayMs, callerDays.callerId],
          set: { inferences: sql`${callerDays.inferences} + ${excluded(callerDays.inferences)}` },
        });
    }
  }

  /**
   * Heartbeats in a row, as one upsert: each TEE's latest. A heartbeat proves its TEE enabled then: the registry's
   * `heartbeat` reverts `TEENotEnabled` for a disabled TEE (participant-store.ts cites the contract). Any other
   * event flushes the batch first, so a later `TEEDisabled` still wins.
   */
  async function writeHeartbeats(q: PgQueries, latest: Map<string, { registry: string; teeId: string; atMs: number }>) {
    for (const batch of batches([...latest.values()])) {
      await q
        .insert(tees)
        .values(batch.map((b) => ({ registry: b.registry, teeId: b.teeId, enabled: true, lastHeartbeatMs: b.atMs })))
        .onConflictDoUpdate({
          target: [tees.registry, tees.teeId],
          set: {
            enabled: true,
            lastHeartbeatMs: sql`greatest(coalesce(${tees.lastHeartbeatMs}, 0), ${excluded(tees.lastHeartbeatMs)})`,
          },
        });
    }
    latest.clear();
  }

  async function apply(q: PgQueries, event: Exclude<ParticipantEvent, { type: 'heartbeat' }>, atMs: number) {
    const t = workflowTasks;
    switch (event.type) {
      case 'tee-registered': {
        const values = { teeType: event.teeType, owner: event.owner, registeredAtMs: atMs, enabled: true };
        await q
          .insert(tees)
          .values({ registry: event.registry, teeId: event.teeId, ...values })
          .onConflictDoUpdate({ target: [tees.registry, tees.teeId], set: values });
        return;
      }
      case 'tee-enabled':
      case 'tee-disabled': {
        const enabled = event.type === 'tee-enabled';
        await q
          .insert(tees)
          .values({ registry: event.registry, teeId: event.teeId, enabled })
          .onConflictDoUpdate({ target: [tees.registry, tees.teeId], set: { enabled } });
        return;
      }
      case 'tee-removed':
        // Deleted by the registry (og-evm 758e149's `removeTEE`; participant-store.ts says more).
        await q
          .update(tees)
          .set({ enabled: false, registeredAtMs: null, teeType: null, owner: null })
          .where(and(eq(tees.registry, event.registry), eq(tees.teeId, event.teeId)));
        return;
      case 'task-registered':
      case 'task-updated': {
        const registered = event.type === 'task-registered';
        const set = { endTimeSec: event.endTimeSec, frequency: event.frequency, updatedAtMs: atMs };
        await q
          .insert(t)
          .values({ user: event.user, contractAddress: event.contractAddress, registered, stopped: false, ...set })
          .onConflictDoUpdate({
            target: [t.user, t.contractAddress],
            set: registered ? { ...set, registered: true, stopped: false } : set,
          });
        return;
      }
      case 'task-stopped':
        await q
          .insert(t)
          .values({
            user: event.user,
            contractAddress: event.contractAddress,
            endTimeSec: 0,
            frequency: 0,
            registered: false,
            stopped: true,
            updatedAtMs: atMs,
          })
          .onConflictDoUpdate({ target: [t.user, t.contractAddress], set: { stopped: true, updatedAtMs: atMs } });
        return;
    }
  }

  async function callerFigures(w: CallerWindows): Promise<CallerFigures> {
    checkCallerWindows(w);
    const d = callerDays;
    const [a] = await pgRows<CallerActivity>(
      db,
      sql`WITH per AS MATERIALIZED (
            SELECT count(*) AS days, sum(${d.inferences}) AS n,
              max(CASE WHEN ${d.dayMs} >= ${w.last7Ms} THEN 1 ELSE 0 END) AS cur,
              max(CASE WHEN ${d.dayMs} >= ${w.previous7Ms} AND ${d.dayMs} < ${w.last7Ms} THEN 1 ELSE 0 END) AS prev
            FROM ${d} WHERE ${d.dayMs} >= ${w.last30Ms} AND ${d.dayMs} < ${w.endMs} GROUP BY ${d.callerId})
          SELECT count(*)::float8 AS callers, coalesce(sum(n), 0)::float8 AS inferences,
            coalesce(sum(CASE WHEN days >= 2 THEN n ELSE 0 END), 0)::float8 AS "repeatInferences",
            coalesce(sum(cur), 0)::float8 AS active, coalesce(sum(prev), 0)::float8 AS previous,
            coalesce(sum(cur * prev), 0)::float8 AS retained,
            (SELECT coalesce(sum(n), 0) FROM (SELECT n FROM per ORDER BY n DESC LIMIT 10) top)::float8 AS top10
          FROM per`,
    );
    const c = callers;
    const new7 = await one(
      sql`SELECT count(*)::float8 AS n FROM ${c} WHERE ${c.firstDayMs} >= ${w.last7Ms}
            AND ${c.firstDayMs} < ${w.endMs}`,
    );
    return callerFiguresOf(a!, new7);
  }

  async function callerWeeks(weekStartsMs: readonly number[], endMs: number): Promise<CallerWeek[]> {
    if (weekStartsMs.length === 0) return [];
    const { start, week, end } = weekBounds(weekStartsMs, endMs);
    const d = callerDays;
    const c = callers;
    const active = await pgRows<{ w: number; n: number }>(
      db,
      sql`SELECT ((${d.dayMs} - ${start}) / ${week})::int AS w, count(DISTINCT ${d.callerId})::float8 AS n
          FROM ${d} WHERE ${d.dayMs} >= ${start} AND ${d.dayMs} < ${end} GROUP BY 1`,
    );
    const fresh = await pgRows<{ w: number; n: number }>(
      db,
      sql`SELECT ((${c.firstDayMs} - ${start}) / ${week})::int AS w, count(*)::float8 AS n
          FROM ${c} WHERE ${c.firstDayMs} >= ${start} AND ${c.firstDayMs} < ${end} GROUP BY 1`,
    );
    return callerWeeksOf(weekStartsMs, active, fresh);
  }

  async function coverageOf(net: string): Promise<ParticipantCoverage | null> {
    const p = participantCoverage;
    const [row] = await db
      .select({ fromBlock: p.fromBlock, fromBlockTimeMs: p.fromBlockTimeMs })
      .from(p)
      .where(eq(p.network, net));
    return row ?? null;
  }

  const callerFiguresFor = async (w: CallerWindows): Promise<CallerFigures> =>
    memo.get(await version(w.endMs), callersKey(w), () => callerFigures(w));

  return {
    async writeInTransaction(q, chunk) {
      writes++;
      if (chunk.coverage)
        await q
          .insert(participantCoverage)
          .values({ network: chunk.network, ...chunk.coverage })
          .onConflictDoNothing();
      pendingIds.clear(); // ids of a write whose transaction did not commit were never stored
      await writeCallerDays(q, chunk.callerDays);
      for (const batch of batches(parseTeeDays(chunk.teeDays))) {
        await q
          .insert(teeDays)
          .values(batch.map((r) => ({ dayMs: r.dayMs, teeId: r.teeId, settlements: r.n })))
          .onConflictDoUpdate({
            target: [teeDays.dayMs, teeDays.teeId],
            set: { settlements: sql`${teeDays.settlements} + ${excluded(teeDays.settlements)}` },
          });
      }
      const heartbeats = new Map<string, { registry: string; teeId: string; atMs: number }>();
      for (const { event, blockTimeMs } of chunk.events) {
        if (event.type === 'heartbeat') {
          const key = `${event.registry}|${event.teeId}`;
          const seen = heartbeats.get(key);
          if (!seen || seen.atMs < blockTimeMs)
            heartbeats.set(key, { registry: event.registry, teeId: event.teeId, atMs: blockTimeMs });
          continue;
        }
        if (heartbeats.size > 0) await writeHeartbeats(q, heartbeats);
        await apply(q, event, blockTimeMs);
      }
      if (heartbeats.size > 0) await writeHeartbeats(q, heartbeats);
    },
    committed() {
      for (const [address, id] of pendingIds) knownIds.set(address, id);
      pendingIds.clear();
    },
    coverageOf,
    coverage: () => coverageOf(network),
    callers: callerFiguresFor,
    async warm(nowMs) {
      await callerFiguresFor(callerWindows(nowMs));
    },
    async operators(w, heartbeatSinceMs) {
      const t = tees;
      const s = teeDays;
      const [settling] = await pgRows<{ tees: number; settlements: number; busiest: number }>(
        db,
        sql`SELECT count(*)::float8 AS tees, coalesce(sum(s), 0)::float8 AS settlements, 
                   coalesce(max(s), 0)::float8 AS busiest
            FROM (SELECT sum(${s.settlements}) AS s FROM ${s}
                  WHERE ${s.dayMs} >= ${w.last7Ms} AND ${s.dayMs} < ${w.endMs} GROUP BY ${s.teeId}) per`,
      );
      const registered = sql`${t.registeredAtMs} IS NOT NULL`;
      const enabled = sql`${t.enabled}`;
      const distinct = (where: SQL) =>
        one(sql`SELECT count(DISTINCT ${t.teeId})::float8 AS n FROM ${t} WHERE ${where}`);
      const byType = (where: SQL) =>
        pgRows<TeesByType[number]>(
          db,
          sql`SELECT ${t.teeType} AS "teeType", count(DISTINCT ${t.teeId})::float8 AS n FROM ${t}
              WHERE ${where} GROUP BY ${t.teeType}`,
        );
      return operatorFiguresOf({
        registered: await distinct(registered),
        registeredByType: await byType(registered),
        enabled: await distinct(enabled),
        enabledByType: await byType(enabled),
        enabledByRegistry: await pgRows<{ registry: string; n: number }>(
          db,
          sql`SELECT ${t.registry} AS registry, count(DISTINCT CASE WHEN ${t.enabled} THEN ${t.teeId} END)::float8 AS n
              FROM ${t} GROUP BY ${t.registry}`,
        ),
        settling: settling!,
        heartbeats: await one(
          sql`SELECT count(DISTINCT ${t.teeId})::float8 AS n FROM ${t}
              WHERE ${t.lastHeartbeatMs} >= ${heartbeatSinceMs}`,
        ),
      });
    },
    async developers(nowMs) {
      const t = workflowTasks;
      return {
        registrants: await one(sql`SELECT count(DISTINCT ${t.user})::float8 AS n FROM ${t} WHERE ${t.registered}`),
        activeTasks: await one(
          sql`SELECT count(*)::float8 AS n FROM ${t} WHERE NOT ${t.stopped}
                AND ${t.endTimeSec} > ${Math.floor(nowMs / 1000)}`,
        ),
      };
    },
    callerWeeks: async (weekStartsMs, endMs) =>
      memo.get(await version(endMs), weeksKey(weekStartsMs, endMs), () => callerWeeks(weekStartsMs, endMs)),
  };
}
