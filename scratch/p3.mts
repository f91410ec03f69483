import { decodeAbiParameters } from 'viem';
import { INFERENCE_ABI } from '../src/sources/opengradient/events.js';
import { llmChat, llmCompletion, mlInference, individualSettlement } from '../test/helpers/og-events.js';
const mix = { ml: [mlInference(0), INFERENCE_ABI[0]], chat: [llmChat(2), INFERENCE_ABI[1]], comp: [llmCompletion(0), INFERENCE_ABI[2]], ind: [individualSettlement(), INFERENCE_ABI[4]] } as const;
for (const [k, [l, ev]] of Object.entries(mix)) {
  const params = ev.inputs.filter((p) => !p.indexed);
  const N = 20000; let t0 = performance.now(); let m = 0;
  for (let i = 0; i < N; i++) { const bytes = Buffer.from(l.data.slice(2), 'hex'); const r = decodeAbiParameters(params, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)) as any; m += 1; }
  console.log(k, 'full, bytes in: decode/s', Math.round(N / ((performance.now() - t0) / 1000)));
  t0 = performance.now();
  for (let i = 0; i < N; i++) { const r = decodeAbiParameters(params, l.data) as any; m += 1; }
  console.log(k, 'full, hex in: decode/s', Math.round(N / ((performance.now() - t0) / 1000)));
}
