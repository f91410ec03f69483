import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJsonItemSplitter, JsonStreamError } from '../../src/sources/json-item-splitter.js';

/** Feeds `bytes` cut at `cuts` (any byte positions, sorted or not) and returns what the splitter made of it. */
function split(bytes: Uint8Array, cuts: readonly number[] = [], key = 'result') {
  const items: unknown[] = [];
  const splitter = createJsonItemSplitter(key, (item) => items.push(item));
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...at, bytes.length]) {
    splitter.push(bytes.subarray(from, to));
    from = to;
  }
  const { value, items: count, streamed } = splitter.end();
  expect(count).toBe(items.length);
  return { items, value, streamed };
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** What the splitter should produce for `text`, from `JSON.parse`; null when `JSON.parse` refuses it. */
function expected(text: string, key = 'result'): { items: unknown[]; value: unknown } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { items: [], value };
  const list = (value as Record<string, unknown>)[key];
  if (!Array.isArray(list)) return { items: [], value };
  return { items: list, value: { ...value, [key]: [] } };
}

/** Characters that trip a naive splitter: brackets and quotes inside strings, escapes, multi-byte UTF-8. */
const tricky = fc.oneof(
  fc.constantFrom(
    '[',
    ']',
    '{',
    '}',
    '"',
    '\\',
    ',',
    ':',
    ' ',
    '\n',
    '\u0000',
    '\u001f',
    'é',
    '€',
    '😀',
    '\u2028',
    '\ud800',
    '\\"',
    '\\\\',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const jsonValue = fc.jsonValue({ maxDepth: 4, stringUnit: tricky });
const envelope = fc.dictionary(
  fc.string({ unit: tricky, maxLength: 8 }).filter((k) => k !== 'result' && k !== '__proto__'),
  jsonValue,
  { maxKeys: 3 },
);
const indent = fc.constantFrom(undefined, 0, 1, '\t', '\r\n ');
/** A JSON-RPC-like body: other members before and after the array, any indentation. */
const body = fc
  .record({ before: envelope, items: fc.array(jsonValue, { maxLength: 12 }), after: envelope, indent })
  .map(({ before, items, after, indent: gap }) => JSON.stringify({ ...before, result: items, ...after }, null, gap));
const cuts = fc.array(fc.nat(), { maxLength: 12 });

describe('JSON item splitter', () => {
  it('hands over the same items, in order, as JSON.parse of the whole body, wherever the chunks break', () => {
    fc.assert(
      fc.property(body, cuts, (text, at) => {
        const want = expected(text)!;
        const got = split(utf8(text), at);
        expect(got.items).toEqual(want.items);
        expect(got.value).toEqual(want.value);
        expect(got).toMatchObject({ items: want.items, streamed: true });
      }),
      { numRuns: 500 },
    );
  });

  it('also splits when every chunk is one byte', () => {
    fc.assert(
      fc.property(body, (text) => {
        const bytes = utf8(text);
        const got = split(
          bytes,
          Array.from({ length: bytes.length }, (_, i) => i),
        );
        expect(got.items).toEqual(expected(text)!.items);
      }),
      { numRuns: 100 },
    );
  });

  it('accepts a body exactly when JSON.parse does, after any edit: a cut, a lost or an added character', () => {
    const edited = fc
      .tuple(
        body,
        fc.nat(),
        fc.constantFrom('cut', 'drop', 'add'),
        fc.constantFrom('[', ']', '{', '}', '"', '\\', ',', ':', ' ', '0', 'x'),
      )
      .map(([text, n, edit, c]) => {
        const chars = [...text];
        const at = n % (chars.length + 1);
        if (edit === 'cut') return chars.slice(0, at).join('');
        if (edit === 'drop') return chars.filter((_, i) => i !== at).join('');
        return [...chars.slice(0, at), c, ...chars.slice(at)].join('');
      });
    fc.assert(
      fc.property(edited, cuts, (text, at) => {
        const want = expected(text);
        if (want === null) {
          expect(() => split(utf8(text), at)).toThrow(JsonStreamError);
        } else {
          const got = split(utf8(text), at);
          expect(got.items).toEqual(want.items);
          expect(got.value).toEqual(want.value);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('reads brackets, quotes and escapes inside strings as text', () => {
    const text =
      String.raw`{"id":1,"result":["]", "\"]", "\\", "\\\"}", {"a":"[{\"}"}, "\u005d", ` +
      String.raw`["x", {"]":"["}]],"more":"]"}`;
    const want = JSON.parse(text) as { result: unknown[] };
    for (let cut = 0; cut <= text.length; cut++) {
      expect(split(utf8(text), [cut]).items).toEqual(want.result);
    }
  });

  it('keeps a multi-byte character whole when a chunk ends inside it', () => {
    const bytes = utf8('{"result":["😀€é","x"]}');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(split(bytes, [cut]).items).toEqual(['😀€é', 'x']);
    }
  });

  it('streams the array under an escaped spelling of the key, and only the top-level one', () => {
    expect(split(utf8(String.raw`{"res\u0075lt":[1,2]}`)).items).toEqual([1, 2]);
    const nested = split(utf8('{"a":{"result":[1]},"b":[{"result":[2]}],"result":[3]}'));
    expect(nested.items).toEqual([3]);
    expect(nested.value).toEqual({ a: { result: [1] }, b: [{ result: [2] }], result: [] });
  });

  it('returns a body without the array whole and unstreamed', () => {
    expect(split(utf8('{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"limit exceeded"}}'))).toEqual({
      items: [],
      value: { jsonrpc: '2.0', id: 1, error: { code: -32005, message: 'limit exceeded' } },
      streamed: false,
    });
    expect(split(utf8('{"result":null}'))).toMatchObject({ value: { result: null }, streamed: false });
    expect(split(utf8('[1,2]'))).toMatchObject({ items: [], value: [1, 2], streamed: false });
  });

  it.each([
    ['a trailing comma', '{"result":[1,2,]}'],
    ['a leading comma', '{"result":[,1]}'],
    ['two commas', '{"result":[1,,2]}'],
    ['a missing comma', '{"result":[1 2]}'],
    ['a bad item', '{"result":[{"a":1},{"a":]}'],
    ['mismatched brackets in an item', '{"result":[{"a":[1}]]}'],
    ['a body cut inside an item', '{"result":[{"a":"x'],
    ['a body cut between items', '{"result":[1,'],
    ['a body cut after the array', '{"result":[1]'],
    ['an empty body', ''],
    ['HTML', '<html><body>502 Bad Gateway</body></html>'],
    ['a second result after the streamed one', '{"result":[1],"result":null}'],
  ])('raises a JsonStreamError on %s', (_what, text) => {
    expect(() => split(utf8(text))).toThrow(JsonStreamError);
  });

  it('says where a malformed body went wrong, and stays failed', () => {
    const items: unknown[] = [];
    const splitter = createJsonItemSplitter('result', (item) => items.push(item));
    splitter.push(utf8('{"result":[1,'));
    expect(() => splitter.push(utf8(',2]}'))).toThrow(/at byte 13/);
    expect(() => splitter.end()).toThrow(JsonStreamError);
    expect(items).toEqual([1]);
  });

  it('lets an error thrown by onItem out as it is', () => {
    const splitter = createJsonItemSplitter('result', () => {
      throw new RangeError('refused');
    });
    expect(() => splitter.push(utf8('{"result":[1]}'))).toThrow(RangeError);
  });
});
