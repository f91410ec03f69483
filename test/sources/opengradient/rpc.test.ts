import { describe, expect, it, onTestFinished } from 'vitest';
import { RateLimitedError, UpstreamError } from '../../../src/core/errors.js';
import { JsonRpcError, createOgRpc, parseLog } from '../../../src/sources/opengradient/rpc.js';
import { createTestClock } from '../../helpers/clock.js';
import { testChain } from '../../helpers/og-chain.js';
import { startOgNode } from '../../helpers/og-rpc-server.js';
import { sendJson, startLoopbackServer } from '../../helpers/http-server.js';

async function rpcFor(head = 1_000) {
  const node = await startOgNode(testChain(head), { maxRangeBlocks: 100 });
  onTestFinished(() => node.close());
  return { node, rpc: createOgRpc({ url: node.url, clock: createTestClock(), timeoutMs: 500 }) };
}

const filter = { fromBlock: 0, toBlock: 50, addresses: [], topic0: [] };

describe('OpenGradient JSON-RPC client', () => {
  it('turns a JSON-RPC error object into a JsonRpcError carrying the node code', async () => {
    const { rpc } = await rpcFor();
    const err = await rpc.getLogs({ ...filter, toBlock: 500 }).catch((e: unknown) => e);
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
        result: [{ address: '0x00', topics: [], data: '0x', blockNumber: '0x999', logIndex: '0x0', transactionHash: '0x1', removed: false }],
      }),
    );
    onTestFinished(() => server.close());
    const rpc = createOgRpc({ url: server.url, clock: createTestClock() });
    await expect(rpc.getLogs(filter)).rejects.toThrow(/block 2457 outside 0-50/);
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
    const good = { address: '0xAB', topics: ['0x01'], data: '0x', blockNumber: '0x10', logIndex: '0x0', transactionHash: '0x1' };
    expect(parseLog(good)).toMatchObject({ address: '0xab', blockNumber: 16, removed: false, blockTimestampSec: null });
    expect(() => parseLog({ ...good, blockNumber: 16 })).toThrow(/blockNumber/);
    expect(() => parseLog({ ...good, data: 'zz' })).toThrow(/data/);
    expect(() => parseLog({ ...good, topics: 'x' })).toThrow(/topics/);
    expect(() => parseLog({ ...good, blockTimestamp: '0xzz' })).toThrow(/blockTimestamp/);
  });
});
