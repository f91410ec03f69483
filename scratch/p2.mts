import { decodeAbiParameters } from 'viem';
import { INFERENCE_ABI } from '../src/sources/opengradient/events.js';
import { llmChat, llmCompletion, mlInference } from '../test/helpers/og-events.js';
const mix = { ml: [mlInference(0), INFERENCE_ABI[0]], chat: [llmChat(2), INFERENCE_ABI[1]], comp: [llmCompletion(0), INFERENCE_ABI[2]] } as const;
for (const [k, [l, ev]] of Object.entries(mix)) {
  const params = ev.inputs.slice(0, 2);
  const N = 20000; const t0 = performance.now(); let m = 0;
  for (let i = 0; i < N; i++) { const r = decodeAbiParameters(params, l.data) as any; m += r[1][0]; }
  console.log(k, 'decode/s', Math.round(N / ((performance.now() - t0) / 1000)), m);
}
