import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UpstreamError } from '../../../src/core/errors.js';
import { JsonStreamError } from '../../../src/sources/json-item-splitter.js';
import { scanBlockAnswer, thinBlockAnswer } from '../../../src/sources/opengradient/block-scanner.js';
import { createOgRpc } from '../../../src/sources/opengradient/rpc.js';
import { createTestClock } from '../../helpers/clock.js';
import { startLoopbackServer } from '../../helpers/http-server.js';

/** What the scanner must give: the reference thinning of a full `JSON.parse`, or an error where it throws. */
function reference(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: thinBlockAnswer(JSON.parse(text)) };
  } catch {
    return { ok: false };
  }
}

function scan(text: string): { ok: true; value: unknown } | { ok: false; err: unknown } {
  try {
    return { ok: true, value: scanBlockAnswer(Buffer.from(text, 'utf8')) };
  } catch (err) {
    return { ok: false, err };
  }
}

function expectAgrees(text: string): void {
  const want = reference(text);
  const got = scan(text);
  if (want.ok) {
    expect(got).toEqual(want);
  } else {
    expect(got.ok).toBe(false);
    expect((got as { err: unknown }).err).toBeInstanceOf(JsonStreamError);
  }
}

const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
const quantity = fc.nat({ max: 2 ** 40 }).map((n) => `0x${n.toString(16)}`);

/** A transaction as a node answers it, the fields used among others, in any order, sometimes odd. */
const tx = fc
  .record(
    {
      hash: fc.oneof(hexOf(32), fc.jsonValue()),
      from: fc.oneof({ weight: 4, arbitrary: hexOf(20) }, { weight: 1, arbitrary: fc.jsonValue() }),
      input: hexOf(260),
      nonce: quantity,
      gas: quantity,
      to: fc.option(hexOf(20)),
      accessList: fc.array(fc.record({ address: hexOf(20), storageKeys: fc.array(hexOf(32), { maxLength: 2 }) }), { maxLength: 2 }),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .chain((t) => fc.shuffledSubarray(Object.entries(t), { minLength: Object.keys(t).length }).map((e) => Object.fromEntries(e)));

const block = fc.record(
  {
    number: fc.oneof(quantity, fc.jsonValue()),
    hash: hexOf(32),
    timestamp: fc.oneof(quantity, fc.jsonValue()),
    transactions: fc.oneof({ weight: 5, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: tx }, { weight: 1, arbitrary: fc.jsonValue() }), { maxLength: 6 }) }, { weight: 1, arbitrary: fc.jsonValue() }),
    withdrawals: fc.array(fc.jsonValue(), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const call = fc.record(
  {
    jsonrpc: fc.constant('2.0'),
    id: fc.oneof(fc.nat(), fc.string(), fc.constant(null)),
    result: fc.oneof({ weight: 6, arbitrary: block }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.jsonValue() }),
    error: fc.record({ code: fc.integer(), message: fc.string() }),
  },
  { requiredKeys: ['jsonrpc'] },
);

const answer = fc.oneof(fc.array(fc.oneof({ weight: 8, arbitrary: call }, { weight: 1, arbitrary: fc.jsonValue() }), { maxLength: 5 }), call);

/** The answer as text: compact (as nodes send it) or indented, with escaped keys now and then. */
const answerText = fc.tuple(answer, fc.constantFrom(undefined, 1, '\t'), fc.boolean()).map(([value, space, escapeKeys]) => {
  const text = JSON.stringify(value, null, space);
  // "from" written as "\u0066rom" and so on: the same key to JSON.parse.
  return escapeKeys ? text.replace(/"(from|hash|number|result)":/g, (_, k: string) => `"\\u00${k.charCodeAt(0).toString(16)}${k.slice(1)}":`) : text;
});

describe('scanBlockAnswer', () => {
  it('gives what a full JSON.parse gives, thinned, on any block answer', () => {
    fc.assert(fc.property(answerText, expectAgrees), { numRuns: 400 });
  });

  it('agrees with JSON.parse on any JSON value at all', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (value, space) => expectAgrees(JSON.stringify(value, null, space))), { numRuns: 400 });
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => expectAgrees(JSON.stringify({ result: { from: s, number: s }, id: s }))), { numRuns: 200 });
  });

  it('refuses exactly the bodies JSON.parse refuses: a byte cut, changed or added anywhere', () => {
    const mutation = fc.tuple(answerText, fc.nat(), fc.constantFrom('cut', 'drop', 'replace', 'insert'), fc.constantFrom(...'"\\{}[],:0-+.eE \n\u0001\u001fatfnux'.split('')));
    fc.assert(
      fc.property(mutation, ([text, at, how, c]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        const bad =
          how === 'cut' ? text.slice(0, i) : how === 'drop' ? text.slice(0, i) + text.slice(i + 1) : how === 'replace' ? text.slice(0, i) + c + text.slice(i + 1) : text.slice(0, i) + c + text.slice(i);
        expectAgrees(bad);
      }),
      { numRuns: 1_500 },
    );
  });

  it('refuses a control character or a bad escape inside a field it skips, as JSON.parse does', () => {
    const good = '{"jsonrpc":"2.0","id":1,"result":{"number":"0x1","timestamp":"0x2","transactions":[{"hash":"0xaa","from":"0xbb","input":"0xabcd"}]}}';
    expect(scanBlockAnswer(Buffer.from(good))).toEqual({ id: 1, result: { number: '0x1', timestamp: '0x2', transactions: [{ hash: '0xaa', from: '0xbb' }] } });
    for (const bad of ['0xab\u0000cd', '0xab\ncd', '0xab\\xcd', '0xab\\u12g4', '0xab\\']) {
      expect(() => scanBlockAnswer(Buffer.from(good.replace('0xabcd', bad)))).toThrow(JsonStreamError);
    }
    expect(() => scanBlockAnswer(Buffer.from(`${good} x`))).toThrow(JsonStreamError);
    expect(() => scanBlockAnswer(Buffer.from(''))).toThrow(JsonStreamError);
  });

  it('keeps the last of two equal keys, as JSON.parse does, and skips deep nesting without recursion', () => {
    const text = '{"result":{"transactions":[{"from":"0x01","from":"0x02","hash":"0x03"}],"number":"0x9","number":"0xa"},"id":7}';
    expectAgrees(text);
    expect(scanBlockAnswer(Buffer.from(text))).toEqual({ result: { transactions: [{ from: '0x02', hash: '0x03' }], number: '0xa' }, id: 7 });
    const deep = `{"result":{"number":"0x1","extra":${'['.repeat(50_000)}${']'.repeat(50_000)}},"id":1}`;
    expect(scanBlockAnswer(Buffer.from(deep))).toEqual({ result: { number: '0x1' }, id: 1 });
  });
});

describe('blocksWithSenders on answers read by the scanner', () => {
  async function rpcAnswering(body: string) {
    const server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    onTestFinished(() => server.close());
    return createOgRpc({ url: server.url, clock: createTestClock(), timeoutMs: 3_000, batchSize: 10, batchConcurrency: 1 });
  }

  const fullBlock = (n: number, from: string) =>
    `{"jsonrpc":"2.0","id":IDS,"result":{"number":"0x${n.toString(16)}","timestamp":"0x6000","transactions":[{"hash":"0xAB","from":${from},"input":"0x${'ab'.repeat(260)}"}]}}`;

  it('reads the sender of each transaction and the block time', async () => {
    const rpc = await rpcAnswering(`[${fullBlock(5, '"0xC0FFEE"').replace('IDS', '1')}]`);
    const got = await rpc.blocksWithSenders([5]);
    expect(got.get(5)).toEqual({ timeMs: 0x6000 * 1000, senders: new Map([['0xab', '0xc0ffee']]) });
  });

  it('refuses a transaction whose sender is not hex, naming the field', async () => {
    const rpc = await rpcAnswering(`[${fullBlock(5, '42').replace('IDS', '1')}]`);
    const err = await rpc.blocksWithSenders([5]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toMatch(/transactions\.from/);
  });

  it('refuses a body that is not JSON, even where only a skipped field is broken', async () => {
    const rpc = await rpcAnswering(`[${fullBlock(5, '"0xc0ffee"').replace('IDS', '1').replace('"input":"0x', '"input":"0x\u0001')}]`);
    const err = await rpc.blocksWithSenders([5]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toMatch(/not JSON/);
  });
});
