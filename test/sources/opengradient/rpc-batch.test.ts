import { describe, expect, it, onTestFinished } from 'vitest';
import { UpstreamError } from '../../../src/core/errors.js';
import { createOgRpc } from '../../../src/sources/opengradient/rpc.js';
import { createTestClock } from '../../helpers/clock.js';
import { testChain } from '../../helpers/og-chain.js';
import {
  DEFAULT_SENDER,
  TRANSFER_SENDER,
  startOgNode,
  txHash,
  type OgNodeOptions,
} from '../../helpers/og-rpc-server.js';
import { loopbackAgent } from '../../helpers/http-server.js';

async function rpcOn(options: OgNodeOptions, batchSize = 100) {
  const node = await startOgNode(testChain(1_000), options);
  onTestFinished(() => node.close());
  return {
    node,
    rpc: createOgRpc({
      dispatcher: loopbackAgent,
      url: node.url,
      clock: createTestClock(),
      timeoutMs: 3_000,
      batchSize,
      batchConcurrency: 1,
    }),
  };
}

const blocks = Array.from({ length: 40 }, (_, i) => 100 + i);

describe('blocksWithSenders', () => {
  it('answers each block’s time and the sender of each transaction, from full blocks in one batch', async () => {
    const { node, rpc } = await rpcOn({});
    const got = await rpc.blocksWithSenders(blocks);
    expect(node.batches()).toBe(1);
    expect([...got.keys()].sort((a, b) => a - b)).toEqual(blocks);
    const b = got.get(105)!;
    expect(b.timeMs).toBe(node.chain.blockTimeSec(105) * 1000);
    // Block 105 holds an ML log (105 % 3), a chat log (% 5) and a completion (% 7), then the transfer.
    expect(b.senders).toEqual(
      new Map([
        [txHash(105, 0), DEFAULT_SENDER],
        [txHash(105, 1), DEFAULT_SENDER],
        [txHash(105, 2), DEFAULT_SENDER],
        [txHash(105, 3), TRANSFER_SENDER],
      ]),
    );
    // The block times are cached: no header call follows.
    expect(await rpc.blockTimeMs(105)).toBe(b.timeMs);
    expect(node.calls('eth_getBlockByNumber')).toBe(blocks.length);
  });

  it('halves a batch the node refuses as too large, and keeps the smaller size', async () => {
    const { node, rpc } = await rpcOn({ maxBatchCalls: 7 }, 32);
    const got = await rpc.blocksWithSenders(blocks);
    expect(got.size).toBe(blocks.length);
    expect(node.refusedBatches()).toBe(3); // 32, 16, 8 calls refused
    expect(node.largestAnsweredBatch()).toBe(4);
    expect(node.fullBlocksServed()).toBe(blocks.length);
    const before = node.refusedBatches();
    await rpc.blocksWithSenders([200, 201, 202, 203, 204]);
    expect(node.refusedBatches()).toBe(before);
  });

  it('asks again for the blocks cut from an answer that grew past the size limit', async () => {
    const { node, rpc } = await rpcOn({ maxBatchBytes: 2_500 });
    const got = await rpc.blocksWithSenders(blocks);
    expect(got.size).toBe(blocks.length);
    expect(node.fullBlocksServed()).toBe(blocks.length);
    expect(node.batches()).toBeGreaterThan(1);
  });

  it('asks one block at a time from a node that takes no batches', async () => {
    const { node, rpc } = await rpcOn({ acceptBatches: false });
    const got = await rpc.blocksWithSenders(blocks);
    expect(got.size).toBe(blocks.length);
    expect(node.refusedBatches()).toBe(1);
    expect(node.batches()).toBe(1);
    expect(node.calls('eth_getBlockByNumber')).toBe(blocks.length);
  });

  it('answers null for a block whose full read the node refuses for size even alone', async () => {
    const { node, rpc } = await rpcOn({}, 8);
    node.setBlocksTooLarge(new Set([105]));
    const got = await rpc.blocksWithSenders(blocks);
    expect(got.size).toBe(blocks.length);
    expect(got.get(105)).toBeNull();
    expect(got.get(104)?.senders.size).toBeGreaterThan(0);
  });

  it('refuses an answer without a block the node should have', async () => {
    const { node, rpc } = await rpcOn({});
    node.setHasUpTo(120);
    await expect(rpc.blocksWithSenders(blocks)).rejects.toThrow(UpstreamError);
    await expect(rpc.blocksWithSenders(blocks)).rejects.toThrow(/block 121 not found/);
  });
});

describe('transactionSenders', () => {
  it('reads the sender of each transaction by hash, in batches', async () => {
    const { node, rpc } = await rpcOn({}, 2);
    const hashes = [txHash(105, 0), txHash(105, 3), txHash(108, 0)]; // 108: an ML log (108 % 3)
    const got = await rpc.transactionSenders(hashes);
    expect(got).toEqual(
      new Map([
        [hashes[0], DEFAULT_SENDER],
        [hashes[1], TRANSFER_SENDER],
        [hashes[2], DEFAULT_SENDER],
      ]),
    );
    expect(node.batches()).toBe(2);
    expect(node.calls('eth_getTransactionByHash')).toBe(3);
  });

  it('refuses an answer without a transaction the node should have', async () => {
    const { rpc } = await rpcOn({});
    await expect(rpc.transactionSenders([txHash(105, 9)])).rejects.toThrow(/transaction 0x\w+ not found/);
  });
});

describe('batches in flight', () => {
  it('never exceed batchConcurrency for the whole client, however many callers ask at once', async () => {
    const node = await startOgNode(testChain(1_000), { batchDelayMs: 40 });
    onTestFinished(() => node.close());
    const rpc = createOgRpc({
      dispatcher: loopbackAgent,
      url: node.url,
      clock: createTestClock(),
      timeoutMs: 3_000,
      batchSize: 4,
    });
    const asks = Array.from({ length: 5 }, (_, k) =>
      rpc.blocksWithSenders(Array.from({ length: 20 }, (_, i) => 100 + 20 * k + i)),
    );
    const txs = rpc.transactionSenders([txHash(105, 0), txHash(106, 0)]);
    const got = await Promise.all(asks);
    expect(got.map((m) => m.size)).toEqual([20, 20, 20, 20, 20]);
    expect((await txs).size).toBe(2);
    expect(node.batches()).toBe(5 * 5 + 1);
    expect(node.mostBatchesInFlight()).toBe(2); // the default
  });
});
