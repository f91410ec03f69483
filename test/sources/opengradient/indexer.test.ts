import { describe, expect, it, onTestFinished } from 'vitest';
import { NetworkError } from '../../../src/core/errors.js';
import type { Logger } from '../../../src/core/logger.js';
import { createInferenceStore, type InferenceStore } from '../../../src/db/inference-store.js';
import { openDatabase } from '../../../src/db/open.js';
import {
  createInferenceIndexer,
  type ChunkInfo,
  type IndexerOptions,
} from '../../../src/sources/opengradient/indexer.js';
import { createOgRpc, type LogFilter, type RpcLog } from '../../../src/sources/opengradient/rpc.js';
import { createTestClock } from '../../helpers/clock.js';
import { expectedTotals, testChain, GENESIS_SEC, type TestChain } from '../../helpers/og-chain.js';
import { PRECOMPILE, RELAY, mlInference, llmChat, TOPIC0 } from '../../helpers/og-events.js';
import { startOgNode, type Fault, type OgNode, type OgNodeOptions } from '../../helpers/og-rpc-server.js';
import { tempDbPath } from '../../helpers/temp-dir.js';
import { loopbackAgent } from '../../helpers/http-server.js';

function captureLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  const logger: Logger & { warnings: string[] } = {
    warnings,
    trace: noop,
    debug: noop,
    info: noop,
    warn: (a: object | string, b?: string) => void warnings.push(typeof a === 'string' ? a : (b ?? '')),
    error: noop,
    fatal: noop,
    child: () => logger,
  };
  return logger;
}

async function node(head: number, options: OgNodeOptions = {}): Promise<OgNode<TestChain>> {
  const n = await startOgNode(testChain(head), { maxRangeBlocks: 2_000, ...options });
  onTestFinished(() => n.close());
  return n;
}

function indexerFor(
  n: OgNode,
  opts: {
    rpcTimeoutMs?: number;
    dbPath?: string;
    overrides?: Partial<IndexerOptions>;
    store?: (s: InferenceStore) => InferenceStore;
  } = {},
) {
  const database = openDatabase(opts.dbPath ?? tempDbPath());
  onTestFinished(() => database.close());
  const clock = createTestClock();
  const logger = captureLogger();
  const real = createInferenceStore(database);
  const store = opts.store ? opts.store(real) : real;
  const indexer = createInferenceIndexer({
    rpc: createOgRpc({ dispatcher: loopbackAgent, url: n.url, clock, timeoutMs: opts.rpcTimeoutMs ?? 3_000 }),
    store,
    clock,
    logger,
    fromBlock: 0,
    confirmations: 12,
    contracts: [PRECOMPILE, RELAY],
    ...opts.overrides,
  });
  return { indexer, store: real, clock, logger, database };
}

describe('inference indexer', () => {
  it('counts every served inference once, by mode, up to head minus confirmations', async () => {
    const n = await node(6_000);
    const { indexer } = indexerFor(n);
    const run = await indexer.runOnce();
    expect(run).toMatchObject({ ok: true, nextBlock: 5_989, headBlock: 6_000 });
    expect(await indexer.totals()).toEqual(expectedTotals(0, 5_988));
    expect((await indexer.totals()).unknown).toBeGreaterThan(0);
    expect(n.widestAnsweredRange()).toBeLessThanOrEqual(2_000);
  });

  it('asks for the real topic0 of every inference event from the configured contracts', async () => {
    const n = await node(100);
    const { indexer } = indexerFor(n);
    await indexer.runOnce();
    const bodies = n.requests.map((r) => r.body);
    const getLogs = bodies
      .map((b) => JSON.parse(b) as { method: string; params: [{ address: string[]; topics: string[][] }] })
      .find((b) => b.method === 'eth_getLogs')!;
    expect(getLogs.params[0].topics[0]!.sort()).toEqual(Object.values(TOPIC0).sort());
    expect(getLogs.params[0].address).toEqual([PRECOMPILE, RELAY]);
  });

  it('buckets inferences by the hour of their block time', async () => {
    const n = await node(4_000);
    const { indexer, store } = indexerFor(n);
    await indexer.runOnce();
    const hours = await store.hourly(0);
    const genesisMs = GENESIS_SEC * 1000;
    expect(hours.map((h) => h.hourMs)).toEqual([genesisMs, genesisMs + 3_600_000, genesisMs + 7_200_000]);
    const first = expectedTotals(0, 1_799);
    expect(hours[0]).toEqual({
      hourMs: genesisMs,
      vanilla: first.vanilla,
      tee: first.tee,
      zkml: first.zkml,
      unknown: first.unknown,
    });
  });

  it('reads block times from headers, cached, when logs carry no blockTimestamp', async () => {
    const n = await node(2_000, { blockTimestamps: false });
    const { indexer, store } = indexerFor(n);
    await indexer.runOnce();
    expect(await indexer.totals()).toEqual(expectedTotals(0, 1_988));
    expect((await store.hourly(0)).map((h) => h.hourMs)).toEqual([GENESIS_SEC * 1000, GENESIS_SEC * 1000 + 3_600_000]);
    const blocksWithLogs = new Set(
      Array.from({ length: 1_989 }, (_, b) => b).filter((b) => n.chain.logsInBlock(b).length > 0),
    );
    expect(n.calls('eth_getBlockByNumber')).toBeLessThanOrEqual(blocksWithLogs.size + 10);
  });

  it('splits a range the node refuses and grows the range again after small answers', async () => {
    const n = await node(30_000, { maxRangeBlocks: 700 });
    const { indexer } = indexerFor(n, {
      overrides: { range: { initialBlocks: 5_000, maxBlocks: 8_000, growBelowLogs: 10 } },
    });
    const run = await indexer.runOnce();
    expect(run.ok).toBe(true);
    expect(await indexer.totals()).toEqual(expectedTotals(0, 29_988));
    expect(n.widestAnsweredRange()).toBeGreaterThan(350);
    expect(n.widestAnsweredRange()).toBeLessThanOrEqual(700);
  });

  it('splits a range whose answer passes the result limit', async () => {
    const n = await node(10_000, { maxRangeBlocks: 100_000, maxResults: 300 });
    const { indexer } = indexerFor(n, {
      overrides: { range: { initialBlocks: 10_000, maxBlocks: 10_000, growBelowLogs: 100 } },
    });
    const run = await indexer.runOnce();
    expect(run.ok).toBe(true);
    expect(await indexer.totals()).toEqual(expectedTotals(0, 9_988));
  });

  it.each([
    ['one range ahead at most', 1],
    ['three ranges ahead at most by default', undefined],
  ])(
    'asks for the next range while this one streams in, %s, and halves the range after a large answer',
    async (_, readAhead) => {
      const n = await node(10_000, { maxRangeBlocks: 100_000, maxResults: 100_000 });
      const real = createOgRpc({ dispatcher: loopbackAgent, url: n.url, clock: createTestClock(), timeoutMs: 3_000 });
      const events: string[] = [];
      let inFlight = 0;
      let mostInFlight = 0;
      const rpc = {
        ...real,
        scanLogs: async (f: LogFilter, onLog: (log: RpcLog) => void) => {
          events.push(`ask ${f.fromBlock}`);
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          try {
            return await real.scanLogs(f, onLog);
          } finally {
            inFlight--;
          }
        },
      };
      const chunks: ChunkInfo[] = [];
      const { indexer } = indexerFor(n, {
        overrides: {
          rpc,
          range: { initialBlocks: 2_000, maxBlocks: 10_000, growBelowLogs: 20, shrinkAboveLogs: 40 },
          readAhead,
          afterChunk: (c) => {
            chunks.push(c);
            events.push(`commit ${c.fromBlock}`);
          },
        },
      });
      const run = await indexer.runOnce();
      expect(run.ok).toBe(true);
      expect(await indexer.totals()).toEqual(expectedTotals(0, 9_988));
      if (readAhead === 1) expect(mostInFlight).toBe(2);
      else {
        expect(mostInFlight).toBeGreaterThan(2);
        expect(mostInFlight).toBeLessThanOrEqual(4);
      }
      // Every range but the last was followed by an ask for the next one before it was committed.
      for (const c of chunks.slice(0, -1)) {
        expect(events.indexOf(`ask ${c.toBlock + 1}`)).toBeLessThan(events.indexOf(`commit ${c.fromBlock}`));
      }
      expect(chunks.some((c) => c.logs > 40)).toBe(true);
      // Once the first large answers have halved the range, answers stay near the cap.
      const settled = chunks.slice(chunks.findIndex((c) => c.logs <= 40));
      expect(Math.max(...settled.map((c) => c.logs))).toBeLessThanOrEqual(2 * 40 + 10);
    },
  );

  it('counts a range whose answer was cut off mid-body once, after reading it again', async () => {
    const n = await node(6_000, { maxRangeBlocks: 100_000 });
    const real = createOgRpc({ dispatcher: loopbackAgent, url: n.url, clock: createTestClock(), timeoutMs: 3_000 });
    const cutAfter: number[] = [];
    const rpc = {
      ...real,
      scanLogs: async (f: LogFilter, onLog: (log: RpcLog) => void) => {
        let seen = 0;
        try {
          return await real.scanLogs(f, (log) => {
            seen++;
            onLog(log);
          });
        } catch (err) {
          cutAfter.push(seen);
          throw err;
        }
      },
    };
    // One range ahead: the three cut answers are those of the ranges read, none asked ahead and dropped.
    const { indexer, clock } = indexerFor(n, {
      overrides: { rpc, range: { initialBlocks: 1_000, growBelowLogs: 0 }, readAhead: 1 },
    });
    n.failNext('truncated', 3, 'eth_getLogs');
    const run = await indexer.runOnce();
    expect(run.ok).toBe(true);
    expect(await indexer.totals()).toEqual(expectedTotals(0, 5_988));
    expect((await indexer.status())?.undecodableLogs).toBe(0);
    // Each cut answer had already handed over logs, and they were dropped, not counted.
    expect(cutAfter).toHaveLength(3);
    expect(Math.min(...cutAfter)).toBeGreaterThan(0);
    expect(clock.sleeps.length).toBeGreaterThan(0);
  });

  const faults: Array<[Fault, boolean]> = [
    ['limit-exceeded', false],
    ['too-many-results', false],
    ['http-429', true],
    ['timeout', true],
    ['non-json', true],
    ['rpc-error', true],
    ['http-500', true],
    ['truncated', true],
  ];
  it.each(faults)(
    'keeps its place and ends with exact totals when eth_getLogs fails with %s',
    async (fault, backsOff) => {
      const n = await node(5_000);
      const { indexer, clock } = indexerFor(n, {
        rpcTimeoutMs: fault === 'timeout' ? 200 : 3_000,
        overrides: { range: { initialBlocks: 500 } },
      });
      await indexer.runOnce();
      n.chain.head = 9_000;
      n.failNext(fault, 3, 'eth_getLogs');
      const run = await indexer.runOnce();
      expect(run.ok).toBe(true);
      expect(await indexer.totals()).toEqual(expectedTotals(0, 8_988));
      expect(clock.sleeps.length > 0).toBe(backsOff);
      if (fault === 'http-429') expect(clock.sleeps[0]).toBeGreaterThanOrEqual(2_000);
    },
  );

  it('backs off exponentially and keeps its cursor when the node keeps failing, then resumes', async () => {
    const n = await node(6_000);
    const { indexer, clock } = indexerFor(n, { overrides: { range: { initialBlocks: 1_000, growBelowLogs: 0 } } });
    await indexer.runOnce();
    n.chain.head = 12_000;
    n.failNext('rpc-error', 5, 'eth_getLogs');
    const failed = await indexer.runOnce();
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatch(/internal error/);
    expect(failed.nextBlock).toBe(5_989);
    expect(clock.sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect((await indexer.status())?.lastError).toMatch(/internal error/);
    expect(await indexer.totals()).toEqual(expectedTotals(0, 5_988));
    const healed = await indexer.runOnce();
    expect(healed.chunks).toBeGreaterThan(0);
    expect(await indexer.totals()).toEqual(expectedTotals(0, 11_988));
    expect((await indexer.status())?.lastError).toBeNull();
  });

  /** The node's RPC, with `eth_getLogs` asks recorded and the first `failures` of them failing with `fail()`. */
  function flakyLogs(n: OgNode, failures: number, fail: () => Error) {
    const real = createOgRpc({ dispatcher: loopbackAgent, url: n.url, clock: createTestClock(), timeoutMs: 3_000 });
    const asked: Array<[number, number]> = [];
    const rpc = {
      ...real,
      scanLogs: async (f: LogFilter, onLog: (log: RpcLog) => void) => {
        asked.push([f.fromBlock, f.toBlock]);
        if (asked.length <= failures) throw fail();
        return real.scanLogs(f, onLog);
      },
    };
    return { rpc, asked };
  }
  const noAnswer = () => new NetworkError('OpenGradient RPC', 'no answer within 3000 ms');

  it(
    'asks for half the range after eth_getLogs gets no answer, ' + 'since the answer may be too big to send in time',
    async () => {
      const n = await node(3_000);
      const { rpc, asked } = flakyLogs(n, 1, noAnswer);
      const { indexer, clock, logger } = indexerFor(n, {
        overrides: { rpc, range: { initialBlocks: 1_000, growBelowLogs: 0 } },
      });
      const run = await indexer.runOnce();
      expect(run.ok).toBe(true);
      expect(asked.slice(0, 2)).toEqual([
        [0, 999],
        [0, 499],
      ]);
      expect(clock.sleeps).toEqual([1_000]);
      expect(logger.warnings.filter((w) => w === 'eth_getLogs failed; backing off')).toHaveLength(1);
      expect(await indexer.totals()).toEqual(expectedTotals(0, 2_988));
    },
  );

  it('asks no more once stopped while backing off, and keeps its cursor', async () => {
    const n = await node(3_000);
    const { rpc, asked } = flakyLogs(n, 1, noAnswer);
    const clock = createTestClock();
    const stops: Array<Promise<void>> = [];
    const { indexer } = indexerFor(n, {
      overrides: {
        rpc,
        clock: {
          ...clock,
          async sleep() {
            if (stops.length === 0) stops.push(indexer.stop());
          },
        },
        range: { initialBlocks: 1_000 },
      },
    });
    const run = await indexer.runOnce();
    await Promise.all(stops);
    expect(run).toMatchObject({ ok: true, chunks: 0, nextBlock: 0 });
    expect(asked).toEqual([[0, 999]]);
    expect((await indexer.totals()).total).toBe(0);
  });

  it('does not back off from a failure met while stopping: the pass ends with it', async () => {
    const n = await node(3_000);
    const stops: Array<Promise<void>> = [];
    const { rpc, asked } = flakyLogs(n, 1, () => {
      stops.push(indexer.stop());
      return noAnswer();
    });
    const { indexer, clock } = indexerFor(n, { overrides: { rpc, range: { initialBlocks: 1_000 } } });
    const run = await indexer.runOnce();
    await Promise.all(stops);
    expect(run).toMatchObject({ ok: false, chunks: 0, nextBlock: 0 });
    expect(run.error).toMatch(/no answer/);
    expect(asked).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('never crashes on a non-JSON or error answer to eth_blockNumber', async () => {
    const n = await node(1_000);
    const { indexer } = indexerFor(n, { overrides: { retry: { attempts: 2 } } });
    n.failNext('non-json', 2, 'eth_blockNumber');
    const run = await indexer.runOnce();
    expect(run.ok).toBe(false);
    expect(run.error).toMatch(/not JSON/);
    expect((await indexer.totals()).total).toBe(0);
    await indexer.runOnce();
    expect(await indexer.totals()).toEqual(expectedTotals(0, 988));
  });

  it('counts an undecodable inference log once as unknown and carries on', async () => {
    const chainNode = await node(1_000);
    const good = mlInference(0);
    chainNode.chain.extra.set(500, [{ ...good, data: '0xdeadbeef' }]);
    const { indexer, logger } = indexerFor(chainNode);
    const run = await indexer.runOnce();
    expect(run.ok).toBe(true);
    const expected = expectedTotals(0, 988);
    expect(await indexer.totals()).toEqual({ ...expected, unknown: expected.unknown + 1, total: expected.total + 1 });
    expect((await indexer.status())?.undecodableLogs).toBe(1);
    expect(logger.warnings.filter((w) => /undecodable/.test(w))).toHaveLength(1);
  });

  it('ignores logs marked removed', async () => {
    const n = await node(1_000);
    n.chain.extra.set(400, [
      { ...llmChat(2), removed: true },
      { ...llmChat(0), removed: true },
    ]);
    const { indexer } = indexerFor(n);
    await indexer.runOnce();
    expect(await indexer.totals()).toEqual(expectedTotals(0, 988));
  });

  it('counts unknown modes as unknown and logs each unknown mode once', async () => {
    const n = await node(2_000);
    const { indexer, logger } = indexerFor(n);
    await indexer.runOnce();
    expect((await indexer.totals()).unknown).toBe(expectedTotals(0, 1_988).unknown);
    expect((await indexer.totals()).unknown).toBeGreaterThan(1);
    expect(logger.warnings.filter((w) => /unknown verification mode/.test(w))).toHaveLength(1);
  });

  it('waits without error when the head moves backwards, and never counts a block twice', async () => {
    const n = await node(3_000);
    const { indexer, logger } = indexerFor(n);
    await indexer.runOnce();
    n.chain.head = 2_500;
    const back = await indexer.runOnce();
    expect(back).toMatchObject({ ok: true, chunks: 0, nextBlock: 2_989 });
    expect(logger.warnings.some((w) => /backwards/.test(w))).toBe(true);
    n.chain.head = 4_000;
    await indexer.runOnce();
    expect(await indexer.totals()).toEqual(expectedTotals(0, 3_988));
  });

  it('does not move past blocks a lagging node does not have yet', async () => {
    const n = await node(5_000);
    n.setHasUpTo(3_100);
    const { indexer } = indexerFor(n, { overrides: { range: { initialBlocks: 1_000, growBelowLogs: 0 } } });
    const run = await indexer.runOnce();
    expect(run.ok).toBe(false);
    expect(run.error).toMatch(/not found/);
    expect(run.nextBlock).toBeLessThanOrEqual(3_101);
    expect(await indexer.totals()).toEqual(expectedTotals(0, run.nextBlock - 1));
    n.setHasUpTo(null);
    await indexer.runOnce();
    expect(await indexer.totals()).toEqual(expectedTotals(0, 4_988));
  });

  it('resolves with the failure instead of throwing when its store is gone', async () => {
    const n = await node(1_000);
    const { indexer, database } = indexerFor(n);
    database.close();
    const run = await indexer.runOnce();
    expect(run).toMatchObject({ ok: false, chunks: 0 });
    expect(run.error).toMatch(/database/i);
  });

  it('starts the first backfill at the configured block', async () => {
    const n = await node(3_000);
    const { indexer } = indexerFor(n, { overrides: { fromBlock: 1_234 } });
    await indexer.runOnce();
    expect(await indexer.totals()).toEqual(expectedTotals(1_234, 2_988));
    expect(await indexer.status()).toMatchObject({
      fromBlock: 1_234,
      nextBlock: 2_989,
      headBlock: 3_000,
      safeHeadBlock: 2_988,
    });
  });
});

describe('inference indexer after a crash', () => {
  it('ends with exactly one clean pass when killed after some committed chunks and restarted', async () => {
    const n = await node(20_000);
    const dbPath = tempDbPath();
    let seen = 0;
    const first = indexerFor(n, {
      dbPath,
      overrides: {
        range: { initialBlocks: 700, growBelowLogs: 0 },
        afterChunk: () => {
          if (++seen === 4) throw new Error('killed');
        },
      },
    });
    const crashed = await first.indexer.runOnce();
    expect(crashed.ok).toBe(false);
    expect(crashed.chunks).toBe(4);
    first.database.close();
    const second = indexerFor(n, { dbPath, overrides: { range: { initialBlocks: 900 } } });
    expect((await second.indexer.status())?.nextBlock).toBe(crashed.nextBlock);
    const run = await second.indexer.runOnce();
    expect(run.ok).toBe(true);
    expect(await second.indexer.totals()).toEqual(expectedTotals(0, 19_988));
  });

  it('ends with exactly one clean pass when killed inside a chunk commit', async () => {
    const n = await node(20_000);
    const dbPath = tempDbPath();
    let commits = 0;
    const first = indexerFor(n, {
      dbPath,
      overrides: { range: { initialBlocks: 700, growBelowLogs: 0 } },
      store: (real) => ({
        ...real,
        async commitChunk(c) {
          if (++commits === 3) {
            // The process dies part-way through the transaction: SQLite rolls it back.
            await real.commitChunk({ ...c, counts: new Map([['0|vanilla|ml', Number.NaN]]) });
          }
          await real.commitChunk(c);
        },
      }),
    });
    const crashed = await first.indexer.runOnce();
    expect(crashed.ok).toBe(false);
    first.database.close();
    const second = indexerFor(n, { dbPath });
    await second.indexer.runOnce();
    expect(await second.indexer.totals()).toEqual(expectedTotals(0, 19_988));
  });
});
