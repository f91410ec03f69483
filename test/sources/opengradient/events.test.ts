import fc from 'fast-check';
import { decodeAbiParameters, decodeEventLog, toHex, type AbiEvent, type AbiParameter } from 'viem';
import { describe, expect, it } from 'vitest';
import { decodeInference, EVENTS, hexToBytes, INFERENCE_TOPICS } from '../../../src/sources/opengradient/events.js';
import {
  ABI,
  PRECOMPILE,
  TOPIC0,
  batchSettlement,
  encode,
  individualSettlement,
  llmChat,
  llmCompletion,
  mlInference,
  oldBatchSettlement,
} from '../../helpers/og-events.js';

/** Any value of an ABI type, small enough to encode quickly. */
function valueOf(param: AbiParameter): fc.Arbitrary<unknown> {
  const array = /^(.*)\[\]$/.exec(param.type);
  if (array) return fc.array(valueOf({ ...param, type: array[1]! }), { maxLength: 3 });
  if (param.type === 'tuple')
    return fc.tuple(...(param as { components: readonly AbiParameter[] }).components.map(valueOf));
  const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => toHex(b));
  switch (param.type) {
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 8 });
    case 'bool':
      return fc.boolean();
    case 'address':
      return bytes(20);
    case 'bytes32':
      return bytes(32);
    case 'bytes':
      return fc.uint8Array({ maxLength: 40 }).map((b) => toHex(b));
    case 'uint8':
      return fc.integer({ min: 0, max: 255 });
    case 'uint32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'uint256':
      return fc.oneof(fc.bigInt({ min: 0n, max: 1_000_000n }), fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }));
    case 'int128':
      return fc.bigInt({ min: -(2n ** 127n), max: 2n ** 127n - 1n });
    default:
      throw new Error(`no arbitrary for ${param.type}`);
  }
}

const KIND: Record<string, string> = {
  ModelInferenceEvent: 'ml',
  LLMChat: 'llm_chat',
  LLMCompletionEvent: 'llm_completion',
  BatchSettlement: 'batch_settlement',
  IndividualSettlement: 'individual_settlement',
};
const MODE: Record<number, string> = { 0: 'vanilla', 1: 'zkml', 2: 'tee' };

/** What a count of `log` should be, read from viem's full `decodeEventLog` of every parameter. */
function countFromFullDecode(event: AbiEvent, log: { topics: `0x${string}`[]; data: `0x${string}` }) {
  const args = decodeEventLog({ abi: [event], topics: log.topics as [`0x${string}`], data: log.data, strict: true })
    .args as unknown as unknown[];
  const kind = KIND[event.name]!;
  if (kind === 'batch_settlement') {
    const size = args[event.inputs.findIndex((p) => p.type === 'uint256')] as bigint;
    return size > BigInt(Number.MAX_SAFE_INTEGER)
      ? { ok: false, kind }
      : { ok: true, kind, mode: 'tee', inferences: Number(size) };
  }
  if (kind === 'individual_settlement') return { ok: true, kind, mode: 'tee', inferences: 1 };
  const mode = (args[1] as unknown[])[0] as number;
  return { ok: true, kind, mode: MODE[mode] ?? 'unknown', modeNumber: mode, inferences: 1 };
}

/**
 * What a count of these topics and data was before the counted part had its own reader: viem's
 * `decodeAbiParameters` of the counted parameters, read the same way (the reason of a failure aside).
 */
function countFromViem(topics: readonly `0x${string}`[], data: Uint8Array) {
  const spec = EVENTS.get(topics[0]!.toLowerCase())!;
  try {
    if (topics.length !== spec.topics) throw new Error('topics');
    const { modeNumber, inferences } = spec.read(decodeAbiParameters(spec.counted, data));
    const mode = modeNumber === null ? 'unknown' : (MODE[modeNumber] ?? 'unknown');
    return { ok: true, kind: spec.kind, mode, modeNumber, inferences };
  } catch {
    return { ok: false, kind: spec.kind };
  }
}

/** A 32-byte word holding `n`. */
const word = (n: bigint) => hexToBytes(`0x${n.toString(16).padStart(64, '0')}`);

/**
 * Any encoded event with its data corrupted where a reader of it can go wrong: words set to offsets and
 * lengths at, before and past the data's end, integers at the edge of the safe ones, any 32 bytes; the
 * data cut anywhere or lengthened.
 */
const corrupted = fc
  .constantFrom(...(ABI as readonly AbiEvent[]))
  .chain((event) => fc.tuple(fc.constant(event), fc.tuple(...event.inputs.map(valueOf))))
  .map(([event, args]) => encode(event, PRECOMPILE, args))
  .chain((log) => {
    const size = (log.data.length - 2) / 2;
    const value = fc.oneof(
      fc.constantFrom(0n, 1n, 2n, 31n, 32n, 64n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 56n, 2n ** 256n - 1n),
      fc.integer({ min: -96, max: 96 }).map((d) => BigInt(Math.max(0, size + d))),
      fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
    );
    // Mostly the first words, which hold the offsets, lengths and integers a count reads.
    const last = Math.max(0, size / 32 - 1);
    const edit = fc.oneof(
      fc.record({ at: fc.oneof(fc.nat({ max: Math.min(12, last) }), fc.nat({ max: last })), value }),
      fc.record({ cut: fc.nat({ max: size }) }),
      fc.record({ add: fc.uint8Array({ maxLength: 64 }) }),
    );
    return fc.tuple(fc.constant(log), fc.array(edit, { maxLength: 3 }));
  })
  .map(([log, edits]) => {
    let data = hexToBytes(log.data);
    for (const e of edits) {
      if ('at' in e) {
        if (32 * e.at + 32 > data.length) continue; // cut off by an edit before
        data = Uint8Array.from(data);
        data.set(word(e.value), 32 * e.at);
      } else if ('cut' in e) data = data.subarray(0, Math.min(e.cut, data.length));
      else data = Uint8Array.from([...data, ...e.add]);
    }
    return { topics: log.topics, data };
  });

describe('inference events', () => {
  it('asks for exactly the topic0 hashes DATA-SOURCES.md lists', () => {
    expect([...INFERENCE_TOPICS].sort()).toEqual(Object.values(TOPIC0).sort());
  });

  it('reads the mode from the request tuple of each precompile event', () => {
    const cases = [
      [mlInference(0), 'ml', 'vanilla'],
      [mlInference(1), 'ml', 'zkml'],
      [llmChat(2), 'llm_chat', 'tee'],
      [llmCompletion(0), 'llm_completion', 'vanilla'],
      [llmCompletion(9), 'llm_completion', 'unknown'],
    ] as const;
    for (const [log, kind, mode] of cases) {
      expect(decodeInference(log.topics, log.data)).toMatchObject({ ok: true, kind, mode, inferences: 1 });
    }
  });

  it('counts settlements as TEE, a batch by its size', () => {
    const b = batchSettlement(37);
    const i = individualSettlement();
    const o = oldBatchSettlement(4);
    expect(decodeInference(b.topics, b.data)).toMatchObject({
      ok: true,
      kind: 'batch_settlement',
      mode: 'tee',
      inferences: 37,
    });
    expect(decodeInference(i.topics, i.data)).toMatchObject({
      ok: true,
      kind: 'individual_settlement',
      mode: 'tee',
      inferences: 1,
    });
    expect(decodeInference(o.topics, o.data)).toMatchObject({
      ok: true,
      kind: 'batch_settlement',
      mode: 'tee',
      inferences: 4,
    });
  });

  it('reports truncated, odd or non-hex data as undecodable, naming the kind', () => {
    const ml = mlInference(0);
    for (const data of [ml.data.slice(0, 200), `${ml.data}0`, `${ml.data.slice(0, -2)}zz`, '0x'] as const) {
      expect(decodeInference(ml.topics, data as `0x${string}`)).toMatchObject({ ok: false, kind: 'ml' });
    }
    const b = batchSettlement(3);
    expect(decodeInference(b.topics, '0x1234')).toMatchObject({ ok: false, kind: 'batch_settlement' });
  });

  it.each(
    (ABI as readonly AbiEvent[]).map((event) => [`${event.name}(${event.inputs.length} parameters)`, event] as const),
  )('counts any %s as viem decoding all of it does', (_name, event) => {
    fc.assert(
      fc.property(fc.tuple(...event.inputs.map(valueOf)), (args) => {
        const log = encode(event, PRECOMPILE, args);
        expect(decodeInference(log.topics, log.data)).toMatchObject(countFromFullDecode(event, log));
      }),
      { numRuns: 150 },
    );
  });

  it('decodes the counted part exactly when viem does, to the same numbers, on encoded and on corrupted data', () => {
    fc.assert(
      fc.property(corrupted, ({ topics, data }) => {
        const { reason: _, ...count } = decodeInference(topics, data) as { reason?: string };
        expect(count).toEqual(countFromViem(topics, data));
      }),
      { numRuns: 3_000 },
    );
  });

  it('agrees with viem on every one of the first words of each event set to an edge value', () => {
    const edges = [0n, 1n, 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 56n - 1n, 2n ** 64n, 2n ** 256n - 1n];
    const logs = [
      mlInference(1),
      llmChat(2),
      llmCompletion(0),
      batchSettlement(5),
      individualSettlement(),
      oldBatchSettlement(2),
    ];
    let undecodable = 0;
    for (const log of logs) {
      const data = hexToBytes(log.data);
      const size = data.length;
      for (let at = 0; at < Math.min(16, size / 32); at++) {
        for (const value of [...edges, BigInt(size - 32), BigInt(size - 1), BigInt(size)]) {
          const edited = Uint8Array.from(data);
          edited.set(word(value), 32 * at);
          const { reason: _, ...count } = decodeInference(log.topics, edited) as { ok: boolean; reason?: string };
          expect(count).toEqual(countFromViem(log.topics, edited));
          if (!count.ok) undecodable++;
        }
      }
    }
    expect(undecodable).toBeGreaterThan(100); // the edits do reach what a count reads
  });

  it('takes the data as bytes as well as hex', () => {
    const log = llmChat(1);
    expect(decodeInference(log.topics, Buffer.from(log.data.slice(2), 'hex'))).toEqual(
      decodeInference(log.topics, log.data),
    );
  });

  it('reads no further than the request: a log cut off in its model output still counts', () => {
    const ml = mlInference(2);
    expect(decodeInference(ml.topics, ml.data.slice(0, -64) as `0x${string}`)).toMatchObject({
      ok: true,
      kind: 'ml',
      mode: 'tee',
    });
  });

  it('reports settlement logs with a topic missing or too many as undecodable', () => {
    const b = batchSettlement(3);
    expect(decodeInference(b.topics.slice(0, 1), b.data)).toMatchObject({ ok: false, kind: 'batch_settlement' });
    const i = individualSettlement();
    expect(decodeInference([...i.topics, i.topics[1]!], i.data)).toMatchObject({
      ok: false,
      kind: 'individual_settlement',
    });
  });

  it('leaves other events alone', () => {
    expect(decodeInference(['0x'.padEnd(66, '0') as `0x${string}`], '0x')).toMatchObject({ ok: false, kind: null });
  });
});
