/**
 * Callers, TEE operators and workflow developers as the chain shows them, in SQLite. `writeInTransaction`
 * adds one indexed range's findings and runs inside the inference store's chunk transaction (the inference
 * store built with this store calls it from `commitChunk`), so the cursor and these rows move together: a
 * range is recorded once or not at all. Reads are aggregate queries over whole UTC days; see
 * `core/participants.ts` for the windows, and participant-figures.ts for how the caller figures are kept
 * (the indexer calls `warm` after each pass, off the command path, and commands read them from memory).
 * Everything else is a small query per answer.
 */
import { LRUCache } from 'lru-cache';
import {
  callerWindows,
  type CallerFigures,
  type CallerWeek,
  type CallerWindows,
  type DeveloperFigures,
  type OperatorFigures,
  type ParticipantChunk,
  type ParticipantCoverage,
  type ParticipantEvent,
  type ParticipantStore,
} from '../core/participants.js';

export type { ParticipantChunk, ParticipantStore } from '../core/participants.js';
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './open.js';
import {
  callerFiguresOf,
  callersKey,
  callerWeeksOf,
  checkCallerWindows,
  createFigureMemo,
  figureVersion,
  operatorFiguresOf,
  weekBounds,
  weeksKey,
  type CallerActivity,
  type CursorRow,
  type TeesByType,
} from './participant-figures.js';
import {
  callerDays,
  callers as callerRows,
  indexerState,
  participantCoverage,
  teeDays,
  tees,
  workflowTasks,
} from './schema/index.js';
import { bare, excluded, named, param, sqlText } from './statement.js';

/** Caller-days written by one statement. */
const CALLER_DAY_ROWS = 50;

/** Caller ids kept in memory (about 100 bytes each). */
const ID_CACHE_SIZE = 200_000;

/** The SQLite participant store, with the writes the inference store runs inside its chunk transaction. */
export interface SqliteParticipantStore extends ParticipantStore {
  /** Adds a range's findings; call only inside the chunk transaction. */
  writeInTransaction(chunk: ParticipantChunk): void;
  /** The transaction that ran the last write committed: the caller ids it assigned may be reused. */
  committed(): void;
}

/** The store over an opened, migrated database, for one indexed network; statements are prepared once. */
export function createParticipantStore(database: Database, network = 'opengradient'): SqliteParticipantStore {
  const { sqlite } = database;
  const prepare = (query: SQL) => sqlite.prepare(sqlText(query));
  const c = callerRows;
  const d = callerDays;
  const td = teeDays;
  const t = tees;
  const w = workflowTasks;
  const pc = participantCoverage;
  /** `(?, ?, …)` for one row of `columns` values, `rows` times over. */
  const valueRows = (columns: number, rows: number) =>
    sql.join(Array<SQL>(rows).fill(sql`(${sql.join(Array<SQL>(columns).fill(param), sql`, `)})`), sql`, `);

  const callersTail = sql`on conflict (${bare(c.address)}) do update
    set ${bare(c.firstDayMs)} = min(${c.firstDayMs}, ${excluded(c.firstDayMs)})`;
  const upsertCaller = prepare(
    sql`insert into ${c} (${bare(c.address)}, ${bare(c.firstDayMs)}) values ${valueRows(2, 1)}
        ${callersTail} returning ${bare(c.id)}`,
  );
  // Callers first seen in a range, CALLER_DAY_ROWS at a time the same way (a backfill meets each once).
  const upsertCallers = prepare(
    sql`insert into ${c} (${bare(c.address)}, ${bare(c.firstDayMs)}) values ${valueRows(2, CALLER_DAY_ROWS)}
        ${callersTail} returning ${bare(c.id)}, ${bare(c.address)}`,
  );
  // A range's caller-days go in CALLER_DAY_ROWS at a time, by one statement with as many rows: a statement
  // a row cost more in SQLite's statement machinery than the rows' b-tree work (a JSON parameter read by
  // json_each cost more still).
  const addCallerDaysOf = (rows: number) =>
    prepare(
      sql`insert into ${d} (${bare(d.dayMs)}, ${bare(d.callerId)}, ${bare(d.inferences)}) values ${valueRows(3, rows)}
          on conflict (${bare(d.dayMs)}, ${bare(d.callerId)}) do update
            set ${bare(d.inferences)} = ${d.inferences} + ${excluded(d.inferences)}`,
    );
  const addCallerDay = addCallerDaysOf(1);
  const addCallerDays = addCallerDaysOf(CALLER_DAY_ROWS);
  const addTeeDay = prepare(
    sql`insert into ${td} (${bare(td.dayMs)}, ${bare(td.teeId)}, ${bare(td.settlements)}) values ${valueRows(3, 1)}
        on conflict (${bare(td.dayMs)}, ${bare(td.teeId)}) do update
          set ${bare(td.settlements)} = ${td.settlements} + ${excluded(td.settlements)}`,
  );
  const teeKey = sql`(${bare(t.registry)}, ${bare(t.teeId)})`;
  const registerTee = prepare(
    sql`insert into ${t} (${bare(t.registry)}, ${bare(t.teeId)}, ${bare(t.teeType)}, ${bare(t.owner)},
          ${bare(t.registeredAtMs)}, ${bare(t.enabled)}) values (${param}, ${param}, ${param}, ${param}, ${param}, 1)
        on conflict ${teeKey} do update
          set ${bare(t.teeType)} = ${excluded(t.teeType)}, ${bare(t.owner)} = ${excluded(t.owner)},
            ${bare(t.registeredAtMs)} = ${excluded(t.registeredAtMs)}, ${bare(t.enabled)} = 1`,
  );
  const setTeeEnabled = prepare(
    sql`insert into ${t} (${bare(t.registry)}, ${bare(t.teeId)}, ${bare(t.enabled)}) values ${valueRows(3, 1)}
        on conflict ${teeKey} do update set ${bare(t.enabled)} = ${excluded(t.enabled)}`,
  );
  // `removeTEE` in og-evm 758e149 deletes the TEE's record and emits only `TEERemoved`: it is then neither
  // registered nor enabled (and may be registered again). Its last heartbeat stays a fact of the chain.
  const removeTee = prepare(
    sql`update ${t} set ${bare(t.enabled)} = 0, ${bare(t.registeredAtMs)} = null, ${bare(t.teeType)} = null,
          ${bare(t.owner)} = null
        where ${t.registry} = ${param} and ${t.teeId} = ${param}`,
  );
  // The registry refuses a heartbeat from a TEE that is not enabled, so one proves it was enabled then
  // (OpenGradient/og-evm contracts/solidity/TEERegistry.sol, `heartbeat`: `if (!tee.enabled) revert
  // TEENotEnabled();` at 8d35b766, `TEENotActive` since the function came in at 1a739167). In chain order it
  // repeats what TEERegistered/TEEEnabled/TEEDisabled said; it adds to them for a TEE registered before the
  // indexed history.
  const heartbeat = prepare(
    sql`insert into ${t} (${bare(t.registry)}, ${bare(t.teeId)}, ${bare(t.enabled)}, ${bare(t.lastHeartbeatMs)})
          values (${param}, ${param}, 1, ${param})
        on conflict ${teeKey} do update
          set ${bare(t.enabled)} = 1,
            ${bare(t.lastHeartbeatMs)} = max(coalesce(${t.lastHeartbeatMs}, 0), ${excluded(t.lastHeartbeatMs)})`,
  );
  const taskColumns = sql`${w} (${bare(w.user)}, ${bare(w.contractAddress)}, ${bare(w.endTimeSec)},
    ${bare(w.frequency)}, ${bare(w.registered)}, ${bare(w.stopped)}, ${bare(w.updatedAtMs)})`;
  const taskKey = sql`(${bare(w.user)}, ${bare(w.contractAddress)})`;
  const taskSchedule = sql`${bare(w.endTimeSec)} = ${excluded(w.endTimeSec)},
    ${bare(w.frequency)} = ${excluded(w.frequency)}`;
  const registerTask = prepare(
    sql`insert into ${taskColumns} values (${param}, ${param}, ${param}, ${param}, 1, 0, ${param})
        on conflict ${taskKey} do update
          set ${taskSchedule}, ${bare(w.registered)} = 1, ${bare(w.stopped)} = 0,
            ${bare(w.updatedAtMs)} = ${excluded(w.updatedAtMs)}`,
  );
  const updateTask = prepare(
    sql`insert into ${taskColumns} values (${param}, ${param}, ${param}, ${param}, 0, 0, ${param})
        on conflict ${taskKey} do update
          set ${taskSchedule}, ${bare(w.updatedAtMs)} = ${excluded(w.updatedAtMs)}`,
  );
  const stopTask = prepare(
    sql`insert into ${taskColumns} values (${param}, ${param}, 0, 0, 0, 1, ${param})
        on conflict ${taskKey} do update
          set ${bare(w.stopped)} = 1, ${bare(w.updatedAtMs)} = ${excluded(w.updatedAtMs)}`,
  );
  const insertCoverage = prepare(
    sql`insert into ${pc} (${bare(pc.network)}, ${bare(pc.fromBlock)}, ${bare(pc.fromBlockTimeMs)})
        values ${valueRows(3, 1)} on conflict (${bare(pc.network)}) do nothing`,
  );
  const selectCoverage = prepare(
    sql`select ${pc.fromBlock} as fromBlock, ${pc.fromBlockTimeMs} as fromBlockTimeMs from ${pc}
        where ${pc.network} = ${param}`,
  );

  // One pass over the 30 days' rows, grouped by caller once: the 7-day and 14-day figures are windows inside it.
  const callerActivity = prepare(
    sql`with per as materialized (
          select count(*) as days, sum(${d.inferences}) as n, max(${d.dayMs} >= ${named('last7')}) as cur,
                 max(${d.dayMs} >= ${named('previous7')} and ${d.dayMs} < ${named('last7')}) as prev
          from ${d} where ${d.dayMs} >= ${named('last30')} and ${d.dayMs} < ${named('end')} group by ${d.callerId})
        select count(*) as callers, coalesce(sum(n), 0) as inferences,
          coalesce(sum(case when days >= 2 then n else 0 end), 0) as repeatInferences,
          coalesce(sum(cur), 0) as active, coalesce(sum(prev), 0) as previous,
          coalesce(sum(cur and prev), 0) as retained,
          (select coalesce(sum(n), 0) from (select n from per order by n desc limit 10)) as top10
        from per`,
  );
  const newCallers = prepare(
    sql`select count(*) as n from ${c} where ${c.firstDayMs} >= ${param} and ${c.firstDayMs} < ${param}`,
  );
  const registeredTee = sql`${t.registeredAtMs} is not null`;
  const enabledTee = sql`${t.enabled} = 1`;
  const distinctTees = (where: SQL) => prepare(sql`select count(distinct ${t.teeId}) as n from ${t} where ${where}`);
  const teesByType = (where: SQL) =>
    prepare(
      sql`select ${t.teeType} as teeType, count(distinct ${t.teeId}) as n from ${t} where ${where}
          group by ${t.teeType}`,
    );
  const registeredTees = distinctTees(registeredTee);
  const registeredByType = teesByType(registeredTee);
  const enabledTees = distinctTees(enabledTee);
  const enabledByType = teesByType(enabledTee);
  const enabledByRegistry = prepare(
    sql`select ${t.registry} as registry, count(distinct case when ${t.enabled} = 1 then ${t.teeId} end) as n
        from ${t} group by ${t.registry}`,
  );
  const settling = prepare(
    sql`select count(*) as tees, coalesce(sum(s), 0) as settlements, coalesce(max(s), 0) as busiest from (
          select sum(${td.settlements}) as s from ${td} where ${td.dayMs} >= ${param} and ${td.dayMs} < ${param}
          group by ${td.teeId})`,
  );
  const heartbeats = prepare(
    sql`select count(distinct ${t.teeId}) as n from ${t} where ${t.lastHeartbeatMs} >= ${param}`,
  );
  const registrants = prepare(sql`select count(distinct ${w.user}) as n from ${w} where ${w.registered} = 1`);
  const activeTasks = prepare(
    sql`select count(*) as n from ${w} where ${w.stopped} = 0 and ${w.endTimeSec} > ${param}`,
  );
  const weekOf = (dayMs: SQL) => sql`cast((${dayMs} - ${named('start')}) / ${named('week')} as integer) as w`;
  const weeklyActive = prepare(
    sql`select ${weekOf(sql`${d.dayMs}`)}, count(distinct ${d.callerId}) as n from ${d}
        where ${d.dayMs} >= ${named('start')} and ${d.dayMs} < ${named('end')} group by w`,
  );
  const weeklyNew = prepare(
    sql`select ${weekOf(sql`${c.firstDayMs}`)}, count(*) as n from ${c}
        where ${c.firstDayMs} >= ${named('start')} and ${c.firstDayMs} < ${named('end')} group by w`,
  );

  type N = { n: number };

  // Caller ids already stored, so a known caller costs no upsert: ranges are written in chain order, so its
  // first day is already the earliest. Ids a write assigns are only trusted once its transaction committed.
  const knownIds = new LRUCache<string, number>({ max: ID_CACHE_SIZE });
  const pendingIds = new Map<string, number>();

  // Figures over days to `endMs` kept until the indexer has counted past `endMs` (then final), or until the
  // next write here or the cursor moves (another connection's write) before that; see participant-figures.ts.
  let writes = 0;
  const memo = createFigureMemo();
  const is = indexerState;
  const cursor = prepare(
    sql`select ${is.nextBlock} as nextBlock, ${is.indexedBlockTimeMs} as indexedBlockTimeMs from ${is}
        where ${is.network} = ${param}`,
  );
  const version = (endMs: number) => figureVersion(cursor.get(network) as CursorRow | undefined, writes, endMs);

  /**
   * Adds a range's caller-days, upserting the callers not known yet (with their first day), in key order:
   * each row then lands next to the one before in the table's b-tree.
   */
  function writeCallerDays(callerDays: ReadonlyMap<string, number>): void {
    const rows: number[][] = [];
    // Callers new to the store, with their earliest day in this range (whatever the order of its keys).
    const fresh = new Map<string, number[][]>();
    for (const [key, n] of callerDays) {
      const bar = key.indexOf('|');
      const dayMs = Number(key.slice(0, bar));
      const address = key.slice(bar + 1);
      const id = knownIds.get(address) ?? pendingIds.get(address);
      const row = [dayMs, id ?? 0, n];
      rows.push(row);
      if (id !== undefined) continue;
      const waiting = fresh.get(address);
      if (waiting) waiting.push(row);
      else fresh.set(address, [row]);
    }
    const newcomers = [...fresh.keys()];
    let k = 0;
    for (; k + CALLER_DAY_ROWS <= newcomers.length; k += CALLER_DAY_ROWS) {
      const params: Array<string | number> = [];
      for (const address of newcomers.slice(k, k + CALLER_DAY_ROWS))
        params.push(address, Math.min(...fresh.get(address)!.map((r) => r[0]!)));
      for (const { id, address } of upsertCallers.all(params) as Array<{ id: number; address: string }>)
        pendingIds.set(address, id);
    }
    for (const address of newcomers.slice(k)) {
      const firstDayMs = Math.min(...fresh.get(address)!.map((r) => r[0]!));
      pendingIds.set(address, (upsertCaller.get(address, firstDayMs) as { id: number }).id);
    }
    for (const [address, waiting] of fresh) {
      const id = pendingIds.get(address);
      if (id === undefined) throw new Error(`caller ${address} has no id after its upsert`);
      for (const row of waiting) row[1] = id;
    }
    rows.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    const params = new Array<number>(3 * CALLER_DAY_ROWS);
    let i = 0;
    for (; i + CALLER_DAY_ROWS <= rows.length; i += CALLER_DAY_ROWS) {
      for (let j = 0; j < CALLER_DAY_ROWS; j++) {
        const row = rows[i + j]!;
        params[3 * j] = row[0]!;
        params[3 * j + 1] = row[1]!;
        params[3 * j + 2] = row[2]!;
      }
      addCallerDays.run(params);
    }
    for (; i < rows.length; i++) addCallerDay.run(rows[i]![0], rows[i]![1], rows[i]![2]);
  }

  function apply({ event, blockTimeMs }: { event: ParticipantEvent; blockTimeMs: number }): void {
    switch (event.type) {
      case 'tee-registered':
        registerTee.run(event.registry, event.teeId, event.teeType, event.owner, blockTimeMs);
        return;
      case 'tee-enabled':
      case 'tee-disabled':
        setTeeEnabled.run(event.registry, event.teeId, event.type === 'tee-enabled' ? 1 : 0);
        return;
      case 'tee-removed':
        removeTee.run(event.registry, event.teeId);
        return;
      case 'heartbeat':
        heartbeat.run(event.registry, event.teeId, blockTimeMs);
        return;
      case 'task-registered':
        registerTask.run(event.user, event.contractAddress, event.endTimeSec, event.frequency, blockTimeMs);
        return;
      case 'task-updated':
        updateTask.run(event.user, event.contractAddress, event.endTimeSec, event.frequency, blockTimeMs);
        return;
      case 'task-stopped':
        stopTask.run(event.user, event.contractAddress, blockTimeMs);
        return;
    }
  }

  function callerFigures(w: CallerWindows): CallerFigures {
    checkCallerWindows(w);
    const a = callerActivity.get({
      last7: w.last7Ms,
      previous7: w.previous7Ms,
      last30: w.last30Ms,
      end: w.endMs,
    }) as CallerActivity;
    return callerFiguresOf(a, (newCallers.get(w.last7Ms, w.endMs) as N).n);
  }

  function coverageOf(net: string): ParticipantCoverage | null {
    return (selectCoverage.get(net) as ParticipantCoverage | undefined) ?? null;
  }

  const callers = (w: CallerWindows): Promise<CallerFigures> =>
    memo.get(version(w.endMs), callersKey(w), async () => callerFigures(w));

  return {
    writeInTransaction(chunk) {
      writes++;
      if (chunk.coverage) insertCoverage.run(chunk.network, chunk.coverage.fromBlock, chunk.coverage.fromBlockTimeMs);
      pendingIds.clear(); // ids of a write whose transaction did not commit were never stored
      writeCallerDays(chunk.callerDays);
      for (const [key, n] of chunk.teeDays) {
        const bar = key.indexOf('|');
        addTeeDay.run(Number(key.slice(0, bar)), key.slice(bar + 1), n);
      }
      for (const e of chunk.events) apply(e);
    },
    committed() {
      for (const [address, id] of pendingIds) knownIds.set(address, id);
      pendingIds.clear();
    },
    coverageOf: async (net) => coverageOf(net),
    coverage: async () => coverageOf(network),
    callers,
    async warm(nowMs) {
      await callers(callerWindows(nowMs));
    },
    async operators(w: CallerWindows, heartbeatSinceMs: number): Promise<OperatorFigures> {
      return operatorFiguresOf({
        registered: (registeredTees.get() as N).n,
        registeredByType: registeredByType.all() as TeesByType,
        enabled: (enabledTees.get() as N).n,
        enabledByType: enabledByType.all() as TeesByType,
        enabledByRegistry: enabledByRegistry.all() as Array<{ registry: string; n: number }>,
        settling: settling.get(w.last7Ms, w.endMs) as { tees: number; settlements: number; busiest: number },
        heartbeats: (heartbeats.get(heartbeatSinceMs) as N).n,
      });
    },
    async developers(nowMs: number): Promise<DeveloperFigures> {
      return {
        registrants: (registrants.get() as N).n,
        activeTasks: (activeTasks.get(Math.floor(nowMs / 1000)) as N).n,
      };
    },
    callerWeeks: (weekStartsMs, endMs) =>
      memo.get(version(endMs), weeksKey(weekStartsMs, endMs), async () => callerWeeks(weekStartsMs, endMs)),
  };

  function callerWeeks(weekStartsMs: readonly number[], endMs: number): CallerWeek[] {
    if (weekStartsMs.length === 0) return [];
    const params = weekBounds(weekStartsMs, endMs);
    return callerWeeksOf(
      weekStartsMs,
      weeklyActive.all(params) as Array<{ w: number; n: number }>,
      weeklyNew.all(params) as Array<{ w: number; n: number }>,
    );
  }
}
