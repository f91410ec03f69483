/**
 * The benchmark's fake OpenGradient node, in its own process (a real node is another machine: its work must
 * not be billed to the indexer). Serves `events` inference logs, ten a block from a reused mix of pre-encoded
 * blobs, generated per request; each log in its own transaction, the precompile ones sent by one of
 * `CALLERS` accounts in turn (so every account calls about once a block span of CALLERS / 7), with
 * `eth_getBlockByNumber(n, true)` serving full transactions with 260 bytes of input each. Prints its URL on
 * stdout, then serves until killed.
 */
import {
  batchSettlement,
  individualSettlement,
  llmChat,
  llmCompletion,
  mlInference,
  type EncodedLog,
} from '../test/helpers/og-events.js';
import { startOgNode } from '../test/helpers/og-rpc-server.js';
import { CALLERS, LOGS_PER_BLOCK } from './og-node-shape.js';

export { LOGS_PER_BLOCK };

/** Two ML, two chat, three completion, three settlement logs a block; 17 inferences in all. */
export const MIX: readonly EncodedLog[] = [
  mlInference(0),
  mlInference(2),
  llmChat(2),
  llmChat(0),
  llmCompletion(0),
  llmCompletion(1),
  batchSettlement(8),
  individualSettlement(),
  individualSettlement(2),
  llmCompletion(2),
];

/** The 7 precompile logs of MIX numbered 0..6 (settlements -1, sent by the relayer), so callers take turns. */
const PRECOMPILE_RANK = [0, 1, 2, 3, 4, 5, -1, -1, -1, 6];
const RELAYER = '0x00000000000000000000000000000000005e7e11';

const events = Number(process.argv[2] ?? '0');
if (events > 0) {
  const blocks = Math.ceil(events / LOGS_PER_BLOCK);
  const node = await startOgNode(
    {
      head: blocks - 1 + 12,
      logsInBlock: (b) => (b < blocks ? MIX : []),
      blockTimeSec: (b) => 1_770_000_000 + 2 * b,
      senderOf: (b, i) =>
        PRECOMPILE_RANK[i]! < 0
          ? RELAYER
          : `0x${((b * 7 + PRECOMPILE_RANK[i]!) % CALLERS).toString(16).padStart(40, '0')}`,
    },
    { maxRangeBlocks: 5_000, maxResults: 10_000, txInputBytes: 260 },
  );
  process.stdout.write(`${node.url}\n`);
}
