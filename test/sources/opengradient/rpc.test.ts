import { describe, expect, it, onTestFinished } from 'vitest';
import { NetworkError, RateLimitedError, UpstreamError } from '../../../src/core/errors.js';
import {
  JsonRpcError,
  createOgRpc,
  parseLog,
  type LogFilter,
  type OgRpc,
  type RpcLog,
} from '../../../src/sources/opengradient/rpc.js';
import { INFERENCE_TOPICS } from '../../../src/sources/opengradient/events.js';
import { createTestClock } from '../../helpers/clock.js';
import { PRECOMPILE, RELAY } from '../../helpers/og-events.js';
import { testChain } from '../../helpers/og-chain.js';
import { startOgNode } from '../../helpers/og-rpc-server.js';
import { sendJson, startLoopbackServer, loopbackAgent } from '../../helpers/http-server.js';

async function rpcFor(head = 1_000) {
  const node = await startOgNode(testChain(head), { maxRangeBlocks: 100 });
  onTestFinished(() => node.close());
  return {
    node,
    rpc: createOgRpc({ dispatcher: loopbackAgent, url: node.url, clock: createTestClock(), timeoutMs: 500 }),
  };
}

const filter = { fromBlock: 0, toBlock: 50, addresses: [], topic0: [] };

/** The whole `eth_getLogs` answer as a list. */
async function getLogs(rpc: OgRpc, f: LogFilter): Promise<RpcLog[]> {
  const logs: RpcLog[] = [];
  await rpc.scanLogs(f, (log) => logs.push(log));
  return logs;
}

describe('OpenGradient JSON-RPC client', () => {
  it('turns a JSON-RPC error object into a JsonRpcError carrying the node code', async () => {
    const { rpc } = await rpcFor();
    const err = await getLogs(rpc, { ...filter, toBlock: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JsonRpcError);
    expect(err).toMatchObject({ code: -32005, source: 'OpenGradient RPC' });
    expect((err as Error).message).toMatch(/block range too large/);
  });

  it('reports a non-JSON answer as an UpstreamError and a 429 as rate limited', async () => {
    const { node, rpc } = await rpcFor();
    node.failNext('non-json');
    await expect(rpc.blockNumber()).rejects.toThrow(UpstreamError);
    node.failNext('http-429');
    const limited = await rpc.blockNumber().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(2_000);
  });

  it('refuses an answer with logs outside the asked range', async () => {
    const server = await startLoopbackServer((req, res) =>
      sendJson(res, 200, {
        jsonrpc: '2.0',
        id: 1,
        result: [
          {
            address: '0x00',
            topics: [],
            data: '0x',
            blockNumber: '0x999',
            logIndex: '0x0',
            transactionHash: '0x1',
            removed: false,
          },
        ],
      }),
    );
    onTestFinished(() => server.close());
    const rpc = createOgRpc({ dispatcher: loopbackAgent, url: server.url, clock: createTestClock() });
    await expect(getLogs(rpc, filter)).rejects.toThrow(/block 2457 outside 0-50/);
  });

  it('hands eth_getLogs over log by log, validated, and resolves with how many there were', async () => {
    const { rpc } = await rpcFor();
    const ours = { ...filter, toBlock: 99, addresses: [PRECOMPILE, RELAY], topic0: INFERENCE_TOPICS };
    const seen: number[] = [];
    const count = await rpc.scanLogs(ours, (log) => seen.push(log.blockNumber));
    expect(count).toBe(seen.length);
    expect(seen.length).toBeGreaterThan(50);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect((await getLogs(rpc, ours)).map((l) => l.blockNumber)).toEqual(seen);
  });

  it('reports an answer cut off mid-body as a NetworkError', async () => {
    const { node, rpc } = await rpcFor();
    node.failNext('truncated', 1, 'eth_getLogs');
    await expect(
      rpc.scanLogs({ ...filter, toBlock: 99, addresses: [PRECOMPILE, RELAY], topic0: INFERENCE_TOPICS }, () => {}),
    ).rejects.toThrow(NetworkError);
  });

  it('caches block headers', async () => {
    const { node, rpc } = await rpcFor();
    const first = await rpc.blockTimeMs(42);
    expect(await rpc.blockTimeMs(42)).toBe(first);
    expect(node.calls('eth_getBlockByNumber')).toBe(1);
  });

  it('reports a block the node does not have', async () => {
    const { rpc } = await rpcFor(100);
    await expect(rpc.blockTimeMs(101)).rejects.toThrow(/block 101 not found/);
  });

  it('validates every field of a log it uses', () => {
    const good = {
      address: '0xAB',
      topics: ['0x01'],
      data: '0x',
      blockNumber: '0x10',
      logIndex: '0x0',
      transactionHash: '0x1',
    };
    expect(parseLog(good)).toMatchObject({ address: '0xab', blockNumber: 16, removed: false, blockTimestampSec: null });
    expect(() => parseLog({ ...good, blockNumber: 16 })).toThrow(/blockNumber/);
    expect(parseLog({ ...good, data: '0x0aFf' }).data).toEqual(new Uint8Array([0x0a, 0xff]));
    for (const data of ['zz', '0x123', '0x12zz', '12']) expect(() => parseLog({ ...good, data })).toThrow(/data/);
    expect(() => parseLog({ ...good, topics: 'x' })).toThrow(/topics/);
    expect(() => parseLog({ ...good, blockTimestamp: '0xzz' })).toThrow(/blockTimestamp/);
  });
});
