/**
 * The inference events, from their canonical signatures (DATA-SOURCES.md §2), decoded with viem. A log
 * becomes `{ kind, mode, inferences }`: precompile events are one inference each, in the mode their request
 * tuple names; settlement relay events are TEE, `batchSize` at a time. A mode number the SDK does not define
 * is `unknown`, never dropped.
 *
 * What is decoded is what a count reads, with viem's `decodeAbiParameters` on the data's bytes: for a
 * precompile event its transaction id and the head of its request tuple (mode and model), which ABI
 * encoding lets viem read without the rest; for a settlement event all of its (short) data, after checking
 * that it has one 32-byte topic per indexed parameter (the topics' values are not read). The
 * precompile's model inputs and outputs, kilobytes of each ML or chat log, are never walked: decoding them
 * took over half of a backfill's time. A log whose counted part does not decode is undecodable.
 */
import type { AbiEvent, AbiParameter } from 'viem';
// The utils entry point alone: the full 'viem' index loads clients, chains and actions the indexer never uses
// (about 20 MB more resident memory under tsx).
import { decodeAbiParameters, parseAbi, toEventSelector } from 'viem/utils';

// The precompile events' request and response tuples, built from their parts so each signature fits a line; the
// whole signatures are spelled out in DATA-SOURCES.md §2, and the tests pin their topic0.
const NUMBER_TENSOR = '(string,(int128,int128)[],uint32[])';
const STRING_TENSOR = '(string,string[])';
const MODEL_INPUT = `(${NUMBER_TENSOR}[],${STRING_TENSOR}[])` as const;
const MODEL_OUTPUT = `(${NUMBER_TENSOR}[],${STRING_TENSOR}[],(string,string)[],bool)` as const;
const CHAT_MESSAGE = '(string,string,string,string,(string,string,string)[])';
const CHAT_REQUEST = `(uint8,string,${CHAT_MESSAGE}[],(string,string,string)[],string,uint32,string[],uint32)` as const;
const CHAT_RESPONSE = `(string,${CHAT_MESSAGE})` as const;

export const INFERENCE_ABI = parseAbi([
  `event ModelInferenceEvent(string,(uint8,string,${MODEL_INPUT}),${MODEL_OUTPUT})`,
  `event LLMChat(string,${CHAT_REQUEST},${CHAT_RESPONSE})`,
  'event LLMCompletionEvent(string,(uint8,string,string,uint32,string[],uint32),(string))',
  'event BatchSettlement(bytes32 indexed,uint256,bytes)',
  'event IndividualSettlement(bytes32 indexed,address indexed,bytes32,bytes32,uint256,bytes,bytes)',
  'event BatchSettlement(bytes32,uint256)',
]);

export type InferenceKind = 'ml' | 'llm_chat' | 'llm_completion' | 'batch_settlement' | 'individual_settlement';
export type InferenceMode = 'vanilla' | 'tee' | 'zkml' | 'unknown';
export const MODES: readonly InferenceMode[] = ['vanilla', 'tee', 'zkml', 'unknown'];

/**
 * The emitters DATA-SOURCES.md names: the inference precompile and the LLM settlement relay. The
 * InferenceHub (`0x8383C9bD7462F12Eb996DD02F78234C0421A6FaE`) is left out: no counted event is documented
 * as coming from it, and counting a second emitter of the same inference would count it twice.
 */
export const DEFAULT_CONTRACTS = [
  '0x00000000000000000000000000000000000000F4',
  '0xf1dc0d5Dcf2A01924faC78185B9227CF3EC839A5',
] as const;

/** SDK numbering: 0 VANILLA, 1 ZKML, 2 TEE. */
const MODE_BY_NUMBER: Readonly<Record<number, InferenceMode>> = { 0: 'vanilla', 1: 'zkml', 2: 'tee' };

interface EventSpec {
  kind: InferenceKind;
  /** topic0 and one per indexed parameter. */
  topics: number;
  /** The leading data parameters a count reads, decoded with viem. */
  counted: readonly AbiParameter[];
  /** Mode and inference count from the decoded parameters. */
  read(args: readonly unknown[]): { modeNumber: number | null; inferences: number };
}

const KIND_BY_NAME: Record<string, InferenceKind> = {
  ModelInferenceEvent: 'ml',
  LLMChat: 'llm_chat',
  LLMCompletionEvent: 'llm_completion',
  BatchSettlement: 'batch_settlement',
  IndividualSettlement: 'individual_settlement',
};

function specFor(event: AbiEvent): EventSpec {
  const kind = KIND_BY_NAME[event.name]!;
  const data = event.inputs.filter((p) => !p.indexed);
  const topics = 1 + event.inputs.length - data.length;
  if (kind === 'batch_settlement') {
    const sizeAt = data.findIndex((p) => p.type === 'uint256');
    return { kind, topics, counted: data, read: (args) => ({ modeNumber: 2, inferences: toCount(args[sizeAt]) }) };
  }
  if (kind === 'individual_settlement')
    return { kind, topics, counted: data, read: () => ({ modeNumber: 2, inferences: 1 }) };
  // (string id, request, response); the request opens with (uint8 mode, string model). A tuple holding a
  // string is encoded behind an offset, components in order, so its first two decode on their own.
  const [id, request] = data as [AbiParameter, AbiParameter & { components: readonly AbiParameter[] }];
  const [mode, model] = request.components;
  if (data.length !== 3 || id.type !== 'string' || mode?.type !== 'uint8' || model?.type !== 'string') {
    throw new Error(`${event.name}: expected (string, (uint8, string, …), …)`);
  }
  const counted = [id, { ...request, components: [mode, model] }];
  return {
    kind,
    topics,
    counted,
    read: (args) => {
      const mode = (args[1] as readonly unknown[])[0];
      return { modeNumber: typeof mode === 'number' ? mode : null, inferences: 1 };
    },
  };
}

function toCount(value: unknown): number {
  if (typeof value !== 'bigint' || value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new Error('batch size out of range');
  return Number(value);
}

/** topic0 → how to read that event. */
export const EVENTS: ReadonlyMap<string, EventSpec> = new Map(
  INFERENCE_ABI.map((event) => [toEventSelector(event).toLowerCase(), specFor(event)]),
);

/** Every topic0 the indexer asks for. */
export const INFERENCE_TOPICS: readonly `0x${string}`[] = [...EVENTS.keys()] as `0x${string}`[];

export type DecodedInference =
  | { ok: true; kind: InferenceKind; mode: InferenceMode; modeNumber: number | null; inferences: number }
  | { ok: false; kind: InferenceKind | null; reason: string };

const TOPIC_LENGTH = 66;

/**
 * The bytes of `0x` hex data, converted natively (a regular expression or a JS loop over kilobytes costs
 * more); throws unless it is whole bytes of hex throughout.
 */
export function hexToBytes(data: string): Uint8Array {
  if (!data.startsWith('0x')) throw new Error('data is not 0x hex');
  const hex = data.slice(2);
  const bytes = Buffer.from(hex, 'hex');
  // Buffer.from stops at the first non-hex pair; the node's data must be hex throughout.
  if (bytes.length * 2 !== hex.length) throw new Error('data is not whole bytes of hex');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Decodes one log's topics and data (hex, or its bytes) with viem against the event its topic0 names,
 * as far as a count reads.
 */
export function decodeInference(topics: readonly `0x${string}`[], data: `0x${string}` | Uint8Array): DecodedInference {
  const topic0 = topics[0]?.toLowerCase();
  const spec = topic0 === undefined ? undefined : EVENTS.get(topic0);
  if (!spec) return { ok: false, kind: null, reason: 'not an inference event' };
  try {
    if (topics.length !== spec.topics) throw new Error(`expected ${spec.topics} topics, got ${topics.length}`);
    for (const topic of topics) if (topic.length !== TOPIC_LENGTH) throw new Error('a topic is not 32 bytes');
    const args = decodeAbiParameters(spec.counted, typeof data === 'string' ? hexToBytes(data) : data);
    const { modeNumber, inferences } = spec.read(args);
    const mode = modeNumber === null ? 'unknown' : (MODE_BY_NUMBER[modeNumber] ?? 'unknown');
    return { ok: true, kind: spec.kind, mode, modeNumber, inferences };
  } catch (err) {
    return { ok: false, kind: spec.kind, reason: (err as Error).message.split('\n')[0]!.slice(0, 160) };
  }
}
