/**
 * The inference events, from their canonical signatures (DATA-SOURCES.md §2), decoded with viem. A log
 * becomes `{ kind, mode, inferences }`: precompile events are one inference each, in the mode their request
 * tuple names; settlement relay events are TEE, `batchSize` at a time. A mode number the SDK does not define
 * is `unknown`, never dropped.
 *
 * What is decoded is what a count reads, from the data's bytes: for a precompile event its transaction id
 * and the head of its request tuple (mode and model), which ABI encoding lets a reader reach without the
 * rest; for a settlement event all of its (short) data, after checking that it has one 32-byte topic per
 * indexed parameter (the topics' values are not read). The precompile's model inputs and outputs,
 * kilobytes of each ML or chat log, are never walked: decoding them took over half of a backfill's time.
 * A log whose counted part does not decode is undecodable.
 *
 * The counted part is read by `readCounted`, which takes the steps of viem's `decodeAbiParameters` with
 * the same checks (so the same logs decode, to the same numbers: tested against viem on encoded and on
 * corrupted data) but builds only the integers a count reads: viem turned every word it read into hex and
 * a bigint and every string through a new TextDecoder, a fifth of a backfill's time.
 */
import type { AbiEvent, AbiParameter } from 'viem';
// The utils entry point alone: the full 'viem' index loads clients, chains and actions the indexer never uses
// (about 20 MB more resident memory under tsx).
import { parseAbi, toEventSelector } from 'viem/utils';

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
  /** The leading data parameters a count reads. */
  counted: readonly AbiParameter[];
  /** The same, prepared for `readCounted`. */
  plan: readonly Slot[];
  /**
   * Mode and inference count from the parameters as viem's `decodeAbiParameters` returns them (or
   * `readCounted`, which gives the integers at the same places: tuples as arrays, strings and bytes unread).
   */
  read(args: readonly unknown[]): { modeNumber: number | null; inferences: number };
}

/** One counted parameter as `readCounted` reads it; `width` is what it takes where it sits (viem's `consumed`). */
type Slot = { width: number } & (
  | { type: 'dynamic'; string: boolean }
  | { type: 'fixedBytes'; size: number }
  | { type: 'uint'; bits: number }
  | { type: 'tuple'; components: readonly Slot[]; dynamic: boolean }
);

/** The counted parameter types `readCounted` reads; any other is refused when the module loads. */
function slotOf(param: AbiParameter): Slot {
  if (param.type === 'tuple') {
    const components = (param as { components: readonly AbiParameter[] }).components.map(slotOf);
    const dynamic = components.some(isDynamic);
    const width = dynamic ? 32 : components.reduce((sum, c) => sum + c.width, 0);
    return { type: 'tuple', components, dynamic, width };
  }
  if (param.type === 'string' || param.type === 'bytes')
    return { type: 'dynamic', string: param.type === 'string', width: 32 };
  const fixed = /^bytes(\d+)$/.exec(param.type);
  if (fixed) return { type: 'fixedBytes', size: Number(fixed[1]), width: 32 };
  const uint = /^uint(\d*)$/.exec(param.type);
  if (uint) return { type: 'uint', bits: uint[1] ? Number(uint[1]) : 256, width: 32 };
  throw new Error(`counted parameter of type ${param.type} is not read by readCounted`);
}

const isDynamic = (slot: Slot): boolean => slot.type === 'dynamic' || (slot.type === 'tuple' && slot.dynamic);

class AbiReadError extends Error {}

/** The 32-byte word at `at` as a safe integer; viem's `bytesToNumber` throws on anything larger. */
function wordNumber(bytes: Uint8Array, at: number): number {
  for (let i = at; i < at + 25; i++) if (bytes[i] !== 0) throw new AbiReadError(`word at ${at} is not a safe integer`);
  let n = 0;
  for (let i = at + 25; i < at + 32; i++) n = n * 256 + bytes[i]!;
  if (n > Number.MAX_SAFE_INTEGER) throw new AbiReadError(`word at ${at} is not a safe integer`);
  return n;
}

/** The 32-byte word at `at` as a bigint (viem's `bytesToBigInt`, unsigned). */
function wordBigInt(bytes: Uint8Array, at: number): bigint {
  // Under 2^53 (25 zero bytes, then under 0x20): a number first, as most counts are small.
  let high = 0;
  for (let i = at; i < at + 25; i++) high |= bytes[i]!;
  if (high === 0 && bytes[at + 25]! < 0x20) return BigInt(wordNumber(bytes, at));
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset + at, 32).toString('hex')}`);
}

/**
 * `plan` read from `bytes` step for step as viem's `decodeAbiParameters` (viem 2.x,
 * utils/abi/decodeAbiParameters.js and utils/cursor.js) reads those types, failing where it fails: data empty
 * or shorter than a word; its cursor moved or read outside the data (a move to just past the last byte
 * included, as viem's cursor refuses it); an offset, a length or an integer of 48 bits or fewer that is not
 * a safe integer; the bytes of strings and bytes values past 32 times the data's size. It
 * returns the integers (numbers up to 48 bits, bigints above) where viem returns them; strings and bytes
 * are checked, not copied (viem's UTF-8 decoding never fails), and tuples are arrays.
 * @throws AbiReadError where viem would throw.
 */
function readCounted(plan: readonly Slot[], bytes: Uint8Array): unknown[] {
  const size = bytes.length;
  if (size === 0 && plan.length > 0) throw new AbiReadError('data is empty');
  if (size > 0 && size < 32) throw new AbiReadError(`data is ${size} bytes, less than a word`);
  const reader = new CountedReader(bytes);
  const values: unknown[] = [];
  let consumed = 0;
  for (const slot of plan) {
    if (consumed < size) reader.moveTo(consumed);
    values.push(reader.slot(slot, 0));
    consumed += slot.width;
  }
  return values;
}

/**
 * The state of one `readCounted`, as viem's cursor holds it. A class, not closures: the bot runs under tsx,
 * whose keepNames wraps every named closure in a call that sets its name, on each log.
 */
class CountedReader {
  private position = 0;
  /** Bytes of strings and bytes values read so far, and the most viem takes (32 times the data). */
  private used = 0;
  private readonly limit: number;

  constructor(private readonly bytes: Uint8Array) {
    this.limit = bytes.length * 32;
  }

  /** viem's `cursor.setPosition`: only a position inside the data. */
  moveTo(at: number): void {
    if (at < 0 || at > this.bytes.length - 1)
      throw new AbiReadError(`position ${at} is outside the ${this.bytes.length} bytes of data`);
    this.position = at;
  }

  /** viem's `cursor.readBytes(length, step)`: the bytes must be inside the data; returns where they start. */
  private take(length: number, step = length): number {
    const at = this.position;
    const last = at + length - 1;
    if (last < 0 || last > this.bytes.length - 1)
      throw new AbiReadError(`bytes ${at}-${last} are outside the ${this.bytes.length} bytes of data`);
    this.position += step;
    return at;
  }

  /** One parameter at the cursor, its dynamic parts placed from `staticPosition`. */
  slot(slot: Slot, staticPosition: number): unknown {
    const { bytes } = this;
    switch (slot.type) {
      case 'uint': {
        const at = this.take(32);
        return slot.bits > 48 ? wordBigInt(bytes, at) : wordNumber(bytes, at);
      }
      case 'fixedBytes':
        this.take(slot.size, 32);
        return undefined;
      case 'dynamic': {
        this.moveTo(staticPosition + wordNumber(bytes, this.take(32)));
        const length = wordNumber(bytes, this.take(32));
        if (length > 0) {
          this.take(length, slot.string ? 32 : length);
          this.used += length;
          if (this.used > this.limit) throw new AbiReadError(`strings and bytes exceed ${this.limit} bytes`);
        }
        this.moveTo(staticPosition + 32);
        return undefined;
      }
      case 'tuple': {
        const values: unknown[] = [];
        if (!slot.dynamic) {
          for (const component of slot.components) values.push(this.slot(component, staticPosition));
          return values;
        }
        const start = staticPosition + wordNumber(bytes, this.take(32));
        let consumed = 0;
        for (const component of slot.components) {
          this.moveTo(start + consumed);
          values.push(this.slot(component, start));
          consumed += component.width;
        }
        this.moveTo(staticPosition + 32);
        return values;
      }
    }
  }
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
    return {
      kind,
      topics,
      counted: data,
      plan: data.map(slotOf),
      read: (args) => ({ modeNumber: 2, inferences: toCount(args[sizeAt]) }),
    };
  }
  if (kind === 'individual_settlement')
    return { kind, topics, counted: data, plan: data.map(slotOf), read: () => ({ modeNumber: 2, inferences: 1 }) };
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
    plan: counted.map(slotOf),
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
    const args = readCounted(spec.plan, typeof data === 'string' ? hexToBytes(data) : data);
    const { modeNumber, inferences } = spec.read(args);
    const mode = modeNumber === null ? 'unknown' : (MODE_BY_NUMBER[modeNumber] ?? 'unknown');
    return { ok: true, kind: spec.kind, mode, modeNumber, inferences };
  } catch (err) {
    return { ok: false, kind: spec.kind, reason: (err as Error).message.split('\n')[0]!.slice(0, 160) };
  }
}
