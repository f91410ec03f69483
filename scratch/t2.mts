import { decodeInference, INFERENCE_ABI } from '../src/sources/opengradient/events.js';
import { encodeEventTopics, encodeAbiParameters } from 'viem';
for (const ev of INFERENCE_ABI) {
  console.log(ev.name, ev.inputs.map(i=>i.name));
}
const ev = INFERENCE_ABI[3];
const topics = encodeEventTopics({abi:[ev], eventName: 'BatchSettlement', args: ['0x'+'11'.repeat(32)]} as any);
const data = encodeAbiParameters(ev.inputs.filter(i=>!i.indexed), [7n, '0x1234']);
console.log(decodeInference(topics as any, data));
const ev4 = INFERENCE_ABI[5];
console.log(decodeInference(encodeEventTopics({abi:[ev4]} as any) as any, encodeAbiParameters(ev4.inputs, ['0x'+'11'.repeat(32), 9n])));
console.log(decodeInference(encodeEventTopics({abi:[ev4]} as any) as any, '0x1234'));
