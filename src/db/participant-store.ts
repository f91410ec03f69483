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
import type { Database } from './open.js';
import {
  callerFiguresOf,
  callersKey,
  callerWeeksOf,
  checkCallerWindows,
  createFigureMemo,
  operatorFiguresOf,
  weekBounds,
  weeksKey,
  type CallerActivity,
} from './participant-figures.js';

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
  const upsertCaller = sqlite.prepare(
    'insert into callers (address, first_day_ms) values (?, ?) ' +
      'on conflict (address) do update set first_day_ms = min(first_day_ms, excluded.first_day_ms) returning id',
  );
  // Callers first seen in a range, CALLER_DAY_ROWS at a time the same way (a backfill meets each once).
  const upsertCallers = sqlite.prepare(
    `insert into callers (address, first_day_ms) values ${Array(CALLER_DAY_ROWS).fill('(?, ?)').join(', ')}
     on conflict (address) do update set first_day_ms = min(first_day_ms, excluded.first_day_ms) returning id, address`,
  );
  // A range's caller-days go in CALLER_DAY_ROWS at a time, by one statement with as many rows: a statement
  // a row cost more in SQLite's statement machinery than the rows' b-tree work (a JSON parameter read by
  // json_each cost more still).
  const callerDaysTail = ' on conflict (day_ms, caller_id) do update set inferences = inferences + excluded.inferences';
  const addCallerDay = sqlite.prepare(
    `insert into caller_days (day_ms, caller_id, inferences) values (?, ?, ?)${callerDaysTail}`,
  );
  const addCallerDays = sqlite.prepare(
    `insert into caller_days (day_ms, caller_id, inferences)
     values ${Array(CALLER_DAY_ROWS).fill('(?, ?, ?)').join(', ')}${callerDaysTail}`,
  );
  const addTeeDay = sqlite.prepare(
    'insert into tee_days (day_ms, tee_id, settlements) values (?, ?, ?) ' +
      'on conflict (day_ms, tee_id) do update set settlements = settlements + excluded.settlements',
  );
  const registerTee = sqlite.prepare(
    `insert into tees (registry, tee_id, tee_type, owner, registered_at_ms, enabled) values (?, ?, ?, ?, ?, 1)
     on conflict (registry, tee_id) do update
       set tee_type = excluded.tee_type, owner = excluded.owner, registered_at_ms = excluded.registered_at_ms,
           enabled = 1`,
  );
  const setTeeEnabled = sqlite.prepare(
    'insert into tees (registry, tee_id, enabled) values (?, ?, ?) ' +
      'on conflict (registry, tee_id) do update set enabled = excluded.enabled',
  );
  // `removeTEE` in og-evm 758e149 deletes the TEE's record and emits only `TEERemoved`: it is then neither
  // registered nor enabled (and may be registered again). Its last heartbeat stays a fact of the chain.
  const removeTee = sqlite.prepare(
    'update tees set enabled = 0, registered_at_ms = null, tee_type = null, owner = null ' +
      'where registry = ? and tee_id = ?',
  );
  // The registry refuses a heartbeat from a TEE that is not enabled, so one proves it was enabled then
  // (OpenGradient/og-evm contracts/solidity/TEERegistry.sol, `heartbeat`: `if (!tee.enabled) revert
  // TEENotEnabled();` at 8d35b766, `TEENotActive` since the function came in at 1a739167). In chain order it
  // repeats what TEERegistered/TEEEnabled/TEEDisabled said; it adds to them for a TEE registered before the
  // indexed history.
  const heartbeat = sqlite.prepare(
    `insert into tees (registry, tee_id, enabled, last_heartbeat_ms) values (?, ?, 1, ?)
     on conflict (registry, tee_id) do update
       set enabled = 1, last_heartbeat_ms = max(coalesce(last_heartbeat_ms, 0), excluded.last_heartbeat_ms)`,
  );
  const registerTask = sqlite.prepare(
    `insert into workflow_tasks (user, contract_address, end_time_sec, frequency, registered, stopped, updated_at_ms)
     values (?, ?, ?, ?, 1, 0, ?)
     on conflict (user, contract_address) do update
       set end_time_sec = excluded.end_time_sec, frequency = excluded.frequency, registered = 1, stopped = 0,
           updated_at_ms = excluded.updated_at_ms`,
  );
  const updateTask = sqlite.prepare(
    `insert into workflow_tasks (user, contract_address, end_time_sec, frequency, registered, stopped, updated_at_ms)
     values (?, ?, ?, ?, 0, 0, ?)
     on conflict (user, contract_address) do update
       set end_time_sec = excluded.end_time_sec, frequency = excluded.frequency,
           updated_at_ms = excluded.updated_at_ms`,
  );
  const stopTask = sqlite.prepare(
    `insert into workflow_tasks (user, contract_address, end_time_sec, frequency, registered, stopped, updated_at_ms)
     values (?, ?, 0, 0, 0, 1, ?)
     on conflict (user, contract_address) do update set stopped = 1, updated_at_ms = excluded.updated_at_ms`,
  );
  const insertCoverage = sqlite.prepare(
    'insert into participant_coverage (network, from_block, from_block_time_ms) values (?, ?, ?) ' +
      'on conflict (network) do nothing',
  );
  const selectCoverage = sqlite.prepare(
    'select from_block as fromBlock, from_block_time_ms as fromBlockTimeMs from participant_coverage where network = ?',
  );

  // One pass over the 30 days' rows, grouped by caller once: the 7-day and 14-day figures are windows inside it.
  const callerActivity = sqlite.prepare(
    `with per as materialized (
       select count(*) as days, sum(inferences) as n, max(day_ms >= @last7) as cur,
              max(day_ms >= @previous7 and day_ms < @last7) as prev
       from caller_days where day_ms >= @last30 and day_ms < @end group by caller_id)
     select count(*) as callers, coalesce(sum(n), 0) as inferences,
       coalesce(sum(case when days >= 2 then n else 0 end), 0) as repeatInferences,
       coalesce(sum(cur), 0) as active, coalesce(sum(prev), 0) as previous, coalesce(sum(cur and prev), 0) as retained,
       (select coalesce(sum(n), 0) from (select n from per order by n desc limit 10)) as top10
     from per`,
  );
  const newCallers = sqlite.prepare('select count(*) as n from callers where first_day_ms >= ? and first_day_ms < ?');
  const registeredTees = sqlite.prepare(
    'select count(distinct tee_id) as n from tees where registered_at_ms is not null',
  );
  const enabledByType = sqlite.prepare(
    'select tee_type as teeType, count(distinct tee_id) as n from tees where enabled = 1 group by tee_type',
  );
  const enabledByRegistry = sqlite.prepare(
    'select registry, count(distinct case when enabled = 1 then tee_id end) as n from tees group by registry',
  );
  const settling = sqlite.prepare(
    `select count(*) as tees, coalesce(sum(s), 0) as settlements, coalesce(max(s), 0) as busiest from (
       select sum(settlements) as s from tee_days where day_ms >= ? and day_ms < ? group by tee_id)`,
  );
  const heartbeats = sqlite.prepare('select count(distinct tee_id) as n from tees where last_heartbeat_ms >= ?');
  const registrants = sqlite.prepare('select count(distinct user) as n from workflow_tasks where registered = 1');
  const activeTasks = sqlite.prepare('select count(*) as n from workflow_tasks where stopped = 0 and end_time_sec > ?');
  const weeklyActive = sqlite.prepare(
    'select cast((day_ms - @start) / @week as integer) as w, count(distinct caller_id) as n from caller_days ' +
      'where day_ms >= @start and day_ms < @end group by w',
  );
  const weeklyNew = sqlite.prepare(
    'select cast((first_day_ms - @start) / @week as integer) as w, count(*) as n from callers ' +
      'where first_day_ms >= @start and first_day_ms < @end group by w',
  );

  type N = { n: number };

  // Caller ids already stored, so a known caller costs no upsert: ranges are written in chain order, so its
  // first day is already the earliest. Ids a write assigns are only trusted once its transaction committed.
  const knownIds = new LRUCache<string, number>({ max: ID_CACHE_SIZE });
  const pendingIds = new Map<string, number>();

  // Figures kept until the next write here or the cursor moves (another connection's write).
  let writes = 0;
  const memo = createFigureMemo();
  const cursor = sqlite.prepare('select next_block from indexer_state where network = ?').pluck();
  const version = () => `${writes}|${(cursor.get(network) as number | undefined) ?? 'none'}`;

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
    memo.get(version(), callersKey(w), async () => callerFigures(w));

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
        enabledByType: enabledByType.all() as Array<{ teeType: number | null; n: number }>,
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
      memo.get(version(), weeksKey(weekStartsMs, endMs), async () => callerWeeks(weekStartsMs, endMs)),
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
