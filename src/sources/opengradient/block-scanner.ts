/**
 * Reads an answer to `eth_getBlockByNumber(n, true)` calls (one call or a JSON-RPC batch) without building
 * every field of every transaction: a block of inference transactions carries each one's input, signature,
 * gas and so on, and only each transaction's `hash` and `from` and the block's `number` and `timestamp` are
 * used. The bytes are checked against the JSON grammar as a whole (a body `JSON.parse` refuses is refused
 * here, with where), but only the fields used are turned into values: the result is exactly what
 * `thinBlockAnswer(JSON.parse(body))` gives, which the tests check on generated answers. What those values
 * mean (hex, ranges, the block asked for) is checked by the caller, as it would be on a full parse.
 */
import { isAscii } from 'node:buffer';
import { JsonStreamError } from '../json-item-splitter.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** The members kept at each level; everything else is checked and skipped. */
const CALL_KEYS = ['id', 'error', 'result'] as const;
const BLOCK_KEYS = ['number', 'timestamp', 'transactions'] as const;
const TX_KEYS = ['hash', 'from'] as const;

type Json = unknown;

function pick(value: Json, keys: readonly string[]): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, Json> = {};
  for (const k of keys) if (Object.hasOwn(value, k)) out[k] = (value as Record<string, Json>)[k];
  return out;
}

function thinBlock(result: Json): Json {
  const block = pick(result, BLOCK_KEYS);
  if (block !== result && Array.isArray((block as { transactions?: Json }).transactions)) {
    const b = block as { transactions: Json[] };
    b.transactions = b.transactions.map((tx) => pick(tx, TX_KEYS));
  }
  return block;
}

function thinCall(item: Json): Json {
  const call = pick(item, CALL_KEYS);
  if (call !== item && Object.hasOwn(call as object, 'result')) {
    const c = call as { result: Json };
    c.result = thinBlock(c.result);
  }
  return call;
}

/**
 * The reference the scanner must agree with, on an already parsed answer: each call object keeps only
 * `id`, `error` and `result`; a result that is an object keeps `number`, `timestamp` and `transactions`;
 * each transaction that is an object keeps `hash` and `from`. Anything else is kept as it is.
 */
export function thinBlockAnswer(answer: Json): Json {
  return Array.isArray(answer) ? answer.map(thinCall) : thinCall(answer);
}

const EMPTY = Buffer.alloc(0);

// The scanner's state: one answer is scanned at a time, synchronously.
let buf: Buffer = EMPTY;
/** The same bytes as a one-byte string (latin1: one character a byte, same offsets), for the regular expressions. */
let text = '';
/**
 * Whether the body is plain ASCII without backslashes or control characters (a node's compact answer of hex
 * strings always is): strings then end at the next quote and their values are their bytes, read as such.
 */
let plain = false;
let pos = 0;
/** Whether the last string scanned had an escape (so its bytes are not its value). */
let escapes = false;
/** Containers open while skipping a value: 1 object, 0 array. */
const stack: number[] = [];

function fail(message: string): never {
  throw new JsonStreamError(message, pos);
}

function skipSpace(): void {
  for (;;) {
    const c = buf[pos];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
    else return;
  }
}

function isHexDigit(c: number | undefined): boolean {
  return c !== undefined && ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** A JSON string's rest after its opening quote, as JSON allows it: no control characters, known escapes. */
const STRING_REST = /[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"/y;
/** The same, without escapes: most strings. */
const PLAIN_REST = /[^"\\\x00-\x1f]*"/y;

/** Whether any byte is below 0x20 (a control character), four bytes at a time. */
function hasControl(b: Buffer): boolean {
  let i = 0;
  if (b.byteOffset % 4 === 0) {
    const words = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
    let seen = 0;
    // Sets a byte's top bit when some byte of the word is below 0x20 (bytes are ASCII here, below 0x80).
    for (let w = 0; w < words.length; w++) seen |= (words[w]! - 0x20202020) & ~words[w]! & 0x80808080;
    if (seen !== 0) return true;
    i = words.length * 4;
  }
  for (; i < b.length; i++) if (b[i]! < 0x20) return true;
  return false;
}

/** ASCII throughout, with no backslash and no control character (not even whitespace). */
function isPlain(b: Buffer): boolean {
  return isAscii(b) && b.indexOf(BACKSLASH) < 0 && !hasControl(b);
}

/** At an opening quote: moves past the closing one. Control characters and bad escapes are refused. */
function skipString(): void {
  if (plain) {
    // No escapes, control characters or non-ASCII anywhere: the next quote closes the string, and it is valid.
    const q = text.indexOf('"', pos + 1);
    if (q < 0) {
      pos = text.length;
      fail('body ended inside a string');
    }
    escapes = false;
    pos = q + 1;
    return;
  }
  PLAIN_REST.lastIndex = pos + 1;
  if (PLAIN_REST.test(text)) {
    escapes = false;
    pos = PLAIN_REST.lastIndex;
    return;
  }
  STRING_REST.lastIndex = pos + 1;
  if (!STRING_REST.test(text)) fail('not a JSON string (a control character, a bad escape, or no closing quote)');
  escapes = true;
  pos = STRING_REST.lastIndex;
}

function skipDigits(): number {
  const start = pos;
  while (buf[pos]! >= ZERO && buf[pos]! <= NINE) pos++;
  return pos - start;
}

function skipNumber(): void {
  if (buf[pos] === MINUS) pos++;
  if (buf[pos] === ZERO) pos++;
  else if (skipDigits() === 0) fail('not a JSON value');
  if (buf[pos] === DOT) {
    pos++;
    if (skipDigits() === 0) fail('no digits after a decimal point');
  }
  if (buf[pos] === 0x65 || buf[pos] === 0x45) {
    pos++;
    if (buf[pos] === PLUS || buf[pos] === MINUS) pos++;
    if (skipDigits() === 0) fail('no digits in an exponent');
  }
}

function skipWord(word: string): void {
  for (let k = 0; k < word.length; k++) {
    if (buf[pos + k] !== word.charCodeAt(k)) fail('not a JSON value');
  }
  pos += word.length;
}

/** A string, number or literal at `pos`. */
function skipScalar(): void {
  const c = buf[pos];
  if (c === QUOTE) skipString();
  else if (c === 0x74) skipWord('true');
  else if (c === 0x66) skipWord('false');
  else if (c === 0x6e) skipWord('null');
  else if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) skipNumber();
  else fail(c === undefined ? 'body ended where a value was expected' : 'not a JSON value');
}

/** At an object's member (whitespace skipped): moves past its key and colon, to its value. */
function skipKey(): void {
  if (buf[pos] !== QUOTE) fail('expected a key');
  skipString();
  skipSpace();
  if (buf[pos] !== COLON) fail("expected ':'");
  pos++;
  skipSpace();
}

/** Any value at `pos` (whitespace skipped), checked, without building it. Containers are walked without recursion. */
function skipValue(): void {
  let depth = 0;
  for (;;) {
    const c = buf[pos];
    if (c === LBRACE || c === LBRACKET) {
      pos++;
      skipSpace();
      if (buf[pos] === (c === LBRACE ? RBRACE : RBRACKET)) {
        pos++;
      } else {
        stack[depth++] = c === LBRACE ? 1 : 0;
        if (c === LBRACE) skipKey();
        continue;
      }
    } else {
      skipScalar();
    }
    // After a value: close containers, or move to the next member or element.
    for (;;) {
      if (depth === 0) return;
      skipSpace();
      const d = buf[pos];
      const object = stack[depth - 1] === 1;
      if (d === COMMA) {
        pos++;
        skipSpace();
        if (object) skipKey();
        break;
      }
      if (d === (object ? RBRACE : RBRACKET)) {
        pos++;
        depth--;
        continue;
      }
      fail(object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
}

/** The value at `pos`, built: strings straight from their bytes, anything else by `JSON.parse` of its (checked) bytes. */
function readValue(): Json {
  const start = pos;
  if (buf[pos] === QUOTE) {
    skipString();
    if (plain) return text.slice(start + 1, pos - 1);
    if (!escapes) return buf.toString('utf8', start + 1, pos - 1);
  } else {
    skipValue();
  }
  return JSON.parse(buf.toString('utf8', start, pos)) as Json;
}

/** At a key: which of `keys` it is (-1 for none), past its colon. Escaped keys are decoded as JSON.parse would. */
function readKey(keys: readonly string[]): number {
  if (buf[pos] !== QUOTE) fail('expected a key');
  const start = pos + 1;
  skipString();
  const end = pos - 1;
  let found = -1;
  if (escapes) {
    found = keys.indexOf(JSON.parse(buf.toString('utf8', start - 1, end + 1)) as string);
  } else {
    for (let k = 0; k < keys.length && found < 0; k++) {
      const key = keys[k]!;
      if (key.length !== end - start) continue;
      let same = true;
      for (let j = 0; j < key.length && same; j++) same = buf[start + j] === key.charCodeAt(j);
      if (same) found = k;
    }
  }
  skipSpace();
  if (buf[pos] !== COLON) fail("expected ':'");
  pos++;
  skipSpace();
  return found;
}

/**
 * Reads an object's members at `pos` (an opening brace, whitespace skipped), handing each kept key's index
 * to `member`, which must consume its value; other members are skipped.
 */
function readObject(keys: readonly string[], member: (key: number) => void): void {
  pos++;
  skipSpace();
  if (buf[pos] === RBRACE) {
    pos++;
    return;
  }
  for (;;) {
    const key = readKey(keys);
    if (key < 0) skipValue();
    else member(key);
    skipSpace();
    const c = buf[pos];
    if (c === RBRACE) {
      pos++;
      return;
    }
    if (c !== COMMA) fail("expected ',' or '}'");
    pos++;
    skipSpace();
  }
}

/** Reads an array at `pos` (an opening bracket), each element by `element`. */
function readArray<T>(element: () => T): T[] {
  const out: T[] = [];
  pos++;
  skipSpace();
  if (buf[pos] === RBRACKET) {
    pos++;
    return out;
  }
  for (;;) {
    out.push(element());
    skipSpace();
    const c = buf[pos];
    if (c === RBRACKET) {
      pos++;
      return out;
    }
    if (c !== COMMA) fail("expected ',' or ']'");
    pos++;
    skipSpace();
  }
}

function scanTx(): Json {
  if (buf[pos] !== LBRACE) return readValue();
  const tx: Record<string, Json> = {};
  readObject(TX_KEYS, (k) => {
    tx[TX_KEYS[k]!] = readValue();
  });
  return tx;
}

function scanBlock(): Json {
  if (buf[pos] !== LBRACE) return readValue();
  const block: Record<string, Json> = {};
  readObject(BLOCK_KEYS, (k) => {
    block[BLOCK_KEYS[k]!] = k === 2 && buf[pos] === LBRACKET ? readArray(scanTx) : readValue();
  });
  return block;
}

function scanCall(): Json {
  if (buf[pos] !== LBRACE) return readValue();
  const call: Record<string, Json> = {};
  readObject(CALL_KEYS, (k) => {
    call[CALL_KEYS[k]!] = k === 2 ? scanBlock() : readValue();
  });
  return call;
}

/**
 * The answer in `body`, thinned as `thinBlockAnswer` describes, read straight from its bytes.
 * @throws JsonStreamError when the body is not JSON, with the byte where that showed.
 */
export function scanBlockAnswer(body: Buffer): Json {
  buf = body;
  text = body.toString('latin1');
  plain = isPlain(body);
  pos = 0;
  try {
    skipSpace();
    const answer = buf[pos] === LBRACKET ? readArray(scanCall) : scanCall();
    skipSpace();
    if (pos !== buf.length) fail('more after the answer');
    return answer;
  } finally {
    buf = EMPTY; // not kept alive until the next answer
    text = '';
  }
}
