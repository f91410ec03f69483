/**
 * A small JSON-RPC client for the OpenGradient EVM node, over the shared undici helper. Only the four
 * calls the indexer needs (batched ones share one limit of batches in flight). Every answer is checked
 * before it goes further: a JSON-RPC error object becomes a `JsonRpcError` (an `UpstreamError` with the
 * node's code), a malformed result an `UpstreamError`.
 * `eth_getLogs` answers run to megabytes: they are read log by log as they arrive, never held whole.
 * Block headers are cached (bounded), since many logs share a block.
 */
import { LRUCache } from 'lru-cache';
import type { Dispatcher } from 'undici';
import { UpstreamError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { requestJson, requestJsonItems, type JsonRequest } from '../http.js';
import { hexToBytes } from './events.js';

export const OG_RPC = 'OpenGradient RPC';

/** The node answered with a JSON-RPC error object. `code` is the node's, such as -32005 for limits. */
export class JsonRpcError extends UpstreamError {
  constructor(
    readonly code: number,
    readonly rpcMessage: string,
    method: string,
  ) {
    super(OG_RPC, `${method} refused (${code}): ${rpcMessage.slice(0, 160)}`);
  }
}

/** A log as `eth_getLogs` returns it, after validation. Numbers are safe integers. */
export interface RpcLog {
  address: string;
  topics: readonly `0x${string}`[];
  /** The data's bytes (its hex checked and converted once, here). */
  data: Uint8Array;
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
  removed: boolean;
  /** Seconds, when the node sends `blockTimestamp`. */
  blockTimestampSec: number | null;
}

export interface LogFilter {
  fromBlock: number;
  toBlock: number;
  addresses: readonly string[];
  /** topic0 alternatives. */
  topic0: readonly string[];
}

export interface OgRpc {
  blockNumber(): Promise<number>;
  /**
   * `eth_getLogs`, streamed: each log is validated and handed to `onLog` as soon as it has arrived, and the
   * promise resolves with how many there were once the answer is complete. When it rejects (a body cut
   * off, a malformed log, a JSON-RPC error after the logs), the logs handed over were not an answer:
   * whatever was made of them must be dropped. `onLog` may throw to abandon the answer.
   */
  scanLogs(filter: LogFilter, onLog: (log: RpcLog) => void): Promise<number>;
  /** Block time in ms, from a cached header. */
  blockTimeMs(block: number): Promise<number>;
  /**
   * `eth_getBlockByNumber(n, true)` for each block, in JSON-RPC batches: each block's time (which also fills
   * the header cache) and the sender of each of its transactions. A batch the node refuses as too large is
   * halved; blocks whose answers the node cut for size are asked again in smaller batches. A block whose
   * full read the node refuses for size even alone is answered `null`: read the transactions needed with
   * `transactionSenders` and the time with `blockTimeMs` instead.
   */
  blocksWithSenders(blocks: readonly number[]): Promise<Map<number, BlockSenders | null>>;
  /**
   * `eth_getTransactionByHash` for each hash, in JSON-RPC batches within the same limits: lowercase hash →
   * lowercase `from`.
   */
  transactionSenders(hashes: readonly string[]): Promise<Map<string, string>>;
}

/** One block's time and who sent each of its transactions (lowercase hash → lowercase `from`). */
export interface BlockSenders {
  timeMs: number;
  senders: Map<string, string>;
}

export interface OgRpcOptions {
  url: string;
  clock: Clock;
  /** Never left to undici's process-wide global agent: see adapters/discord/rest-request.ts. */
  dispatcher: Dispatcher;
  /** Per call. Default 20 s: a wide `eth_getLogs` can be slow. */
  timeoutMs?: number;
  /** Headers kept in memory. Default 4,096. */
  headerCacheSize?: number;
  /**
   * Calls per JSON-RPC batch at first. Default 100: geth-based nodes take up to 1,000 calls and 25 MB an
   * answer by default, and a block of inference transactions carries their model inputs.
   */
  batchSize?: number;
  /** Batches in flight at once, for all callers of this client together. Default 2. */
  batchConcurrency?: number;
}

/** The node refused a whole batch for its number of calls (geth: -32600 'batch too large'). */
function isBatchRefusal(code: number, message: string): boolean {
  return (
    /batch/i.test(message) &&
    /large|limit|exceed|many/i.test(message) &&
    (code === -32600 || code === -32005 || code === -32000)
  );
}

/** The node left one call of a batch unanswered because the batch's answer grew too large (geth: -32003). */
function isSizeRefusal(code: number, message: string): boolean {
  return code === -32003 || /response too large|size limit|too large/i.test(message);
}

const HEX = /^0x[0-9a-fA-F]+$/;

/** How one method is read in batches; `size` is its calls per batch, halved when the node refuses or cuts. */
interface BatchedRead<K, T> {
  method: string;
  params(key: K): unknown[];
  parse(result: unknown, key: K): T;
  size: number;
  /** A single call refused for size: answered `null`, or thrown. */
  aloneTooLarge: 'null' | 'throw';
}

/** Runs at most `n` tasks at once, the others waiting in order: a small semaphore. */
export function createLimit(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The place passes straight to the next in line, or is freed.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

function quantity(value: unknown, field: string): number {
  if (typeof value !== 'string' || !HEX.test(value))
    throw new UpstreamError(OG_RPC, `field '${field}' is not a hex quantity`);
  const n = Number.parseInt(value, 16);
  if (!Number.isSafeInteger(n)) throw new UpstreamError(OG_RPC, `field '${field}' is out of range`);
  return n;
}

function hexBytes(value: unknown, field: string): Uint8Array {
  try {
    if (typeof value === 'string') return hexToBytes(value);
  } catch {
    // reported below, with the field
  }
  throw new UpstreamError(OG_RPC, `field '${field}' is not hex data`);
}

function hexString(value: unknown, field: string): `0x${string}` {
  if (typeof value !== 'string' || !(value === '0x' || HEX.test(value)))
    throw new UpstreamError(OG_RPC, `field '${field}' is not hex data`);
  return value as `0x${string}`;
}

/** Validates one raw log; throws `UpstreamError` naming the field. */
export function parseLog(raw: unknown): RpcLog {
  if (typeof raw !== 'object' || raw === null) throw new UpstreamError(OG_RPC, 'a log is not an object');
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r.topics)) throw new UpstreamError(OG_RPC, "field 'topics' is not a list");
  return {
    address: hexString(r.address, 'address').toLowerCase(),
    topics: r.topics.map((t, i) => hexString(t, `topics.${i}`)),
    data: hexBytes(r.data, 'data'),
    blockNumber: quantity(r.blockNumber, 'blockNumber'),
    logIndex: quantity(r.logIndex, 'logIndex'),
    transactionHash: typeof r.transactionHash === 'string' ? r.transactionHash : '',
    removed: r.removed === true,
    blockTimestampSec:
      r.blockTimestamp === undefined || r.blockTimestamp === null ? null : quantity(r.blockTimestamp, 'blockTimestamp'),
  };
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** A client for one node URL. Calls are not retried here: the indexer decides how to retry. */
export function createOgRpc(options: OgRpcOptions): OgRpc {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const cacheSize = options.headerCacheSize ?? 4_096;
  // Block times by number: the indexer asks for recent blocks again and again, rarely for old ones.
  const headers = new LRUCache<number, number>({ max: cacheSize });
  const http = { dispatcher: options.dispatcher, timeoutMs };
  let nextId = 1;

  function rpcRequest(method: string, params: unknown[]): JsonRequest {
    return {
      source: OG_RPC,
      url: options.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    };
  }

  /** The `result` of a JSON-RPC answer; throws on an error object or an answer that is not JSON-RPC. */
  function resultOf(method: string, body: unknown): unknown {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new UpstreamError(OG_RPC, `${method}: answer is not a JSON-RPC object`);
    const envelope = body as { error?: unknown; result?: unknown };
    if (envelope.error !== undefined && envelope.error !== null) {
      const e = envelope.error as { code?: unknown; message?: unknown };
      throw new JsonRpcError(
        typeof e.code === 'number' ? e.code : 0,
        typeof e.message === 'string' ? e.message : 'no message',
        method,
      );
    }
    if (!('result' in envelope)) throw new UpstreamError(OG_RPC, `${method}: answer has no result`);
    return envelope.result;
  }

  async function call(method: string, params: unknown[]): Promise<unknown> {
    return resultOf(method, await requestJson(http, rpcRequest(method, params), options.clock.now()));
  }

  async function scanLogs(
    { fromBlock, toBlock, addresses, topic0 }: LogFilter,
    onLog: (log: RpcLog) => void,
  ): Promise<number> {
    const request = rpcRequest('eth_getLogs', [
      { fromBlock: hex(fromBlock), toBlock: hex(toBlock), address: addresses, topics: [topic0] },
    ]);
    const answer = await requestJsonItems(
      http,
      request,
      'result',
      (raw) => {
        const log = parseLog(raw);
        if (log.blockNumber < fromBlock || log.blockNumber > toBlock) {
          throw new UpstreamError(
            OG_RPC,
            `eth_getLogs answered block ${log.blockNumber} outside ${fromBlock}-${toBlock}`,
          );
        }
        onLog(log);
      },
      options.clock.now(),
    );
    resultOf('eth_getLogs', answer.value);
    if (!answer.streamed) throw new UpstreamError(OG_RPC, 'eth_getLogs result is not a list');
    return answer.items;
  }

  // A node (or a proxy in front of it) that answers a batch with one error object takes no batches at all.
  let batching = true;
  const batchConcurrency = Math.max(1, options.batchConcurrency ?? 2);
  const inFlight = createLimit(batchConcurrency);

  function cacheHeader(block: number, ms: number): void {
    if (!headers.has(block)) headers.set(block, ms);
  }

  /** Validates one full block: its number, time, and each transaction's hash and sender. */
  function parseFullBlock(result: unknown, block: number): BlockSenders {
    if (result === null) throw new UpstreamError(OG_RPC, `eth_getBlockByNumber: block ${block} not found`);
    if (typeof result !== 'object') throw new UpstreamError(OG_RPC, 'eth_getBlockByNumber result is not a block');
    const b = result as { number?: unknown; timestamp?: unknown; transactions?: unknown };
    if (quantity(b.number, 'number') !== block)
      throw new UpstreamError(OG_RPC, `eth_getBlockByNumber answered another block than ${block}`);
    const timeMs = quantity(b.timestamp, 'timestamp') * 1000;
    if (!Array.isArray(b.transactions))
      throw new UpstreamError(OG_RPC, `block ${block}: field 'transactions' is not a list`);
    const senders = new Map<string, string>();
    for (const tx of b.transactions) {
      if (typeof tx !== 'object' || tx === null)
        throw new UpstreamError(
          OG_RPC,
          `block ${block}: a transaction is not an object (asked with full transactions)`,
        );
      const t = tx as { hash?: unknown; from?: unknown };
      senders.set(
        hexString(t.hash, 'transactions.hash').toLowerCase(),
        hexString(t.from, 'transactions.from').toLowerCase(),
      );
    }
    cacheHeader(block, timeMs);
    return { timeMs, senders };
  }

  /** Validates one transaction: the hash asked for, and its sender (lowercase). */
  function parseTransaction(result: unknown, hash: string): string {
    if (result === null) throw new UpstreamError(OG_RPC, `eth_getTransactionByHash: transaction ${hash} not found`);
    if (typeof result !== 'object')
      throw new UpstreamError(OG_RPC, 'eth_getTransactionByHash result is not a transaction');
    const t = result as { hash?: unknown; from?: unknown };
    if (hexString(t.hash, 'hash').toLowerCase() !== hash)
      throw new UpstreamError(OG_RPC, `eth_getTransactionByHash answered another transaction than ${hash}`);
    return hexString(t.from, 'from').toLowerCase();
  }

  const fullBlocks: BatchedRead<number, BlockSenders> = {
    method: 'eth_getBlockByNumber',
    params: (block) => [hex(block), true],
    parse: parseFullBlock,
    size: Math.max(1, options.batchSize ?? 100),
    aloneTooLarge: 'null',
  };
  const transactions: BatchedRead<string, string> = {
    method: 'eth_getTransactionByHash',
    params: (hash) => [hash],
    parse: parseTransaction,
    size: Math.max(1, options.batchSize ?? 100),
    aloneTooLarge: 'throw',
  };

  /** One batch; resolves the calls answered and those to ask again (cut for size, or the batch refused). */
  async function fetchBatch<K, T>(read: BatchedRead<K, T>, asked: readonly K[], out: Map<K, T | null>): Promise<K[]> {
    // Without batches, one call per request (a batch cut up while others were in flight comes back here).
    const keys = batching ? asked : asked.slice(0, 1);
    const later = asked.slice(keys.length);
    const ids = keys.map(() => nextId++);
    const calls = keys.map((k, i) => ({ jsonrpc: '2.0', id: ids[i], method: read.method, params: read.params(k) }));
    const body = JSON.stringify(batching ? calls : calls[0]);
    const answer = await requestJson(
      http,
      { source: OG_RPC, url: options.url, method: 'POST', headers: { 'content-type': 'application/json' }, body },
      options.clock.now(),
    );
    if (batching && !Array.isArray(answer)) {
      batching = false;
      return [...asked];
    }
    const items = Array.isArray(answer) ? answer : [answer];
    const byId = new Map<unknown, { result?: unknown; error?: { code?: unknown; message?: unknown } }>();
    for (const item of items) {
      if (typeof item !== 'object' || item === null)
        throw new UpstreamError(OG_RPC, 'batch answer holds something that is not a JSON-RPC object');
      byId.set((item as { id?: unknown }).id, item as never);
    }
    const again: K[] = [...later];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const item = byId.get(ids[i]);
      const error =
        item?.error ??
        (items.length === 1 && keys.length > 1
          ? (items[0] as { error?: { code?: unknown; message?: unknown } }).error
          : undefined);
      if (error) {
        const code = typeof error.code === 'number' ? error.code : 0;
        const message = typeof error.message === 'string' ? error.message : 'no message';
        if (keys.length > 1 && isBatchRefusal(code, message)) return [...asked];
        if (isSizeRefusal(code, message)) {
          if (keys.length > 1) {
            again.push(key);
            continue;
          }
          // Refused alone: no smaller batch can pass. The caller reads what it needs another way.
          if (read.aloneTooLarge === 'null') {
            out.set(key, null);
            continue;
          }
        }
        throw new JsonRpcError(code, message, read.method);
      }
      if (!item || !('result' in item))
        throw new UpstreamError(OG_RPC, `batch answer lacks the call for ${String(key)}`);
      out.set(key, read.parse(item.result, key));
    }
    return again;
  }

  /**
   * Every key's answer, in batches of the read's size. Every batch of this client, whoever asked for it,
   * waits for one of the `batchConcurrency` places in flight, and takes its calls once it has one, at the
   * size the node's last answers left.
   */
  async function readBatched<K, T>(read: BatchedRead<K, T>, keys: readonly K[]): Promise<Map<K, T | null>> {
    const out = new Map<K, T | null>();
    const pending = [...new Set(keys)];
    const sendNext = async () => {
      if (pending.length === 0) return;
      const size = batching ? read.size : 1;
      const again = await fetchBatch(read, pending.splice(0, size), out);
      if (again.length > 0) {
        // Refused or cut: smaller batches from now on (never below one call, which the node must answer).
        read.size = Math.min(read.size, Math.max(1, Math.floor(size / 2)));
        pending.unshift(...again);
      }
    };
    const worker = async () => {
      while (pending.length > 0) await inFlight(sendNext);
    };
    await Promise.all(Array.from({ length: Math.min(batchConcurrency, Math.max(1, pending.length)) }, worker));
    return out;
  }

  async function blocksWithSenders(blocks: readonly number[]): Promise<Map<number, BlockSenders | null>> {
    return readBatched(fullBlocks, blocks);
  }

  async function transactionSenders(hashes: readonly string[]): Promise<Map<string, string>> {
    const got = await readBatched(
      transactions,
      hashes.map((h) => h.toLowerCase()),
    );
    return got as Map<string, string>; // a transaction refused alone has thrown
  }

  return {
    blocksWithSenders,
    transactionSenders,
    async blockNumber() {
      return quantity(await call('eth_blockNumber', []), 'eth_blockNumber result');
    },
    scanLogs,
    async blockTimeMs(block) {
      const cached = headers.get(block);
      if (cached !== undefined) return cached;
      const result = await call('eth_getBlockByNumber', [hex(block), false]);
      if (result === null) throw new UpstreamError(OG_RPC, `eth_getBlockByNumber: block ${block} not found`);
      if (typeof result !== 'object') throw new UpstreamError(OG_RPC, 'eth_getBlockByNumber result is not a block');
      const header = result as { number?: unknown; timestamp?: unknown };
      if (quantity(header.number, 'number') !== block)
        throw new UpstreamError(OG_RPC, `eth_getBlockByNumber answered another block than ${block}`);
      const ms = quantity(header.timestamp, 'timestamp') * 1000;
      cacheHeader(block, ms);
      return ms;
    },
  };
}
