import { describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { callerWeekStarts } from '../../../src/core/charts/caller-chart.js';
import { callerWindows, type ParticipantReader } from '../../../src/core/participants.js';
import { createInferenceStore } from '../../../src/db/inference-store.js';
import { openDatabase, type Database } from '../../../src/db/open.js';
import { createPgInferenceStore } from '../../../src/db/pg-inference-store.js';
import { createPgParticipantStore } from '../../../src/db/pg-participant-store.js';
import { createParticipantStore, type SqliteParticipantStore } from '../../../src/db/participant-store.js';
import { createInferenceIndexer, type ChunkInfo } from '../../../src/sources/opengradient/indexer.js';
import { createOgRpc } from '../../../src/sources/opengradient/rpc.js';
import { createTestClock } from '../../helpers/clock.js';
import { PRECOMPILE, RELAY, individualSettlement, mlInference } from '../../helpers/og-events.js';
import {
  CONFIRMATIONS,
  RELAYER,
  REGISTRY_1,
  REGISTRY_2,
  SCENARIO as S,
  SCHEDULER,
  account,
  networkScenario,
  teeId,
  teeDisabled,
  teeRegistered,
  teeRemoved,
  type ScriptedChain,
} from '../../helpers/og-participants.js';
import { startOgNode, type OgNodeOptions } from '../../helpers/og-rpc-server.js';
import { pgliteDatabase } from '../../helpers/postgres.js';
import { tempDbPath } from '../../helpers/temp-dir.js';
import { loopbackAgent } from '../../helpers/http-server.js';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const DAY = 86_400_000;

async function indexScenario(
  chain: ScriptedChain,
  options: {
    node?: OgNodeOptions;
    dbPath?: string;
    afterChunk?: (c: ChunkInfo) => void;
    /** What the inference store's chunk transaction calls to write the participants. */
    writer?: (real: SqliteParticipantStore) => Pick<SqliteParticipantStore, 'writeInTransaction' | 'committed'>;
    /** Called with the database before the stores prepare their statements. */
    opened?: (database: Database) => void;
  } = {},
) {
  const node = await startOgNode(chain, options.node);
  onTestFinished(() => node.close());
  const database = openDatabase(options.dbPath ?? tempDbPath());
  onTestFinished(() => database.close());
  options.opened?.(database);
  const clock = createTestClock(NOW);
  const participants = createParticipantStore(database);
  const indexer = createInferenceIndexer({
    rpc: createOgRpc({ dispatcher: loopbackAgent, url: node.url, clock, timeoutMs: 3_000, batchSize: 16 }),
    store: createInferenceStore(database, options.writer ? options.writer(participants) : participants),
    clock,
    logger: silentLogger,
    fromBlock: 0,
    confirmations: CONFIRMATIONS,
    contracts: [PRECOMPILE, RELAY],
    range: { initialBlocks: 500, maxBlocks: 4_000 },
    participants: { store: participants, teeRegistries: [REGISTRY_1, REGISTRY_2], taskScheduler: SCHEDULER },
    afterChunk: options.afterChunk,
  });
  return { node, indexer, participants, database };
}

/** Every participant figure the store holds for NOW, for comparing runs. */
async function figures(store: ParticipantReader) {
  const w = callerWindows(NOW);
  return {
    callers: await store.callers(w),
    operators: await store.operators(w, NOW - DAY),
    developers: await store.developers(NOW),
    coverage: await store.coverage(),
  };
}

const EXPECTED = {
  callers: {
    active7: S.active7,
    new7: S.new7,
    previous7: S.previous7,
    retained7: S.retained7,
    callers30: S.callers30,
    inferences30: S.inferences30,
    repeatInferences30: S.repeatInferences30,
    top10Inferences30: S.top10Inferences30,
  },
  operators: {
    registered: S.registered,
    registeredLlmProxy: S.registeredLlmProxy,
    registeredValidator: S.registeredValidator,
    registeredOtherType: 0,
    enabled: S.enabled,
    enabledLlmProxy: S.llmProxy,
    enabledValidator: S.validator,
    enabledOtherType: 0,
    enabledByRegistry: [
      { registry: REGISTRY_1, enabled: 2 }, // T1, T4
      { registry: REGISTRY_2, enabled: 1 }, // T3 (T2 disabled)
    ],
    settling7: S.settling7,
    settlements7: S.settlements7,
    busiestSettlements7: S.busiest7,
    heartbeats: S.heartbeats,
  },
  developers: { registrants: S.registrants, activeTasks: S.activeTasks },
};

describe('participants from the indexer', () => {
  it('records callers, TEEs and tasks exactly, and where the history starts', async () => {
    const { chain } = networkScenario(NOW);
    const { indexer, participants } = await indexScenario(chain);
    expect((await indexer.runOnce()).ok).toBe(true);
    expect(await figures(participants)).toEqual({
      ...EXPECTED,
      coverage: { fromBlock: 0, fromBlockTimeMs: chain.timeOf(0) },
    });
  });

  it('records the same figures on PostgreSQL (PGlite), with every range committed whole', async () => {
    const { chain } = networkScenario(NOW);
    const node = await startOgNode(chain);
    onTestFinished(() => node.close());
    const pg = await pgliteDatabase();
    const clock = createTestClock(NOW);
    const participants = createPgParticipantStore(pg.db);
    const indexer = createInferenceIndexer({
      rpc: createOgRpc({ dispatcher: loopbackAgent, url: node.url, clock, timeoutMs: 3_000, batchSize: 16 }),
      store: createPgInferenceStore(pg.db, participants),
      clock,
      logger: silentLogger,
      fromBlock: 0,
      confirmations: CONFIRMATIONS,
      contracts: [PRECOMPILE, RELAY],
      range: { initialBlocks: 500, maxBlocks: 4_000 },
      participants: { store: participants, teeRegistries: [REGISTRY_1, REGISTRY_2], taskScheduler: SCHEDULER },
    });
    expect((await indexer.runOnce()).ok).toBe(true);
    expect(await figures(participants)).toEqual({
      ...EXPECTED,
      coverage: { fromBlock: 0, fromBlockTimeMs: chain.timeOf(0) },
    });
    expect((await indexer.totals()).total).toBe(chain.inferencesBetween(0, NOW + DAY));
  }, 90_000); // the worker's first PGlite compiles PostgreSQL's WebAssembly: tens of seconds on a busy machine

  it('reaches the same figures from logs without blockTimestamp (times from full blocks and headers)', async () => {
    const { chain } = networkScenario(NOW);
    const { indexer, participants } = await indexScenario(chain, { node: { blockTimestamps: false } });
    expect((await indexer.runOnce()).ok).toBe(true);
    expect(await figures(participants)).toMatchObject(EXPECTED);
  });

  it('ends with exact figures when the process dies after some ranges and starts again', async () => {
    const { chain } = networkScenario(NOW);
    const dbPath = tempDbPath();
    let chunks = 0;
    const first = await indexScenario(chain, {
      dbPath,
      afterChunk: () => {
        if (++chunks === 3) throw new Error('killed');
      },
    });
    const run = await first.indexer.runOnce();
    expect(run.ok).toBe(false);
    expect(run.nextBlock).toBeLessThan(chain.head - CONFIRMATIONS);
    first.database.close();
    const second = await indexScenario(chain, { dbPath });
    expect((await second.indexer.runOnce()).ok).toBe(true);
    expect(await figures(second.participants)).toEqual({
      ...EXPECTED,
      coverage: { fromBlock: 0, fromBlockTimeMs: chain.timeOf(0) },
    });
  });

  it(
    'ends with exact figures when a chunk transaction fails ' + 'after its callers were written, in the same process',
    async () => {
      const { chain } = networkScenario(NOW);
      let failed = false;
      const { indexer, participants } = await indexScenario(chain, {
        writer: (real) => ({
          writeInTransaction(chunk) {
            real.writeInTransaction(chunk);
            // The first range with callers holds G's block (the first with a caller).
            if (failed || chunk.callerDays.size === 0) return;
            failed = true;
            throw new Error('disk I/O error'); // rolled back: the caller ids this write assigned do not exist
          },
          committed: () => real.committed(),
        }),
      });
      const run = await indexer.runOnce();
      expect(run.ok).toBe(false);
      expect(run.error).toMatch(/disk I\/O error/);
      expect(failed).toBe(true);
      expect((await indexer.runOnce()).ok).toBe(true);
      expect(await figures(participants)).toMatchObject(EXPECTED);
      // Every account keeps its own id: G's week (the first) counts G as active and new.
      const clean = await indexScenario(networkScenario(NOW).chain);
      await clean.indexer.runOnce();
      const weeks = callerWeekStarts(NOW, 13);
      expect(await participants.callerWeeks(weeks, NOW + DAY)).toEqual(
        await clean.participants.callerWeeks(weeks, NOW + DAY),
      );
      expect((await participants.callerWeeks(weeks, NOW + DAY))[1]).toMatchObject({ active: 1, newCallers: 1 });
    },
  );

  it('computes the caller figures again for a range before the windows end, not for ranges at the head', async () => {
    const { chain, today } = networkScenario(NOW);
    // X, new, 10 minutes before today's start: the indexer below first stops short of it.
    const X = account(0xee);
    chain.place(today - 10 * 60_000, mlInference(0), X, 1);
    const fullHead = chain.head;
    // Runs of the caller figures' query: the statement that groups the 30 days' caller-days by caller.
    let runs = 0;
    const { indexer, participants } = await indexScenario(chain, {
      opened: ({ sqlite }) => {
        const prepare = sqlite.prepare.bind(sqlite);
        sqlite.prepare = ((source: string) => {
          const statement = prepare(source);
          if (!source.includes('materialized')) return statement;
          const get = statement.get.bind(statement);
          return Object.assign(statement, { get: (...args: Parameters<typeof get>) => (runs++, get(...args)) });
        }) as typeof sqlite.prepare;
      },
    });
    const pass = async (toMs: number) => {
      chain.head = Math.min(fullHead, chain.blockAt(toMs) + CONFIRMATIONS);
      expect((await indexer.runOnce()).ok).toBe(true); // ends with `warm`, as in the bot
    };

    await pass(today - 20 * 60_000);
    expect(await figures(participants)).toMatchObject({ callers: EXPECTED.callers });
    expect(runs).toBe(1);

    // The pass that reads X and crosses midnight: the figures take X in.
    await pass(today + 5 * 60_000);
    const withX = {
      ...EXPECTED.callers,
      active7: S.active7 + 1,
      new7: S.new7 + 1,
      callers30: S.callers30 + 1,
      inferences30: S.inferences30 + 1,
    };
    expect(await figures(participants)).toMatchObject({ callers: withX });
    expect(runs).toBe(2);

    // Passes through today (the last reads C's transaction 10 minutes ago): they add only to today.
    await pass(NOW - 5 * 60 * 60_000);
    await pass(NOW);
    expect(await figures(participants)).toEqual({
      ...EXPECTED,
      callers: withX,
      coverage: { fromBlock: 0, fromBlockTimeMs: chain.timeOf(0) },
    });
    expect(runs).toBe(2);
  });

  it('counts an event only from the contract configured for it', async () => {
    const { chain } = networkScenario(NOW);
    // A registry that emits an inference event, and the relay emitting a TEE registration: neither counts.
    chain.place(NOW - 2 * DAY, { ...mlInference(0), address: REGISTRY_1 }, account(0xbad), 0);
    chain.place(NOW - 2 * DAY, teeRegistered(RELAY, teeId(0x99), account(0xbad), 0), account(0xbad), 0);
    const { indexer, participants } = await indexScenario(chain);
    expect((await indexer.runOnce()).ok).toBe(true);
    expect(await figures(participants)).toMatchObject(EXPECTED);
    expect((await indexer.totals()).total).toBe(chain.inferencesBetween(0, NOW + DAY));
  });

  it(
    'counts a TEE removed by a registry of og-evm 758e149 ' + '(TEERemoved) neither as registered nor as enabled',
    async () => {
      const { chain, d } = networkScenario(NOW);
      const owner = account(0x0e1);
      // T5 (LLM proxy) registered, then removed: gone. T6 (validator) removed while disabled, then registered
      // again: registered and enabled once more (removeTEE deletes the record, so the id may come back).
      chain.place(d(9), teeRegistered(REGISTRY_1, teeId(0x75), owner, 0), owner);
      chain.place(d(8), teeRemoved(REGISTRY_1, teeId(0x75)), owner);
      chain.place(d(9), teeRegistered(REGISTRY_2, teeId(0x76), owner, 1), owner);
      chain.place(d(8), teeDisabled(REGISTRY_2, teeId(0x76)), owner);
      chain.place(d(8) + 60_000, teeRemoved(REGISTRY_2, teeId(0x76)), owner);
      chain.place(d(7), teeRegistered(REGISTRY_2, teeId(0x76), owner, 1), owner);
      const { indexer, participants } = await indexScenario(chain);
      expect((await indexer.runOnce()).ok).toBe(true);
      const { operators } = await figures(participants);
      expect(operators).toEqual({
        ...EXPECTED.operators,
        registered: S.registered + 1, // T6
        registeredValidator: S.registeredValidator + 1, // T6
        enabled: S.enabled + 1, // T6
        enabledValidator: S.validator + 1, // T6
        enabledByRegistry: [
          { registry: REGISTRY_1, enabled: 2 }, // T1, T4 (T5 removed)
          { registry: REGISTRY_2, enabled: 2 }, // T3, T6
        ],
      });
    },
  );

  it(
    'reads each block once when the node cuts batch answers for size, ' + 'asking for the rest in smaller batches',
    async () => {
      const { chain } = networkScenario(NOW);
      const { indexer, participants, node } = await indexScenario(chain, { node: { maxBatchBytes: 3_000 } });
      expect((await indexer.runOnce()).ok).toBe(true);
      expect(await figures(participants)).toMatchObject(EXPECTED);
      expect(node.fullBlocksServed()).toBe(21);
    },
  );

  it('reads the callers of a block too large to read whole from its transactions and header', async () => {
    const { chain, d } = networkScenario(NOW);
    const big = chain.blockAt(d(3) + 12 * 3_600_000); // C's transaction with two ML logs
    const { indexer, participants, node } = await indexScenario(chain, { node: { blockTimestamps: false } });
    node.setBlocksTooLarge(new Set([big]));
    const run = await indexer.runOnce();
    expect(run.ok).toBe(true);
    expect(await figures(participants)).toMatchObject(EXPECTED);
    expect(node.calls('eth_getTransactionByHash')).toBe(1);
  });

  it('keeps the teeId (topic 1) of an IndividualSettlement whose data does not decode', async () => {
    const { chain, d } = networkScenario(NOW);
    // T4 settles once, 2 days ago, in a log whose data is cut: still one inference, and T4's.
    chain.place(d(2) + 12 * 3_600_000, { ...individualSettlement(0x74), data: '0x' }, RELAYER, 1);
    const { indexer, participants } = await indexScenario(chain);
    expect((await indexer.runOnce()).ok).toBe(true);
    expect(await figures(participants)).toMatchObject({
      operators: { settling7: S.settling7 + 1, settlements7: S.settlements7 + 1, busiestSettlements7: S.busiest7 },
    });
  });

  it('commits nothing of a range whose block lacks the transaction a log names, and keeps its place', async () => {
    const { chain, d } = networkScenario(NOW);
    const bad = chain.blockAt(d(3) + 12 * 3_600_000); // C's transaction with two ML logs
    const { indexer, participants, node } = await indexScenario(chain);
    // Logs and blocks from different forks: the block answered lacks the transactions its logs name.
    node.setBlocksMissingTransactions(new Set([bad]));
    const run = await indexer.runOnce();
    expect(run.ok).toBe(false);
    expect(run.error).toMatch(new RegExp(`block ${bad} lacks transaction 0x`));
    expect(run.nextBlock).toBeLessThanOrEqual(bad);
    node.setBlocksMissingTransactions(null);
    expect((await indexer.runOnce()).ok).toBe(true);
    expect(await figures(participants)).toMatchObject(EXPECTED);
  });
});
