/**
 * The indexer's stores' contract on every backend (a SQLite file, PGlite, the real PostgreSQL server when
 * TEST_DATABASE_URL is set): the cursor and its one-transaction chunk commits, the inference counts, the
 * explorer's counters, and every participant figure over a small history built by hand, with the answers
 * worked out by hand below.
 */
import { describe, expect, it } from 'vitest';
import { callerWeekStarts } from '../../src/core/charts/caller-chart.js';
import { countKey, type ChunkCommit } from '../../src/core/inferences.js';
import {
  callerDayKey,
  callerWindows,
  type ParticipantChunk,
  type ParticipantEvent,
  type ParticipantReader,
} from '../../src/core/participants.js';
import { STORE_BACKENDS, storesOn } from '../helpers/store-backends.js';

const NET = 'opengradient';
const H = 3_600_000;
const DAY = 24 * H;
const NOW = Date.parse('2026-12-01T10:00:00Z');
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const HOUR_NOW = Math.floor(NOW / H) * H;
const H1 = HOUR_NOW - 30 * H;
const H2 = HOUR_NOW - 2 * H;
const addr = (name: string) => `0x${name.padStart(40, '0')}`;
const tee = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const R1 = '0x4e72238852f3c918f4e4e57aec9280ddb0c80248';
const R2 = '0x00000000000000000000000000000000000000f2';

function commit(fromBlock: number, nextBlock: number, counts: Array<[number, string, string, number]>): ChunkCommit {
  return {
    network: NET,
    fromBlock,
    nextBlock,
    counts: new Map(counts.map(([hour, mode, kind, n]) => [countKey(hour, mode, kind), n])),
    undecodableLogs: 0,
    indexedBlockTimeMs: null,
  };
}

function found(
  callerDays: Array<[string, string, number]>,
  teeDays: Array<[string, number, number]>,
  events: Array<[ParticipantEvent, number]>,
  coverage?: ParticipantChunk['coverage'],
): ParticipantChunk {
  return {
    network: NET,
    callerDays: new Map(callerDays.map(([d, who, n]) => [callerDayKey(day(d), addr(who)), n])),
    teeDays: new Map(teeDays.map(([d, id, n]) => [`${day(d)}|${tee(id)}`, n])),
    events: events.map(([event, blockTimeMs]) => ({ event, blockTimeMs })),
    coverage,
  };
}

const registered = (registry: string, id: number, teeType: number): ParticipantEvent => ({
  type: 'tee-registered',
  registry,
  teeId: tee(id),
  owner: addr('0c'),
  teeType,
});
const teeEvent = (
  type: 'tee-enabled' | 'tee-disabled' | 'tee-removed' | 'heartbeat',
  id: number,
): ParticipantEvent => ({
  type,
  registry: R1,
  teeId: tee(id),
});
const task = (
  type: 'task-registered' | 'task-updated',
  user: string,
  contract: string,
  endTimeSec: number,
): ParticipantEvent => ({ type, user: addr(user), contractAddress: addr(contract), endTimeSec, frequency: 60 });
const stopped = (user: string, contract: string): ParticipantEvent => ({
  type: 'task-stopped',
  user: addr(user),
  contractAddress: addr(contract),
});

const NOW_SEC = Math.floor(NOW / 1000);
const COVERAGE = { fromBlock: 100, fromBlockTimeMs: day('2026-10-01') };

/**
 * Three ranges in chain order. Callers (days: inferences): A Nov 20: 3, Nov 28: 2 · B Nov 19: 4 · C Nov 30:
 * 4 + 3 (two ranges) · D Oct 1: 10, Nov 26: 1 · E Nov 5: 6, Nov 6: 2 · F Nov 27, 29, Dec 1 (today: in no
 * window): 1 each · X1–X5 Nov 10: 1 each. Windows of NOW (Dec 1): last 7 days Nov 24–30, the 7 before
 * Nov 17–23, last 30 Nov 1–30. TEEs: 1 registered (LLM proxy) on R1 and R2, heartbeats; 2 validator, disabled;
 * 3 only a heartbeat; 4 registered, disabled, enabled again; 5 validator. Tasks: U1/K1 live, U1/K2
 * stopped, U2/K3 updated only, U3/K4 ended, U4/K5 stopped then registered again.
 */
const RANGES: Array<[ChunkCommit, ParticipantChunk]> = [
  [
    {
      ...commit(100, 200, [
        [H1, 'vanilla', 'ml', 10],
        [H1, 'tee', 'llm_chat', 4],
      ]),
      undecodableLogs: 2,
      indexedBlockTimeMs: day('2026-11-21'),
    },
    found(
      [
        ['2026-10-01', 'd', 10],
        ['2026-11-05', 'e', 6],
        ['2026-11-06', 'e', 2],
        ...['1', '2', '3', '4', '5'].map((x): [string, string, number] => ['2026-11-10', `f${x}`, 1]),
        ['2026-11-19', 'b', 4],
        ['2026-11-20', 'a', 3],
      ],
      [['2026-11-20', 2, 10]],
      [
        [registered(R1, 1, 0), day('2026-11-01')],
        [registered(R2, 1, 0), day('2026-11-01')],
        [registered(R1, 2, 1), day('2026-11-02')],
        [registered(R1, 4, 0), day('2026-11-03')],
        [registered(R1, 5, 1), day('2026-11-03')],
        [teeEvent('heartbeat', 2), day('2026-11-15')],
        [teeEvent('tee-disabled', 4), day('2026-11-16')],
        [teeEvent('tee-disabled', 2), day('2026-11-20')],
        [task('task-registered', 'u1', 'k1', NOW_SEC + 86_400), day('2026-11-04')],
        [task('task-registered', 'u1', 'k2', NOW_SEC + 86_400), day('2026-11-04')],
        [task('task-registered', 'u3', 'k4', NOW_SEC - 3_600), day('2026-11-05')],
        [task('task-registered', 'u4', 'k5', NOW_SEC + 86_400), day('2026-11-05')],
        [stopped('u4', 'k5'), day('2026-11-06')],
      ],
      COVERAGE,
    ),
  ],
  [
    {
      ...commit(200, 300, [
        [H1, 'vanilla', 'ml', 5],
        [H2, 'zkml', 'ml', 3],
        [H2, 'unknown', 'individual_settlement', 1],
      ]),
      undecodableLogs: 1,
    },
    found(
      [
        ['2026-11-26', 'd', 1],
        ['2026-11-27', 'f', 1],
        ['2026-11-28', 'a', 2],
        ['2026-11-29', 'f', 1],
        ['2026-11-30', 'c', 4],
        ['2026-12-01', 'f', 1],
      ],
      [
        ['2026-11-26', 1, 5],
        ['2026-11-30', 1, 3],
        ['2026-12-01', 5, 1],
      ],
      [
        [teeEvent('tee-enabled', 4), day('2026-11-25')],
        [stopped('u1', 'k2'), day('2026-11-26')],
        [task('task-updated', 'u2', 'k3', NOW_SEC + 86_400), day('2026-11-26')],
        [task('task-registered', 'u4', 'k5', Number.MAX_SAFE_INTEGER), day('2026-11-27')],
        [teeEvent('heartbeat', 1), NOW - 30 * H],
        [teeEvent('heartbeat', 3), NOW - 22 * H],
        [teeEvent('heartbeat', 1), NOW - 2 * H],
        [teeEvent('heartbeat', 1), NOW - H],
      ],
      // Only the first range's coverage counts.
      { fromBlock: 200, fromBlockTimeMs: day('2026-11-21') },
    ),
  ],
  [commit(300, 400, [[H2, 'mystery', 'ml', 2]]), found([['2026-11-30', 'c', 3]], [['2026-12-01', 5, 1]], [])],
];

const W = callerWindows(NOW);
const WEEKS = callerWeekStarts(NOW, 5);

async function allFigures(reader: ParticipantReader) {
  return {
    coverage: await reader.coverage(),
    callers: await reader.callers(W),
    operators: await reader.operators(W, NOW - DAY),
    developers: await reader.developers(NOW),
    weeks: await reader.callerWeeks(WEEKS, W.endMs),
  };
}

const EMPTY = {
  coverage: null,
  callers: {
    active7: 0,
    new7: 0,
    previous7: 0,
    retained7: 0,
    callers30: 0,
    inferences30: 0,
    repeatInferences30: 0,
    top10Inferences30: 0,
  },
  operators: {
    registered: 0,
    registeredLlmProxy: 0,
    registeredValidator: 0,
    registeredOtherType: 0,
    enabled: 0,
    enabledLlmProxy: 0,
    enabledValidator: 0,
    enabledOtherType: 0,
    enabledByRegistry: [],
    settling7: 0,
    settlements7: 0,
    busiestSettlements7: 0,
    heartbeats: 0,
  },
  developers: { registrants: 0, activeTasks: 0 },
  weeks: WEEKS.map((startMs) => ({ startMs, active: 0, newCallers: 0 })),
};

const EXPECTED = {
  coverage: COVERAGE,
  callers: {
    active7: 4, // A, C, D, F
    new7: 2, // C, F (D was first seen Oct 1)
    previous7: 2, // A, B
    retained7: 1, // A
    callers30: 11, // A, B, C, D, E, F, X1–X5 (D's Oct 1 is outside)
    inferences30: 32, // A 5 + B 4 + C 7 + D 1 + E 8 + F 2 (its Dec 1 is today) + X 5
    repeatInferences30: 15, // A 5, E 8, F 2
    top10Inferences30: 31, // all but one of the X's
  },
  operators: {
    registered: 4, // 1 (on two registries), 2, 4, 5
    registeredLlmProxy: 2, // 1, 4
    registeredValidator: 2, // 2, 5
    registeredOtherType: 0,
    enabled: 4, // 1, 3, 4, 5
    enabledLlmProxy: 2, // 1, 4
    enabledValidator: 1, // 5 (2's heartbeat comes before its TEEDisabled in the same range)
    enabledOtherType: 1, // 3: the registry takes a heartbeat only from an enabled TEE
    enabledByRegistry: [
      { registry: R2, enabled: 1 }, // 1
      { registry: R1, enabled: 4 }, // 1, 3, 4, 5 (1 counts on both, once above)
    ],
    settling7: 1, // 1 (2 settled before the window, 5 only today)
    settlements7: 8,
    busiestSettlements7: 8,
    heartbeats: 2, // 1, 3
  },
  developers: { registrants: 3, activeTasks: 3 }, // U1, U3, U4; K1, K3, K5
  weeks: [
    { startMs: day('2026-10-27'), active: 0, newCallers: 0 },
    { startMs: day('2026-11-03'), active: 1, newCallers: 1 }, // E
    { startMs: day('2026-11-10'), active: 5, newCallers: 5 }, // X1–X5
    { startMs: day('2026-11-17'), active: 2, newCallers: 2 }, // A, B
    { startMs: day('2026-11-24'), active: 4, newCallers: 2 }, // A, C, D, F; C, F new
  ],
};

const EXPECTED_TOTALS = { vanilla: 15, tee: 4, zkml: 3, unknown: 3, total: 25 };

// The first PGlite of a worker compiles and migrates PostgreSQL: seconds, more on a busy machine.
describe.each(STORE_BACKENDS)('indexer stores on %s', { timeout: 60_000 }, (backend) => {
  it('creates the cursor once, commits ranges only from where it stands, and records head and runs', async ({
    skip,
  }) => {
    const { indexer } = await storesOn(backend, skip);
    const { inferences } = indexer;
    expect(await inferences.state(NET)).toBeNull();
    const fresh = {
      network: NET,
      fromBlock: 100,
      nextBlock: 100,
      indexedBlockTimeMs: null,
      headBlock: null,
      headSeenAtMs: null,
      undecodableLogs: 0,
      lastRunAtMs: null,
      lastError: null,
      lastErrorAtMs: null,
    };
    expect(await inferences.ensureState(NET, 100)).toEqual(fresh);
    expect(await inferences.ensureState(NET, 5)).toEqual(fresh);
    await inferences.commitChunk(RANGES[0]![0]);
    await inferences.commitChunk(RANGES[1]![0]);
    const moved = { ...fresh, nextBlock: 300, undecodableLogs: 3, indexedBlockTimeMs: day('2026-11-21') };
    expect(await inferences.state(NET)).toEqual(moved);
    await expect(inferences.commitChunk(commit(100, 200, [[H1, 'vanilla', 'ml', 1]]))).rejects.toThrow(
      'indexer cursor for opengradient is not at block 100; chunk not committed',
    );
    await expect(inferences.commitChunk({ ...commit(0, 10, []), network: 'other' })).rejects.toThrow(/not at block 0/);
    expect(await inferences.state(NET)).toEqual(moved);
    expect(await inferences.state('other')).toBeNull();

    await inferences.recordHead(NET, 2_147_483_660, NOW - 5_000);
    await inferences.recordRun(NET, NOW - 1_000, 'OpenGradient RPC: HTTP 502');
    expect(await inferences.state(NET)).toEqual({
      ...moved,
      headBlock: 2_147_483_660,
      headSeenAtMs: NOW - 5_000,
      lastRunAtMs: NOW - 1_000,
      lastError: 'OpenGradient RPC: HTTP 502',
      lastErrorAtMs: NOW - 1_000,
    });
    await inferences.recordRun(NET, NOW, null);
    expect(await inferences.state(NET)).toMatchObject({ lastRunAtMs: NOW, lastError: null, lastErrorAtMs: null });
  }, 90_000); // the worker's first PGlite compiles PostgreSQL's WebAssembly: tens of seconds on a busy machine

  it('adds counts across ranges into totals and hourly buckets by mode', async ({ skip }) => {
    const { inferences, participants } = (await storesOn(backend, skip)).indexer;
    expect(await inferences.totals()).toEqual({ vanilla: 0, tee: 0, zkml: 0, unknown: 0, total: 0 });
    expect(await inferences.hourly(0)).toEqual([]);
    await inferences.ensureState(NET, 100);
    for (const [c, p] of RANGES) await inferences.commitChunk(c, p);
    expect(await inferences.totals()).toEqual(EXPECTED_TOTALS);
    expect(await inferences.totals(H2)).toEqual({ vanilla: 0, tee: 0, zkml: 3, unknown: 3, total: 6 });
    expect(await inferences.totals(HOUR_NOW)).toEqual({ vanilla: 0, tee: 0, zkml: 0, unknown: 0, total: 0 });
    const second = { hourMs: H2, vanilla: 0, tee: 0, zkml: 3, unknown: 3 };
    expect(await inferences.hourly(0)).toEqual([{ hourMs: H1, vanilla: 15, tee: 4, zkml: 0, unknown: 0 }, second]);
    expect(await inferences.hourly(H1 + H)).toEqual([second]);
    expect(await participants.coverageOf(NET)).toEqual(COVERAGE);
  });

  it('keeps the explorer’s last reading per network', async ({ skip }) => {
    const { inferences } = (await storesOn(backend, skip)).indexer;
    expect(await inferences.networkActivity(NET)).toBeNull();
    await inferences.saveNetworkActivity(NET, { totalTransactions: 1, transactionsToday: 1, fetchedAtMs: NOW - H });
    const reading = { totalTransactions: 9_007_199_254, transactionsToday: 12_345, fetchedAtMs: NOW };
    await inferences.saveNetworkActivity(NET, reading);
    expect(await inferences.networkActivity(NET)).toEqual(reading);
    expect(await inferences.networkActivity('other')).toBeNull();
  });

  it('answers every participant figure of a hand-built history', async ({ skip }) => {
    const { inferences, participants } = (await storesOn(backend, skip)).indexer;
    expect(await allFigures(participants)).toEqual(EMPTY);
    await inferences.ensureState(NET, 100);
    await inferences.commitChunk(...RANGES[0]!);
    await inferences.commitChunk(...RANGES[1]!);
    // Asked between ranges (and kept): the third range adds C's second Nov 30 transactions (and a settlement
    // today, in no window).
    expect((await participants.callers(W)).inferences30).toBe(29);
    await participants.warm(NOW);
    await inferences.commitChunk(...RANGES[2]!);
    expect(await allFigures(participants)).toEqual(EXPECTED);
    expect(await participants.coverageOf('other')).toBeNull();
    await expect(participants.callers({ ...W, previous7Ms: W.last30Ms - DAY })).rejects.toThrow(/inside the 30-day/);
  });

  it('counts a removed TEE neither as registered nor as enabled, until it is registered again', async ({ skip }) => {
    const { inferences, participants } = (await storesOn(backend, skip)).indexer;
    await inferences.ensureState(NET, 100);
    await inferences.commitChunk(...RANGES[0]!);
    await inferences.commitChunk(...RANGES[1]!);
    // TEE 1 removed from R1 (still registered on R2), TEE 3 (known only by its heartbeat) and TEE 5 removed;
    // TEE 5 registered again as an LLM proxy; TEE 9 removed without ever being seen. TEE 1 and 3 keep their
    // heartbeats: those events happened.
    await inferences.commitChunk(commit(300, 400, []), {
      ...found(
        [],
        [],
        [
          [teeEvent('tee-removed', 1), NOW - 50 * 60_000],
          [teeEvent('tee-removed', 3), NOW - 50 * 60_000],
          [teeEvent('tee-removed', 5), NOW - 40 * 60_000],
          [registered(R1, 5, 0), NOW - 30 * 60_000],
          [teeEvent('tee-removed', 9), NOW - 30 * 60_000],
        ],
      ),
    });
    expect(await participants.operators(W, NOW - DAY)).toEqual({
      ...EXPECTED.operators,
      registered: 4, // 1 (on R2), 2, 4, 5 (again)
      registeredLlmProxy: 3, // 1 (on R2), 4, 5 (again, as an LLM proxy)
      registeredValidator: 1, // 2
      registeredOtherType: 0,
      enabled: 3, // 1 (on R2), 4, 5
      enabledLlmProxy: 3, // 1 (on R2), 4, 5
      enabledValidator: 0, // 5 was removed, 2 is disabled
      enabledOtherType: 0, // 3 removed
      enabledByRegistry: [
        { registry: R2, enabled: 1 }, // 1
        { registry: R1, enabled: 2 }, // 4, 5
      ],
      heartbeats: 2, // 1, 3
    });
  });

  it('counts registered and enabled TEEs by type, a TEE of two types under each and once in the totals', async ({
    skip,
  }) => {
    const { inferences, participants } = (await storesOn(backend, skip)).indexer;
    await inferences.ensureState(NET, 100);
    await inferences.commitChunk(...RANGES[0]!);
    await inferences.commitChunk(...RANGES[1]!);
    // TEE 4 (an LLM proxy on R1) registered on R2 as a validator; TEE 7 registered with type 2, which the SDK
    // does not define.
    await inferences.commitChunk(commit(300, 400, []), {
      ...found(
        [],
        [],
        [
          [registered(R2, 4, 1), NOW - 50 * 60_000],
          [registered(R1, 7, 2), NOW - 40 * 60_000],
        ],
      ),
    });
    expect(await participants.operators(W, NOW - DAY)).toEqual({
      ...EXPECTED.operators,
      registered: 5, // 1, 2, 4, 5, 7
      registeredLlmProxy: 2, // 1, 4 (on R1)
      registeredValidator: 3, // 2, 4 (on R2), 5
      registeredOtherType: 1, // 7
      enabled: 5, // 1, 3, 4, 5, 7
      enabledLlmProxy: 2, // 1, 4 (on R1)
      enabledValidator: 2, // 4 (on R2), 5
      enabledOtherType: 2, // 3 (type never seen), 7
      enabledByRegistry: [
        { registry: R2, enabled: 2 }, // 1, 4
        { registry: R1, enabled: 5 }, // 1, 3, 4, 5, 7
      ],
    });
  });

  it('writes nothing of a range whose cursor is elsewhere, and nothing of one whose transaction fails', async ({
    skip,
  }) => {
    const stores = await storesOn(backend, skip);
    const { inferences, participants } = stores.indexer;
    await inferences.ensureState(NET, 100);
    await inferences.commitChunk(...RANGES[0]!);
    const before = { figures: await allFigures(participants), totals: await inferences.totals() };
    const state = await inferences.state(NET);

    await expect(inferences.commitChunk({ ...RANGES[1]![0], fromBlock: 150 }, RANGES[1]![1])).rejects.toThrow(
      /not at block 150/,
    );
    expect(await inferences.state(NET)).toEqual(state);
    expect({ figures: await allFigures(participants), totals: await inferences.totals() }).toEqual(before);

    // A settlement the database refuses, written after the range's callers: the whole range rolls back.
    const refuse =
      backend === 'sqlite'
        ? [
            `CREATE TRIGGER refuse BEFORE INSERT ON tee_days WHEN NEW.tee_id = 'refused'
             BEGIN SELECT RAISE(ABORT, 'refused settlement'); END`,
          ]
        : [
            `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.tee_id = 'refused'
             THEN RAISE EXCEPTION 'refused settlement'; END IF; RETURN NEW; END $$`,
            'CREATE TRIGGER refuse BEFORE INSERT ON tee_days FOR EACH ROW EXECUTE FUNCTION refuse()',
          ];
    for (const statement of refuse) await stores.execute(statement);
    const [c, p] = RANGES[1]!;
    const refused = { ...p, teeDays: new Map([...p.teeDays, [`${day('2026-11-30')}|refused`, 1]]) };
    // drizzle wraps a PostgreSQL error in one that names the query; the database's own reason is its cause.
    const failure = (await inferences.commitChunk(c, refused).then(
      () => null,
      (err: unknown) => err,
    )) as (Error & { cause?: Error }) | null;
    expect(`${failure?.message} ${failure?.cause?.message}`).toMatch(/refused settlement/);
    expect(await inferences.state(NET)).toEqual(state);
    expect({ figures: await allFigures(participants), totals: await inferences.totals() }).toEqual(before);

    // Done again, the range lands whole, its new callers with ids of their own.
    await inferences.commitChunk(c, p);
    await inferences.commitChunk(...RANGES[2]!);
    expect(await allFigures(participants)).toEqual(EXPECTED);
    expect(await inferences.totals()).toEqual(EXPECTED_TOTALS);
  });

  it('keeps the caller figures once the indexer has counted past their days, and not before', async ({ skip }) => {
    const stores = await storesOn(backend, skip);
    const { inferences, participants } = stores.indexer;
    const reader = stores.otherIndexer().participants; // an instance that does not index (a standby)
    const both = async () => [await allFigures(participants), await allFigures(reader)];
    await inferences.ensureState(NET, 100);
    for (const range of RANGES) await inferences.commitChunk(...range);
    expect(await both()).toEqual([EXPECTED, EXPECTED]);
    const lastWeek = EXPECTED.weeks.slice(0, 4);
    const endMs = W.endMs; // Dec 1 00:00: the windows end here

    // Counted to Nov 30 23:50: a range may still add to Nov 30. G's 2 inferences then, new.
    await inferences.commitChunk(
      { ...commit(400, 500, []), indexedBlockTimeMs: endMs - 10 * 60_000 },
      found([['2026-11-30', 'g', 2]], [], []),
    );
    const withG = {
      ...EXPECTED,
      callers: {
        ...EXPECTED.callers,
        active7: 5,
        new7: 3,
        callers30: 12,
        inferences30: 34,
        top10Inferences30: 32, // A 5, B 4, C 7, E 8, F 2, G 2 and four of the 1s (D, X1–X5)
      },
      weeks: [...lastWeek, { startMs: day('2026-11-24'), active: 5, newCallers: 3 }],
    };
    expect(await both()).toEqual([withG, withG]);

    // The range that crosses midnight: H at Nov 30 23:59 and Dec 1 00:00 (today: in no window).
    await inferences.commitChunk(
      { ...commit(500, 600, []), indexedBlockTimeMs: endMs + 60_000 },
      found(
        [
          ['2026-11-30', 'h', 1],
          ['2026-12-01', 'h', 1],
        ],
        [],
        [],
      ),
    );
    const withH = {
      ...withG,
      callers: { ...withG.callers, active7: 6, new7: 4, callers30: 13, inferences30: 35 },
      weeks: [...lastWeek, { startMs: day('2026-11-24'), active: 6, newCallers: 4 }],
    };
    expect(await both()).toEqual([withH, withH]);

    // Nov 30's rows changed behind the stores' backs (no range committed): only a query run from now on
    // sees it. A fresh instance's does; the two that hold figures for these windows do not run theirs again
    // after a range at the head (Dec 1 09:59), which cannot add to any day before Dec 1.
    await stores.execute(`UPDATE caller_days SET inferences = inferences + 100 WHERE day_ms = ${day('2026-11-30')}`);
    await inferences.commitChunk(
      { ...commit(600, 700, [[H2, 'vanilla', 'ml', 4]]), indexedBlockTimeMs: NOW - 60_000 },
      found(
        [
          ['2026-12-01', 'k', 3],
          ['2026-12-01', 'a', 1],
        ],
        [],
        [],
      ),
    );
    expect(await both()).toEqual([withH, withH]);
    const fresh = stores.otherIndexer().participants;
    expect((await fresh.callers(W)).inferences30).toBe(35 + 3 * 100); // C, G and H on Nov 30
  });

  it('gives a reader that does not index the figures of another instance’s commits', async ({ skip }) => {
    const stores = await storesOn(backend, skip);
    const writer = stores.indexer;
    const reader = stores.otherIndexer().participants;
    await writer.inferences.ensureState(NET, 100);
    await writer.inferences.commitChunk(...RANGES[0]!);
    await reader.warm(NOW);
    expect((await reader.callerWeeks(WEEKS, W.endMs))[4]).toEqual({
      startMs: day('2026-11-24'),
      active: 0,
      newCallers: 0,
    });
    await writer.inferences.commitChunk(...RANGES[1]!);
    await writer.inferences.commitChunk(...RANGES[2]!);
    expect(await allFigures(reader)).toEqual(EXPECTED);
  });
});
