/**
 * Inference logs built the way the chain builds them: viem's encoders over the canonical signatures from
 * DATA-SOURCES.md §2, written out here independently of `src/`, so a wrong signature in the indexer fails.
 */
import { encodeAbiParameters, encodeEventTopics, parseAbi, type AbiEvent, type Hex } from 'viem';

// The precompile events' request and response tuples, named so each signature fits a line; the whole
// signatures are those of DATA-SOURCES.md §2 (`as const` keeps them literal types for viem's parseAbi).
const NUMBER_TENSOR = '(string,(int128,int128)[],uint32[])';
const STRING_TENSOR = '(string,string[])';
const MODEL_INPUT = `(${NUMBER_TENSOR}[],${STRING_TENSOR}[])` as const;
const MODEL_OUTPUT = `(${NUMBER_TENSOR}[],${STRING_TENSOR}[],(string,string)[],bool)` as const;
const CHAT_MESSAGE = '(string,string,string,string,(string,string,string)[])';
const CHAT_REQUEST = `(uint8,string,${CHAT_MESSAGE}[],(string,string,string)[],string,uint32,string[],uint32)` as const;
const CHAT_RESPONSE = `(string,${CHAT_MESSAGE})` as const;

export const ABI = parseAbi([
  `event ModelInferenceEvent(string,(uint8,string,${MODEL_INPUT}),${MODEL_OUTPUT})`,
  `event LLMChat(string,${CHAT_REQUEST},${CHAT_RESPONSE})`,
  'event LLMCompletionEvent(string,(uint8,string,string,uint32,string[],uint32),(string))',
  'event BatchSettlement(bytes32 indexed,uint256,bytes)',
  'event IndividualSettlement(bytes32 indexed,address indexed,bytes32,bytes32,uint256,bytes,bytes)',
  'event BatchSettlement(bytes32,uint256)',
]);

export const PRECOMPILE = '0x00000000000000000000000000000000000000f4';
export const RELAY = '0xf1dc0d5dcf2a01924fac78185b9227cf3ec839a5';

export interface EncodedLog {
  address: string;
  topics: Hex[];
  data: Hex;
  /** Served with `removed: true`, as a node does for a log undone by a reorg. */
  removed?: boolean;
}

const [ml, chat, completion, batch, individual, oldBatch] = ABI as unknown as [
  AbiEvent,
  AbiEvent,
  AbiEvent,
  AbiEvent,
  AbiEvent,
  AbiEvent,
];
const h32 = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex;

/** A log of `event` with `args` (indexed ones included, in declaration order), as the chain would emit it. */
export function encode(event: AbiEvent, address: string, args: readonly unknown[]): EncodedLog {
  const indexed = event.inputs.map((p, i) => (p.indexed ? args[i] : undefined)).filter((a) => a !== undefined);
  const topics = encodeEventTopics({ abi: [event], args: indexed } as never) as Hex[];
  const inputs = event.inputs.filter((p) => !p.indexed);
  const values = args.filter((_, i) => !event.inputs[i]!.indexed);
  return { address, topics, data: encodeAbiParameters(inputs, values as never) };
}

/** One ML inference in `mode` (0 vanilla, 1 zkml, 2 tee, anything else unknown). */
export function mlInference(mode: number): EncodedLog {
  const request = [mode, 'QmModelCid', [[['input', [[1n, 2n]], [3]]], [['names', ['a', 'b']]]]];
  const output = [[['out', [[5n, 0n]], [1]]], [], [['k', 'v']], true];
  return encode(ml, PRECOMPILE, ['0xtx', request, output]);
}

export function llmChat(mode: number): EncodedLog {
  const request = [mode, 'meta-llama/Llama-3', [['user', 'hi', '', '', []]], [], '', 100, [], 0];
  const response = ['stop', ['assistant', 'hello', '', '', []]];
  return encode(chat, PRECOMPILE, ['0xtx', request, response]);
}

export function llmCompletion(mode: number): EncodedLog {
  return encode(completion, PRECOMPILE, ['0xtx', [mode, 'model', 'prompt', 100, [], 0], ['answer']]);
}

export function batchSettlement(batchSize: number, salt = 1): EncodedLog {
  return encode(batch, RELAY, [h32(salt), BigInt(batchSize), '0xabcd']);
}

export function individualSettlement(salt = 1): EncodedLog {
  return encode(individual, RELAY, [
    h32(salt),
    '0x000000000000000000000000000000000000dEaD',
    h32(2),
    h32(3),
    42n,
    '0x01',
    '0x02',
  ]);
}

export function oldBatchSettlement(batchSize: number): EncodedLog {
  return encode(oldBatch, RELAY, [h32(9), BigInt(batchSize)]);
}

export const TOPIC0 = {
  ml: '0x1b283af3452f3718585ce100f80d9aa81fc60924db4a582a36db6aae3b109d87',
  llmChat: '0x4c92d3df7819fcd1c9f9663332f0a599a65eefdad2eaf9193cffb9dbf1919c3b',
  llmCompletion: '0x51fe69d513d73ecde3fa3bf17584f7d2acfd5f0b13d367e898d6e11e742127a3',
  batch: '0xc2aff8d8a10a4543baabf39bd9ff45e7fc3881d19098df350a3b7f339e911127',
  individual: '0x74e71a1981c03bd0c36f3b1227f3ee2a34dca5d6fef25c4b2787e033ab60b782',
  oldBatch: '0xfa7c610716cb742e297d9aaa305f688a478691d7bdda909887be587592075db0',
} as const;
