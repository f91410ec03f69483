import { decodeInference } from '../src/sources/opengradient/events.js';
import { parseLog } from '../src/sources/opengradient/rpc.js';
import { batchSettlement, individualSettlement, llmChat, llmCompletion, mlInference } from '../test/helpers/og-events.js';
const mix = { ml: mlInference(0), chat: llmChat(2), comp: llmCompletion(0), batch: batchSettlement(8), ind: individualSettlement() };
for (const [k, l] of Object.entries(mix)) {
  const N = 20000; const t0 = performance.now();
  for (let i = 0; i < N; i++) decodeInference(l.topics, l.data);
  console.log(k, 'bytes', l.data.length / 2, 'decode/s', Math.round(N / ((performance.now() - t0) / 1000)));
}
const raw = { address: mix.ml.address, topics: mix.ml.topics, data: mix.ml.data, blockNumber: '0x10', logIndex: '0x1', transactionHash: '0xab', removed: false, blockTimestamp: '0x5' };
const N = 100000; let t0 = performance.now();
for (let i = 0; i < N; i++) parseLog(raw);
console.log('parseLog/s', Math.round(N / ((performance.now() - t0) / 1000)));
const text = JSON.stringify({ result: Array.from({ length: 10000 }, () => raw) });
t0 = performance.now(); JSON.parse(text); console.log('JSON.parse 10k ml logs ms', performance.now() - t0, 'MB', text.length / 1e6);
